"""Single-op int8 TFLite models written directly with TFLite's schema (tflite-micro's
generated flatbuffer bindings), for ops the TF converter does not emit as int8 (CUMSUM,
FILL, ZEROS_LIKE, SHAPE, ...) or whose int8 version tf.lite.Interpreter cannot load
(DEPTH_TO_SPACE, REVERSE_V2). TFLM runs them; nothing here depends on rnnedge's reader.

May import: numpy, flatbuffers and tflite_micro.
"""

from dataclasses import dataclass

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

_TYPES = {np.dtype(np.int8): schema.TensorType.INT8, np.dtype(np.int32): schema.TensorType.INT32,
          np.dtype(np.int64): schema.TensorType.INT64,
          np.dtype(np.float32): schema.TensorType.FLOAT32, np.dtype(np.bool_): schema.TensorType.BOOL}


@dataclass
class Spec:
    """One tensor: shape, dtype, (scale, zero point) or None, constant data or None."""

    shape: tuple
    dtype: type = np.int8
    quant: tuple | None = None
    data: np.ndarray | None = None


def single_op_model(opcode: str, inputs: list, outputs: list, options=None,
                    options_type: str | None = None) -> bytes:
    """A one-subgraph model running builtin `opcode` on `inputs` (Specs; constants carry
    data) producing `outputs`; graph inputs are the non-constant inputs, in order.
    `options` is a schema *OptionsT object and `options_type` its BuiltinOptions name."""
    model = schema.ModelT()
    model.version = 3
    code = schema.OperatorCodeT()
    code.builtinCode = getattr(schema.BuiltinOperator, opcode)
    code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    code.version = 1
    model.operatorCodes = [code]
    model.buffers = [schema.BufferT()]
    graph = schema.SubGraphT()
    graph.tensors = []
    for i, spec in enumerate(list(inputs) + list(outputs)):
        t = schema.TensorT()
        t.shape = list(spec.shape)
        t.type = _TYPES[np.dtype(spec.dtype)]
        t.name = f"t{i}".encode()
        if spec.quant is not None:
            q = schema.QuantizationParametersT()
            q.scale, q.zeroPoint = [float(spec.quant[0])], [int(spec.quant[1])]
            t.quantization = q
        t.buffer = 0
        if spec.data is not None:
            buf = schema.BufferT()
            buf.data = np.ascontiguousarray(spec.data, dtype=spec.dtype).tobytes()
            t.buffer = len(model.buffers)
            model.buffers.append(buf)
        graph.tensors.append(t)
    n_in = len(inputs)
    op = schema.OperatorT()
    op.opcodeIndex = 0
    op.inputs = list(range(n_in))
    op.outputs = list(range(n_in, n_in + len(outputs)))
    if options is not None:
        op.builtinOptionsType = getattr(schema.BuiltinOptions, options_type)
        op.builtinOptions = options
    graph.operators = [op]
    graph.inputs = [i for i, s in enumerate(inputs) if s.data is None]
    graph.outputs = op.outputs
    model.subgraphs = [graph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def options(name: str, **fields):
    """A schema `name`T options object with `fields` set (camelCase names)."""
    obj = getattr(schema, f"{name}T")()
    for key, value in fields.items():
        setattr(obj, key, value)
    return obj
