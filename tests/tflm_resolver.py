"""The builtin operators TFLite Micro's op resolver registers, asked of the installed
tflite_micro package itself (its Python interpreter's PythonOpsResolver), not a hand list.

How: for every BuiltinOperator of TFLM's schema, a one-operator model is handed to
`runtime.Interpreter.from_bytes` in a forked child whose stderr goes to a file. TFLM's
allocator looks each operator's registration up before anything else and, when the resolver
has none, prints "Failed to get registration from op code ..." and stops; any other outcome
(the op's parser or Prepare rejecting the deliberately empty operands, or even crashing on
them) happens after a successful look-up, so the op is registered. Each probe runs in its own
forked child so that a crash cannot take the caller down; the whole probe runs in a fresh
interpreter (`registered_builtins`), so the fork never copies a process holding TensorFlow's
threads.

Run as a script it prints the registered builtins without a rnnedge C kernel (what the
"TFLM builtins without a rnnedge kernel" list of docs/firmware.md must name).
May import: the standard library, flatbuffers, tflite_micro and (as a script) rnnedge.op_table.
"""

import json
import os
import subprocess
import sys
import tempfile

NOT_REGISTERED = b"Failed to get registration from op code"


def _one_op_model(schema, code: int) -> bytes:
    """A flatbuffer model with one operator of builtin `code` on two int8 [1] tensors."""
    import flatbuffers
    model = schema.ModelT()
    model.version = 3
    opcode = schema.OperatorCodeT()
    opcode.builtinCode = code
    opcode.deprecatedBuiltinCode = min(code, 127)  # 127: PLACEHOLDER_FOR_GREATER_OP_CODES
    opcode.version = 1
    model.operatorCodes = [opcode]
    tensors = []
    for name in (b"x", b"y"):
        t = schema.TensorT()
        t.shape, t.type, t.buffer, t.name = [1], schema.TensorType.INT8, 0, name
        tensors.append(t)
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0], [1]
    graph = schema.SubGraphT()
    graph.tensors, graph.inputs, graph.outputs, graph.operators = tensors, [0], [1], [op]
    model.subgraphs, model.buffers = [graph], [schema.BufferT()]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), b"TFL3")
    return bytes(builder.Output())


def probe() -> list:
    """The registered builtin names (run in a process without TensorFlow loaded)."""
    from tflite_micro.python.tflite_micro import runtime
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
    names = sorted(k for k in vars(schema.BuiltinOperator) if not k.startswith("_"))
    registered = []
    for name in names:
        data = _one_op_model(schema, getattr(schema.BuiltinOperator, name))
        pid = os.fork()
        if pid == 0:  # child: report through the exit status only
            log = tempfile.TemporaryFile()
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                runtime.Interpreter.from_bytes(data, arena_size=4096)
            except Exception:  # the empty operands are meant to be rejected
                pass
            log.seek(0)
            os._exit(3 if NOT_REGISTERED in log.read() else 0)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) or os.WEXITSTATUS(status) == 0:
            registered.append(name)
    return registered


def registered_builtins() -> list:
    """`probe()` run in a fresh Python interpreter (see the module docstring)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import tflm_resolver; "
            "print(json.dumps(tflm_resolver.probe()))")
    proc = subprocess.run([sys.executable, "-c", code, os.path.dirname(__file__)],
                          capture_output=True, text=True, check=True, timeout=600)
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    from rnnedge import op_table
    from rnnedge.firmware_sim.control import Subgraphs

    covered = set(op_table.names(kernel=True)) | set(Subgraphs.HANDLED)
    for name in sorted(set(registered_builtins()) - covered):
        print(name)
