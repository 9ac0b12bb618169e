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


def _options(op):
    """(BuiltinOptions type, options object) for an op."""
    o = op.options
    k = op.kind
    if k in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        opt = fb.Conv2DOptionsT() if k == "CONV_2D" else fb.DepthwiseConv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = _PAD[o["padding"]], o["stride_h"], o["stride_w"]
        opt.dilationHFactor, opt.dilationWFactor = o["dilation_h"], o["dilation_w"]
        opt.fusedActivationFunction = _ACT[o["activation"]]
        if k == "DEPTHWISE_CONV_2D":
            opt.depthMultiplier = o["depth_multiplier"]
            return fb.BuiltinOptions.DepthwiseConv2DOptions, opt
        return fb.BuiltinOptions.Conv2DOptions, opt
    if k == "FULLY_CONNECTED":
        opt = fb.FullyConnectedOptionsT()
        opt.fusedActivationFunction = _ACT[o["activation"]]
        opt.keepNumDims = o.get("keep_num_dims", False)
        return fb.BuiltinOptions.FullyConnectedOptions, opt
    if k in ("ADD", "SUB", "MUL"):
        opt = {"ADD": fb.AddOptionsT, "SUB": fb.SubOptionsT, "MUL": fb.MulOptionsT}[k]()
        opt.fusedActivationFunction = _ACT[o["activation"]]
        return getattr(fb.BuiltinOptions, k.title() + "Options"), opt
    if k == "CONCATENATION":
        opt = fb.ConcatenationOptionsT()
        opt.axis, opt.fusedActivationFunction = o["axis"], _ACT[o["activation"]]
        return fb.BuiltinOptions.ConcatenationOptions, opt
    if k in ("SPLIT", "SPLIT_V"):
        opt = fb.SplitOptionsT() if k == "SPLIT" else fb.SplitVOptionsT()
        opt.numSplits = o["num_splits"]
        return (fb.BuiltinOptions.SplitOptions if k == "SPLIT"
                else fb.BuiltinOptions.SplitVOptions), opt
    if k in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        opt = fb.Pool2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = _PAD[o["padding"]], o["stride_h"], o["stride_w"]
        opt.filterHeight, opt.filterWidth = o["filter_h"], o["filter_w"]
        opt.fusedActivationFunction = _ACT[o["activation"]]
        return fb.BuiltinOptions.Pool2DOptions, opt
    if k == "RESHAPE":
        opt = fb.ReshapeOptionsT()
        opt.newShape = list(o["new_shape"])
        return fb.BuiltinOptions.ReshapeOptions, opt
    if k == "STRIDED_SLICE":
        opt = fb.StridedSliceOptionsT()
        opt.beginMask, opt.endMask = o.get("begin_mask", 0), o.get("end_mask", 0)
        opt.shrinkAxisMask = o.get("shrink_axis_mask", 0)
        return fb.BuiltinOptions.StridedSliceOptions, opt
    if k == "GATHER":
        opt = fb.GatherOptionsT()
        opt.axis, opt.batchDims = o["axis"], o.get("batch_dims", 0)
        return fb.BuiltinOptions.GatherOptions, opt
    if k == "PAD":
        return fb.BuiltinOptions.PadOptions, fb.PadOptionsT()
    if k == "TRANSPOSE":
        return fb.BuiltinOptions.TransposeOptions, fb.TransposeOptionsT()
    if k == "RESIZE_NEAREST_NEIGHBOR":
        opt = fb.ResizeNearestNeighborOptionsT()
        opt.halfPixelCenters = o["half_pixel_centers"]
        opt.alignCorners = o.get("align_corners", False)
        return fb.BuiltinOptions.ResizeNearestNeighborOptions, opt
    if k == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        opt = fb.UnidirectionalSequenceLSTMOptionsT()
        opt.fusedActivationFunction = _ACT[o["activation"]]
        opt.cellClip, opt.projClip, opt.timeMajor = 0.0, 0.0, o["time_major"]
        opt.asymmetricQuantizeInputs = False
        return fb.BuiltinOptions.UnidirectionalSequenceLSTMOptions, opt
    return _more_options(k, o)


def _more_options(k, o):
    """Options of the builtins the general ONNX lowering adds (lowerers_*.py)."""
    if k == "RESIZE_BILINEAR":
        opt = fb.ResizeBilinearOptionsT()
        opt.halfPixelCenters, opt.alignCorners = o["half_pixel_centers"], o["align_corners"]
        return fb.BuiltinOptions.ResizeBilinearOptions, opt
    if k == "TRANSPOSE_CONV":
        opt = fb.TransposeConvOptionsT()
        opt.padding, opt.strideH, opt.strideW = _PAD[o["padding"]], o["stride_h"], o["stride_w"]
        opt.fusedActivationFunction = _ACT[o["activation"]]
        return fb.BuiltinOptions.TransposeConvOptions, opt
    if k == "BATCH_MATMUL":
        opt = fb.BatchMatMulOptionsT()
        opt.adjX, opt.adjY = o["adj_x"], o["adj_y"]
        return fb.BuiltinOptions.BatchMatMulOptions, opt
    if k in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN"):
        opt = fb.ReducerOptionsT()
        opt.keepDims = o["keep_dims"]
        return fb.BuiltinOptions.ReducerOptions, opt
    if k == "SOFTMAX":
        opt = fb.SoftmaxOptionsT()
        opt.beta = o["beta"]
        return fb.BuiltinOptions.SoftmaxOptions, opt
    if k == "LEAKY_RELU":
        opt = fb.LeakyReluOptionsT()
        opt.alpha = o["alpha"]
        return fb.BuiltinOptions.LeakyReluOptions, opt
    if k == "GELU":
        opt = fb.GeluOptionsT()
        opt.approximate = o["approximate"]
        return fb.BuiltinOptions.GeluOptions, opt
    if k == "DIV":
        opt = fb.DivOptionsT()
        opt.fusedActivationFunction = _ACT[o["activation"]]
        return fb.BuiltinOptions.DivOptions, opt
    if k == "L2_NORMALIZATION":
        opt = fb.L2NormOptionsT()
        opt.fusedActivationFunction = _ACT["NONE"]
        return fb.BuiltinOptions.L2NormOptions, opt
    if k == "DEPTH_TO_SPACE":
        opt = fb.DepthToSpaceOptionsT()
        opt.blockSize = o["block_size"]
        return fb.BuiltinOptions.DepthToSpaceOptions, opt
    if k == "MIRROR_PAD":
        opt = fb.MirrorPadOptionsT()
        opt.mode = getattr(fb.MirrorPadMode, o["mode"])
        return fb.BuiltinOptions.MirrorPadOptions, opt
    simple = {"LOG_SOFTMAX": "LogSoftmaxOptions", "PADV2": "PadV2Options",
              "MAXIMUM": "MaximumMinimumOptions", "MINIMUM": "MaximumMinimumOptions",
              "HARD_SWISH": "HardSwishOptions", "ABS": "AbsOptions", "NEG": "NegOptions",
              "EXP": "ExpOptions", "QUANTIZE": "QuantizeOptions"}
    if k in simple:
        return getattr(fb.BuiltinOptions, simple[k]), getattr(fb, simple[k] + "T")()
    return fb.BuiltinOptions.NONE, None


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
