"""Write a quantised lowered graph as a TFLite flatbuffer (schema v3).

Why: writing the flatbuffer ourselves keeps every byte under rnnedge's control: one buffer per
constant tensor and one constant tensor per ONNX initializer (a recurrent weight used by 80
steps is stored once), no metadata that depends on the environment (the same graph gives the
same bytes), buffer data aligned to 16 bytes as TFLM and Vela expect, and exactly the ops the
lowering chose. Uses the flatbuffers object API from ai_edge_litert's generated schema
(no TensorFlow import).

May import: numpy, flatbuffers, ai_edge_litert.schema_py_generated,
rnnedge.export.lowering, rnnedge.export.quantize.
"""

import numpy as np
from ai_edge_litert import schema_py_generated as fb

ALIGN = 16
SCHEMA_VERSION = 3
DESCRIPTION = "rnnedge int8 export"

_ACT = {"NONE": fb.ActivationFunctionType.NONE, "RELU": fb.ActivationFunctionType.RELU,
        "RELU6": fb.ActivationFunctionType.RELU6, "TANH": fb.ActivationFunctionType.TANH}
_PAD = {"SAME": fb.Padding.SAME, "VALID": fb.Padding.VALID}
_TYPE = {"act": fb.TensorType.INT8, "operand": fb.TensorType.INT8, "weight": fb.TensorType.INT8,
         "lowest": fb.TensorType.INT8,
         "bias": fb.TensorType.INT32, "int32": fb.TensorType.INT32,
         "state16": fb.TensorType.INT16, "gate16": fb.TensorType.INT16}


_DATA_TYPE = {np.dtype(np.int8): fb.TensorType.INT8, np.dtype(np.int16): fb.TensorType.INT16,
              np.dtype(np.int32): fb.TensorType.INT32, np.dtype(np.int64): fb.TensorType.INT64}


def _tensor_type(graph, t):
    """The schema type: a constant's from its quantised data, an activation's the graph's
    activation type (INT8, or INT16 in 16x8 mode)."""
    if t.data is not None and t.data.dtype in _DATA_TYPE:
        return _DATA_TYPE[t.data.dtype]
    if t.role in ("act", "operand", "lowest") and graph.activation_type == "INT16":
        return fb.TensorType.INT16
    return _TYPE[t.role]


class _AlignedBuffer(fb.BufferT):
    """A BufferT whose data vector is aligned to 16 bytes."""

    def Pack(self, builder):
        """Pack the buffer with its data vector aligned to ALIGN bytes."""
        data = None
        if self.data is not None:
            payload = self.data.tobytes()
            builder.StartVector(1, len(payload), ALIGN)
            builder.head -= len(payload)
            builder.Bytes[builder.head:builder.head + len(payload)] = payload
            builder.vectorNumElems = len(payload)
            data = builder.EndVector()
        fb.BufferStart(builder)
        if data is not None:
            fb.BufferAddData(builder, data)
        return fb.BufferEnd(builder)


def _activation(o):
    return _ACT[o["activation"]]


_WINDOW = {"padding": lambda o: _PAD[o["padding"]], "strideH": "stride_h", "strideW": "stride_w"}
_CONV = {**_WINDOW, "dilationHFactor": "dilation_h", "dilationWFactor": "dilation_w",
         "fusedActivationFunction": _activation}
_POOL = {**_WINDOW, "filterHeight": "filter_h", "filterWidth": "filter_w",
         "fusedActivationFunction": _activation}
_FUSED = {"fusedActivationFunction": _activation}
_OPTIONS = {
    "CONV_2D": ("Conv2DOptions", _CONV),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", {**_CONV, "depthMultiplier": "depth_multiplier"}),
    "FULLY_CONNECTED": ("FullyConnectedOptions", {**_FUSED, "keepNumDims": ("keep_num_dims", False)}),
    "ADD": ("AddOptions", _FUSED), "SUB": ("SubOptions", _FUSED), "MUL": ("MulOptions", _FUSED),
    "DIV": ("DivOptions", _FUSED),
    "CONCATENATION": ("ConcatenationOptions", {"axis": "axis", **_FUSED}),
    "SPLIT": ("SplitOptions", {"numSplits": "num_splits"}),
    "SPLIT_V": ("SplitVOptions", {"numSplits": "num_splits"}),
    "AVERAGE_POOL_2D": ("Pool2DOptions", _POOL), "MAX_POOL_2D": ("Pool2DOptions", _POOL),
    "RESHAPE": ("ReshapeOptions", {"newShape": lambda o: list(o["new_shape"])}),
    "STRIDED_SLICE": ("StridedSliceOptions", {"beginMask": ("begin_mask", 0), "endMask": ("end_mask", 0),
                                              "shrinkAxisMask": ("shrink_axis_mask", 0)}),
    "GATHER": ("GatherOptions", {"axis": "axis", "batchDims": ("batch_dims", 0)}),
    "RESIZE_NEAREST_NEIGHBOR": ("ResizeNearestNeighborOptions", {
        "halfPixelCenters": "half_pixel_centers", "alignCorners": ("align_corners", False)}),
    "RESIZE_BILINEAR": ("ResizeBilinearOptions", {"halfPixelCenters": "half_pixel_centers",
                                                  "alignCorners": "align_corners"}),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ("UnidirectionalSequenceLSTMOptions", {
        **_FUSED, "cellClip": lambda o: 0.0, "projClip": lambda o: 0.0, "timeMajor": "time_major",
        "asymmetricQuantizeInputs": lambda o: False}),
    "TRANSPOSE_CONV": ("TransposeConvOptions", {**_WINDOW, **_FUSED}),
    "BATCH_MATMUL": ("BatchMatMulOptions", {"adjX": "adj_x", "adjY": "adj_y"}),
    **{k: ("ReducerOptions", {"keepDims": "keep_dims"})
       for k in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN")},
    "SOFTMAX": ("SoftmaxOptions", {"beta": "beta"}),
    "LEAKY_RELU": ("LeakyReluOptions", {"alpha": "alpha"}),
    "GELU": ("GeluOptions", {"approximate": "approximate"}),
    "L2_NORMALIZATION": ("L2NormOptions", {"fusedActivationFunction": lambda o: _ACT["NONE"]}),
    "DEPTH_TO_SPACE": ("DepthToSpaceOptions", {"blockSize": "block_size"}),
    "MIRROR_PAD": ("MirrorPadOptions", {"mode": lambda o: getattr(fb.MirrorPadMode, o["mode"])}),
    **{k: (name, {}) for k, name in (
        ("PAD", "PadOptions"), ("TRANSPOSE", "TransposeOptions"), ("LOG_SOFTMAX", "LogSoftmaxOptions"),
        ("PADV2", "PadV2Options"), ("MAXIMUM", "MaximumMinimumOptions"),
        ("MINIMUM", "MaximumMinimumOptions"), ("HARD_SWISH", "HardSwishOptions"), ("ABS", "AbsOptions"),
        ("NEG", "NegOptions"), ("EXP", "ExpOptions"), ("QUANTIZE", "QuantizeOptions"))},
}
"""builtin -> (the schema's options table, {its field: where the value comes from}): an op
option key (required), (key, default), or a function of the op's options. Builtins absent
here take no options table."""


def _options(op):
    """(BuiltinOptions type, options object) for an op."""
    if op.kind not in _OPTIONS:
        return fb.BuiltinOptions.NONE, None
    table, fields = _OPTIONS[op.kind]
    options = getattr(fb, table + "T")()
    for field, source in fields.items():
        value = (op.options[source] if isinstance(source, str) else
                 op.options.get(*source) if isinstance(source, tuple) else source(op.options))
        setattr(options, field, value)
    return getattr(fb.BuiltinOptions, table), options


def _quant(qp):
    """QParams -> the schema's QuantizationParametersT."""
    q = fb.QuantizationParametersT()
    q.scale = [float(s) for s in qp.scale]
    q.zeroPoint = [int(z) for z in qp.zero_point]
    q.quantizedDimension = int(qp.axis)
    return q


def write(graph, params):
    """Serialise the quantised graph; returns the .tflite bytes."""
    model = fb.ModelT()
    model.version = SCHEMA_VERSION
    model.description = DESCRIPTION
    model.buffers = [_AlignedBuffer()]            # buffer 0: the empty sentinel
    sub = fb.SubGraphT()
    sub.name = "main"
    index = {}
    order = []
    for op in graph.ops:                          # tensors in first-use order (deterministic)
        for n in op.inputs + op.outputs + op.options.get("intermediates", []):
            if n is not None and n not in index:
                index[n] = len(order)
                order.append(n)
    for n in graph.inputs + graph.outputs:
        if n not in index:
            index[n] = len(order)
            order.append(n)
    sub.tensors = []
    buffer_of = {}
    for n in order:
        t = graph.tensors[n]
        ft = fb.TensorT()
        ft.name = n
        ft.shape = [int(d) for d in t.shape]
        ft.type = _tensor_type(graph, t)
        ft.buffer = 0
        ft.isVariable = t.variable
        if t.data is not None:
            payload = np.ascontiguousarray(t.data)
            key = payload.tobytes()
            if key not in buffer_of:                # identical constant data: one buffer
                buffer_of[key] = len(model.buffers)
                buf = _AlignedBuffer()
                buf.data = payload
                model.buffers.append(buf)
            ft.buffer = buffer_of[key]
        if n in params:
            ft.quantization = _quant(params[n])
        sub.tensors.append(ft)
    codes = []
    sub.operators = []
    for op in graph.ops:
        code = getattr(fb.BuiltinOperator, op.kind)
        if code not in codes:
            codes.append(code)
        fop = fb.OperatorT()
        fop.opcodeIndex = codes.index(code)
        fop.inputs = [-1 if n is None else index[n] for n in op.inputs]  # -1: optional, absent
        fop.outputs = [index[n] for n in op.outputs]
        fop.builtinOptionsType, fop.builtinOptions = _options(op)
        if op.options.get("intermediates"):
            fop.intermediates = [index[n] for n in op.options["intermediates"]]
        sub.operators.append(fop)
    sub.inputs = [index[n] for n in graph.inputs]
    sub.outputs = [index[n] for n in graph.outputs]
    model.subgraphs = [sub]
    model.operatorCodes = []
    for code in codes:
        oc = fb.OperatorCodeT()
        oc.builtinCode = code
        oc.deprecatedBuiltinCode = min(code, fb.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
        oc.version = _op_version(code)
        model.operatorCodes.append(oc)
    builder = __import__("flatbuffers").Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _op_version(code):
    """Op versions for int8 kernels (the versions TFLiteConverter writes for int8 models)."""
    b = fb.BuiltinOperator
    return {b.CONV_2D: 3, b.DEPTHWISE_CONV_2D: 3, b.FULLY_CONNECTED: 4, b.ADD: 2, b.SUB: 2,
            b.MUL: 2, b.CONCATENATION: 2, b.SPLIT: 2, b.SPLIT_V: 2, b.AVERAGE_POOL_2D: 2,
            b.MAX_POOL_2D: 2, b.TANH: 2, b.LOGISTIC: 2, b.RESHAPE: 1, b.STRIDED_SLICE: 2,
            b.PAD: 2, b.RESIZE_NEAREST_NEIGHBOR: 2, b.RELU: 2, b.RELU6: 2,
            b.RELU_N1_TO_1: 1, b.QUANTIZE: 2, b.TRANSPOSE: 2,
            b.TRANSPOSE_CONV: 3, b.RESIZE_BILINEAR: 3, b.SOFTMAX: 2, b.LOG_SOFTMAX: 2,
            b.MEAN: 2, b.SUM: 2, b.REDUCE_MAX: 2, b.REDUCE_MIN: 2, b.MAXIMUM: 2, b.MINIMUM: 2,
            b.PADV2: 2, b.DIV: 2, b.GELU: 2, b.LEAKY_RELU: 1, b.ABS: 2, b.RSQRT: 2,
            b.BATCH_MATMUL: 1, b.GATHER: 1, b.MIRROR_PAD: 2, b.L2_NORMALIZATION: 2}.get(code, 1)
