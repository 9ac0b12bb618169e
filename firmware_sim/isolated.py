"""Third-party interpreters (tf.lite, tflite-micro) run in a child process.

TensorFlow Lite and tflite-micro trust the model file: a constant graph input, a cycle or bad
quantisation parameters that pass rnnedge's reader can make them segfault or abort, which
would kill the calling process. So the interpreter lives in one child process per backend
(`python -m rnnedge.firmware_sim.isolated ENGINE MODEL [ARENA]`), started once and reused for
every batch, and a crash there becomes one line:
`error: TFLite crashed on this model (signal 11) ...`.

Protocol over the child's stdin/stdout: the child answers one JSON line when the model is
loaded; then for each request (a JSON line {"arrays": [[dtype, shape], ...]} followed by the
arrays' raw bytes, each holding N samples stacked on axis 0) it runs the N samples one by one
and answers the same way with the stacked outputs (the header also holds "cpu_s": the child's
CPU time over the N invocations, which benchmarks read as `ChildInterpreter.cpu_s`), or
{"error": "..."} for a Python-level failure. Only numeric dtypes cross (no pickles). The
child's stderr goes to a temporary file and feeds the error message.

`write_arrays` / `read_arrays` are that framing, also used by the parallel runner (parallel.py).

May import: numpy, the standard library, rnnedge.errors; the child imports tensorflow or
tflite_micro.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

from rnnedge.errors import RnnedgeError

ENGINES = {"tflite": "TFLite", "tflite-default": "TFLite", "tflm": "tflite-micro"}
_INFO_LOG = re.compile(r"[IW]\d{4} ")  # absl/glog info and warning lines
TIMEOUT_S = 600  # per request; a hung interpreter is killed and reported


class ChildInterpreter:
    """One child process running `engine` on `model_path`; call it with stacked inputs."""

    def __init__(self, engine: str, model_path, arena_size: int = 0, timeout: float = TIMEOUT_S):
        self.label = ENGINES[engine]
        self.timeout = timeout
        self.cpu_s = None  # the child's CPU seconds of the last call
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "rnnedge.firmware_sim.isolated", engine,
             os.fspath(model_path), str(int(arena_size))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        self._reply("cannot load the model")

    def __call__(self, arrays: list) -> list:
        """Outputs for `arrays` (one array of N stacked samples per graph input)."""
        try:
            write_arrays(self._proc.stdin, arrays)
        except OSError:
            pass  # the child died: _reply reports how
        header = self._reply("failed to run the model")
        self.cpu_s = header.get("cpu_s")
        return read_arrays(self._proc.stdout, header)

    def close(self):
        """Stop the child (idempotent)."""
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        if not self._stderr.closed:
            self._stderr.close()

    __del__ = close

    def _reply(self, doing: str) -> dict:
        """The child's next JSON line; a crash, hang or error becomes an RnnedgeError."""
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            ready = sel.select(self.timeout)
        if not ready:
            self.close()
            raise RnnedgeError(f"{self.label} did not finish within {self.timeout:.0f} s on this "
                               "model")
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait()
            detail = self._stderr_tail()
            self.close()
            if code < 0:
                raise RnnedgeError(f"{self.label} crashed on this model (signal {-code}): the "
                                   "model is malformed or unsupported"
                                   + (f" ({detail})" if detail else ""))
            raise RnnedgeError(f"{self.label} {doing}: it exited with code {code}"
                               + (f" ({detail})" if detail else ""))
        reply = json.loads(line)
        if "error" in reply:
            raise RnnedgeError(f"{self.label} {doing}: {reply['error']}")
        return reply

    def _stderr_tail(self) -> str:
        """The last meaningful line the child printed on stderr."""
        self._stderr.seek(0)
        text = self._stderr.read()[-4000:].decode("utf-8", "replace")
        lines = [ln.strip() for ln in text.splitlines()
                 if ln.strip() and not ln.startswith((" ", "Traceback", "\t", "WARNING: All log"))
                 and "Warning" not in ln and not _INFO_LOG.match(ln)]
        return lines[-1][:200] if lines else ""


def write_arrays(stream, arrays, **extra):
    """One JSON header line naming each array's dtype and shape (and the `extra` keys), then
    their bytes."""
    arrays = [np.ascontiguousarray(a) for a in arrays]
    header = {"arrays": [[a.dtype.str, list(a.shape)] for a in arrays], **extra}
    stream.write((json.dumps(header) + "\n").encode())
    for a in arrays:
        stream.write(a.reshape(-1).view(np.uint8).data)  # no copy; empty arrays too
    stream.flush()


def read_arrays(stream, header) -> list:
    """The arrays announced by `header` (numeric dtypes only), read from `stream`."""
    out = []
    for dtype, shape in header["arrays"]:
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise RnnedgeError(f"refused to exchange an array of dtype {dtype}")
        count = int(np.prod(shape, dtype=np.int64))
        data = stream.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise RnnedgeError("the interpreter process ended in the middle of an answer")
        out.append(np.frombuffer(data, dtype).reshape(shape))
    return out


def _first_line(exc) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


class _TfliteEngine:
    """tf.lite.Interpreter with the reference (BUILTIN_REF) or default kernels."""

    def __init__(self, path, reference):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import tensorflow as tf
        resolver = tf.lite.experimental.OpResolverType
        self.interpreter = tf.lite.Interpreter(
            model_path=path,
            experimental_op_resolver_type=resolver.BUILTIN_REF if reference else resolver.AUTO)
        self.interpreter.allocate_tensors()
        self.inputs = [(d["index"], tuple(d["shape"]), d["dtype"])
                       for d in self.interpreter.get_input_details()]
        self.outputs = [d["index"] for d in self.interpreter.get_output_details()]

    def invoke(self, sample):
        for (index, _, _), value in zip(self.inputs, sample):
            self.interpreter.set_tensor(index, value)
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(i) for i in self.outputs]


class _TflmEngine:
    """tflite-micro's host interpreter with an arena of `arena` bytes."""

    def __init__(self, path, arena):
        from tflite_micro import runtime
        self.interpreter = runtime.Interpreter.from_file(path, arena_size=arena)
        self.inputs = []
        while True:
            try:
                d = self.interpreter.get_input_details(len(self.inputs))
            except (IndexError, RuntimeError, ValueError):
                break
            self.inputs.append((len(self.inputs), tuple(d["shape"]), d["dtype"]))
        self.n_outputs = 0
        while True:
            try:
                self.interpreter.get_output_details(self.n_outputs)
            except (IndexError, RuntimeError, ValueError):
                break
            self.n_outputs += 1

    def invoke(self, sample):
        for (index, _, _), value in zip(self.inputs, sample):
            self.interpreter.set_input(value, index)
        self.interpreter.invoke()
        return [np.array(self.interpreter.get_output(i)) for i in range(self.n_outputs)]


def _serve(engine, path, arena):
    """The child's loop (see module docstring)."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # library prints must not corrupt the protocol

    def send(obj):
        out.write((json.dumps(obj) + "\n").encode())
        out.flush()
    try:
        runner = _TflmEngine(path, arena) if engine == "tflm" else \
            _TfliteEngine(path, reference=engine == "tflite")
    except Exception as exc:  # the interpreter's own refusal, reported to the parent
        send({"error": _first_line(exc)})
        return
    send({"ready": True})
    source = sys.stdin.buffer
    while True:
        line = source.readline()
        if not line:
            return
        arrays = read_arrays(source, json.loads(line))
        try:
            results, start = None, time.process_time()
            for i in range(len(arrays[0]) if arrays else 0):
                sample = [np.asarray(a[i], dtype).reshape(shape)
                          for a, (_, shape, dtype) in zip(arrays, runner.inputs)]
                outputs = runner.invoke(sample)
                if results is None:
                    results = [np.empty((len(arrays[0]),) + np.shape(o), np.asarray(o).dtype)
                               for o in outputs]
                for r, o in zip(results, outputs):
                    r[i] = o
        except Exception as exc:  # reported to the parent as one line
            send({"error": _first_line(exc)})
            continue
        write_arrays(out, results or [], cpu_s=time.process_time() - start)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
    _serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
