"""Parse and validate a .tflite flatbuffer into `rnnedge.tflite.model` objects.

Validation comes first and is exhaustive: file identifier, every offset and vtable in range
(flatbuf.py), buffer, tensor and opcode indices, shapes (no negative dims; -1 only in
`shape_signature`), element counts and constant-data sizes. Anything wrong raises
`RnnedgeError` with one line. Imports numpy, rnnedge.errors and this package's flatbuf,
schema and model modules; never tensorflow.
"""

import os

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.tflite import schema
from rnnedge.tflite.flatbuf import Buf, Table
from rnnedge.tflite.model import Buffer, Metadata, Model, Operator, Quantization, Subgraph, Tensor

MAX_ELEMENTS = 1 << 31  # larger tensors cannot exist on a microcontroller (or in TFLM)
MAX_RANK = 16


def read_model(source) -> Model:
    """Read a model from a path (str or os.PathLike) or from bytes; validate and parse it."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, what = bytes(source), "model"
    else:
        path = os.fspath(source)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise RnnedgeError(f"cannot read {path}: {exc.strerror or exc}") from None
        what = os.path.basename(path)
    return _parse(Buf(data, what))


def _parse(buf: Buf) -> Model:
    if buf.size < 8:
        buf.fail(f"only {buf.size} bytes; a TFLite flatbuffer has at least 8")
    if bytes(buf.data[4:8]) != schema.FILE_IDENTIFIER:
        buf.fail("file identifier is not 'TFL3' (not a TFLite model)")
    root = buf.table(buf.uoffset(0, "root table"), "Model")
    buffers = _buffers(buf, root)
    opcodes = [_opcode(t) for t in root.tables(schema.MODEL["operator_codes"], "operator_codes")]
    subgraph_tables = root.tables(schema.MODEL["subgraphs"], "subgraphs")
    if not subgraph_tables:
        buf.fail("model has no subgraphs")
    subgraphs = tuple(_subgraph(buf, i, t, buffers, opcodes)
                      for i, t in enumerate(subgraph_tables))
    metadata = []
    for i, t in enumerate(root.tables(schema.MODEL["metadata"], "metadata")):
        index = t.scalar(schema.METADATA["buffer"], "I", 0)
        if index >= len(buffers):
            buf.fail(f"metadata[{i}] refers to buffer {index} of {len(buffers)}")
        data = buffers[index].data
        metadata.append(Metadata(t.string(schema.METADATA["name"], "metadata name") or "", index,
                                 b"" if data is None else data.tobytes()))
    return Model(version=root.scalar(schema.MODEL["version"], "I", 0),
                 description=root.string(schema.MODEL["description"], "description") or "",
                 subgraphs=subgraphs, buffers=tuple(buffers), metadata=tuple(metadata),
                 raw=bytes(buf.data))


def _buffers(buf: Buf, root: Table) -> list:
    out = []
    for i, t in enumerate(root.tables(schema.MODEL["buffers"], "buffers")):
        if t.scalar(schema.BUFFER["offset"], "Q", 0) > 1 or t.scalar(schema.BUFFER["size"], "Q", 0) > 0:
            raise RnnedgeError(f"malformed {buf.what}: buffer {i} is stored outside the "
                               "flatbuffer (the >2 GB model layout), which rnnedge does not read; "
                               "re-export without external buffers")
        span = t.vector_span(schema.BUFFER["data"], f"buffer {i} data")
        if span is None or span[1] == 0:
            out.append(Buffer(i, None, None))
            continue
        start, count = span
        buf.check(start, count, f"buffer {i} data")
        out.append(Buffer(i, np.frombuffer(buf.data, np.uint8, count, start), start))
    return out


def _opcode(t: Table) -> tuple:
    deprecated = t.scalar(schema.OPERATOR_CODE["deprecated_builtin_code"], "b", 0)
    code = max(deprecated, t.scalar(schema.OPERATOR_CODE["builtin_code"], "i", 0))
    custom = t.string(schema.OPERATOR_CODE["custom_code"], "custom_code")
    version = t.scalar(schema.OPERATOR_CODE["version"], "i", 1)
    is_custom = code == schema.BUILTIN_OPERATORS.index("CUSTOM") and custom
    name = custom if is_custom else schema.builtin_name(code)
    return name, code, custom, version


def _indices(buf: Buf, values, n: int, what: str, allow_missing: bool) -> tuple:
    if values is None:
        return ()
    low = -1 if allow_missing else 0
    for v in values:
        if v < low or v >= n:
            buf.fail(f"{what} refers to tensor {int(v)}, but the subgraph has {n} tensors")
    return tuple(int(v) for v in values)


def _subgraph(buf: Buf, index: int, t: Table, buffers: list, opcodes: list) -> Subgraph:
    where = f"subgraph {index}"
    tensors = tuple(_tensor(buf, i, tt, buffers, where)
                    for i, tt in enumerate(t.tables(schema.SUBGRAPH["tensors"], f"{where} tensors")))
    n = len(tensors)
    operators = []
    for i, ot in enumerate(t.tables(schema.SUBGRAPH["operators"], f"{where} operators")):
        operators.append(_operator(buf, i, ot, n, opcodes, f"{where} operator {i}"))
    return Subgraph(
        index=index, name=t.string(schema.SUBGRAPH["name"], f"{where} name") or "",
        tensors=tensors, operators=tuple(operators),
        inputs=_indices(buf, t.vector(schema.SUBGRAPH["inputs"], "i", f"{where} inputs"), n,
                        f"{where} inputs", False),
        outputs=_indices(buf, t.vector(schema.SUBGRAPH["outputs"], "i", f"{where} outputs"), n,
                         f"{where} outputs", False))


def _tensor(buf: Buf, index: int, t: Table, buffers: list, where: str) -> Tensor:
    what = f"{where} tensor {index}"
    type_code = t.scalar(schema.TENSOR["type"], "b", 0)
    if type_code not in schema.TENSOR_TYPES:
        buf.fail(f"{what} has unknown tensor type {type_code}")
    type_name, dtype, bits = schema.TENSOR_TYPES[type_code]
    shape_arr = t.vector(schema.TENSOR["shape"], "i", f"{what} shape")
    shape = () if shape_arr is None else tuple(int(d) for d in shape_arr)
    signature = t.vector(schema.TENSOR["shape_signature"], "i", f"{what} shape_signature")
    signature = None if signature is None else tuple(int(d) for d in signature)
    if len(shape) > MAX_RANK:
        buf.fail(f"{what} has rank {len(shape)} (at most {MAX_RANK} supported)")
    if any(d < 0 for d in shape):
        buf.fail(f"{what} has a negative dimension in shape {list(shape)}")
    if signature is not None and any(d < -1 for d in signature):
        buf.fail(f"{what} has an invalid shape_signature {list(signature)}")
    count = 1
    for d in shape:
        count *= d
    if count > MAX_ELEMENTS:
        buf.fail(f"{what} shape {list(shape)} has {count} elements (absurd; limit {MAX_ELEMENTS})")
    buffer_index = t.scalar(schema.TENSOR["buffer"], "I", 0)
    if buffer_index >= len(buffers):
        buf.fail(f"{what} refers to buffer {buffer_index}, but the model has {len(buffers)}")
    name = t.string(schema.TENSOR["name"], f"{what} name") or f"tensor_{index}"
    data = buffers[buffer_index].data
    if data is not None:
        expected = (count * bits + 7) // 8
        if dtype is not None and data.size != expected:
            buf.fail(f"{what} ({name}) holds {data.size} bytes but shape {list(shape)} of "
                     f"{type_name} needs {expected}")
        if dtype is not None:
            data = np.frombuffer(data, dtype=dtype.newbyteorder("<"), count=count).reshape(shape)
    return Tensor(index=index, name=name, shape=shape, type_name=type_name, dtype=dtype,
                  bits=bits, buffer=buffer_index, data=data,
                  quantization=_quantization(t, what),
                  is_variable=bool(t.scalar(schema.TENSOR["is_variable"], "B", 0)),
                  shape_signature=signature)


def _quantization(t: Table, what: str):
    q = t.subtable(schema.TENSOR["quantization"], f"{what} quantization")
    if q is None:
        return None
    scales = q.vector(schema.QUANTIZATION["scale"], "f", f"{what} scales")
    zero_points = q.vector(schema.QUANTIZATION["zero_point"], "q", f"{what} zero points")
    if scales is None or len(scales) == 0:
        return None
    if zero_points is None or not len(zero_points):
        zero_points = np.zeros(1, np.int64)
    return Quantization(scales=scales.astype(np.float32), zero_points=zero_points.astype(np.int64),
                        quantized_dimension=q.scalar(schema.QUANTIZATION["quantized_dimension"], "i", 0))


def _operator(buf: Buf, index: int, t: Table, n: int, opcodes: list, what: str) -> Operator:
    opcode_index = t.scalar(schema.OPERATOR["opcode_index"], "I", 0)
    if opcode_index >= len(opcodes):
        buf.fail(f"{what} uses opcode {opcode_index}, but the model has {len(opcodes)}")
    name, code, custom, version = opcodes[opcode_index]
    options_type = t.scalar(schema.OPERATOR["builtin_options_type"], "B", 0)
    options, options_name = {}, None
    if options_type in schema.BUILTIN_OPTIONS:
        options_name, fields = schema.BUILTIN_OPTIONS[options_type]
        table = t.subtable(schema.OPERATOR["builtin_options"], f"{what} options")
        options = _options(table, fields, what) if table is not None else _defaults(fields)
    return Operator(
        index=index, opcode=name, builtin_code=code, custom_code=custom, version=version,
        inputs=_indices(buf, t.vector(schema.OPERATOR["inputs"], "i", f"{what} inputs"), n,
                        f"{what} inputs", True),
        outputs=_indices(buf, t.vector(schema.OPERATOR["outputs"], "i", f"{what} outputs"), n,
                         f"{what} outputs", False),
        intermediates=_indices(buf, t.vector(schema.OPERATOR["intermediates"], "i",
                                             f"{what} intermediates"), n,
                               f"{what} intermediates", False),
        options=options, options_type=options_name,
        custom_options=_bytes(t.vector(schema.OPERATOR["custom_options"], "B",
                                       f"{what} custom options")))


def _bytes(vector) -> bytes:
    return b"" if vector is None else bytes(np.asarray(vector, np.uint8))


_SCALAR_FMT = {"i8": "b", "i32": "i", "f32": "f", "bool": "B", "act": "b", "pad": "b"}


def _defaults(fields) -> dict:
    out = {}
    for _, key, kind, default in fields:
        if kind == "act":
            out[key] = schema.ACTIVATIONS[default]
        elif kind == "pad":
            out[key] = schema.PADDINGS[default]
        elif kind in ("vec_i32", "str"):
            out[key] = None
        else:
            out[key] = default
    return out


def _options(table: Table, fields, what: str) -> dict:
    out = {}
    for fid, key, kind, default in fields:
        if kind == "vec_i32":
            vec = table.vector(fid, "i", f"{what} {key}")
            out[key] = None if vec is None else [int(v) for v in vec]
            continue
        if kind == "str":
            out[key] = table.string(fid, f"{what} {key}")
            continue
        value = table.scalar(fid, _SCALAR_FMT[kind], default)
        if kind == "act":
            value = schema.ACTIVATIONS[value] if 0 <= value < len(schema.ACTIVATIONS) else f"UNKNOWN_{value}"
        elif kind == "pad":
            value = schema.PADDINGS[value] if 0 <= value < len(schema.PADDINGS) else f"UNKNOWN_{value}"
        elif kind == "bool":
            value = bool(value)
        elif kind == "f32":
            value = float(value)
        out[key] = value
    return out
