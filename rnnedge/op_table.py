"""The one table of what rnnedge knows about each TFLite builtin operator (like Vela's
operation.py): every stage asks it instead of keeping its own list.

`OPS[name]` is an `OpInfo`, keyed by the TFLite builtin name, with
- `category`: conv (weights applied per output position: CONV_2D, DEPTHWISE_CONV_2D,
  FULLY_CONNECTED, TRANSPOSE_CONV, BATCH_MATMUL), recurrent (TFLite's own sequence ops),
  binary (elementwise with two data inputs), activation, math (unary elementwise functions),
  quantize, softmax, pool, reduce, view (RESHAPE-like: same bytes), concat, split, movement
  (copies or reorders bytes), lookup, control (control flow / custom / delegate), compare
  (comparisons and logical ops: bool output);
- `inplace`: what the inplace planner and the firmware may do with it: "view" (the output is
  the input's bytes), "over_input" (the output may overwrite a same-sized input that dies
  there: every output element depends only on the input element at its index), "fuse_add"
  (a residual ADD reading only this op's output may be fused into it, computed row by row),
  "split_view" / "concat" (pieces are contiguous slices of one buffer);
- `same_scale`: the op moves bytes without rescaling in TFLM, so the quantiser gives its int8
  inputs and outputs one scale; `fixed_output`: TFLM's fixed output (scale, zero point);
- `weighted`: constant inputs are parameters (otherwise int32/int64 constants are index
  operands: axes, sizes, paddings); `bias`: input position of an int32 bias, or None;
- `dtypes`: activation types TFLM's reference kernel takes and a rnnedge C kernel runs (what the
  tool's checks allow: INT16 where the 16x8 kernels of rnnedge.kernels.ops.int16 exist);
- `max_inputs`: the most inputs TFLM's kernel accepts (CONCATENATION: 10), or None;
- `kernel`: the rnnedge.kernels.ops class that runs it in the C runtime (None: none does).

The MAC convention (one, MAC_CONVENTION, used by `rnnedge arena`, the export report, the
firmware runtime's counters and the benchmarks): the paper's eq. 17 (Lvov, Smadar, Bezen,
"Recurrent Neural Networks for Still Images"), (k^2*Cin*Cout + Cout)*H*W for a conv, where the
+Cout is the bias addition, counted when the op has a bias; additions and multiplications on
data count one each (the paper counts a residual sum and an average pool's additions); table
look-ups, comparisons and data movement count 0 (the paper counts no ReLU or tanh).
`op_macs` returns None for ops without a formula, so a report can flag them.

TFLM's arena scratch requests (`scratch_requests`, the reference kernels' Prepare calls for
int8/int16 data; CMSIS-NN kernels request more, e.g. im2col buffers, which is not modelled)
and its persistent tail (`tail_estimate`, TAIL_CONVENTION) are here too.

Works on rnnedge.tflite.model objects (Operator, Tensor); imports numpy,
rnnedge.tflm_scratch (the scratch rules) and rnnedge.tflm_tail (the tail model).
"""

from dataclasses import dataclass

import numpy as np

from rnnedge.tflm_scratch import DETECTION_POSTPROCESS, SIGNAL_OPS, kernel_scratch
from rnnedge.tflm_tail import TAIL_CONVENTION  # noqa: F401 (re-exported with the table)
from rnnedge.tflm_tail import tail_estimate as tflm_tail_estimate

MAC_CONVENTION = (
    "paper eq. 17 (Lvov, Smadar, Bezen): CONV_2D (k_h*k_w*C_in*C_out + C_out)*H_out*W_out, "
    "DEPTHWISE_CONV_2D (k_h*k_w*C_out + C_out)*H_out*W_out, FULLY_CONNECTED (in*out + out) per "
    "row, TRANSPOSE_CONV k_h*k_w*C_in*C_out per input position (+ C_out per output position), "
    "the + C_out / + out bias term only when the op has a bias; ADD, SUB, MUL, DIV, "
    "SQUARED_DIFFERENCE, SQUARE one per output element; AVERAGE_POOL_2D and L2_POOL_2D "
    "k_h*k_w per output element; MEAN and SUM one per input element; activations, "
    "SOFTMAX, QUANTIZE, comparisons (MAX_POOL_2D, MAXIMUM, REDUCE_MAX, ...) and data movement "
    "(RESHAPE, CONCATENATION, PAD, ...) 0; other ops unknown (null)")
I16 = ("INT8", "INT16")  # `dtypes` of ops with an int16 (16x8) C kernel beside the int8 one


@dataclass(frozen=True)
class OpInfo:
    """What rnnedge knows about one TFLite builtin (see the module docstring)."""

    name: str
    category: str
    inplace: frozenset = frozenset()
    same_scale: bool = False
    fixed_output: tuple | None = None
    weighted: bool = False
    bias: int | None = None
    dtypes: tuple = ("INT8",)
    max_inputs: int | None = None
    kernel: str | None = None


def _entries():
    """The table rows: (category, names, shared fields, {name: per-op fields})."""
    conv = {"inplace": frozenset({"fuse_add"}), "weighted": True, "bias": 2}
    over = frozenset({"over_input"})
    return [
        ("conv", ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"),
         {**conv, "dtypes": I16},
         {"CONV_2D": {"kernel": "Conv2D"}, "DEPTHWISE_CONV_2D": {"kernel": "DepthwiseConv2D"},
          "FULLY_CONNECTED": {"kernel": "FullyConnected"}}),
        ("conv", ("TRANSPOSE_CONV",), {"weighted": True, "bias": 3},
         {"TRANSPOSE_CONV": {"kernel": "TransposeConv", "dtypes": I16}}),
        ("conv", ("BATCH_MATMUL",), {"weighted": True, "kernel": "BatchMatmul"}, {}),
        ("recurrent", ("SVDF", "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_RNN",
                       "BIDIRECTIONAL_SEQUENCE_LSTM", "RNN", "LSTM"), {"weighted": True},
         {"SVDF": {"kernel": "Svdf", "dtypes": ("INT8", "INT16")},
          "UNIDIRECTIONAL_SEQUENCE_LSTM": {"kernel": "UnidirectionalSequenceLstm",
                                           "dtypes": ("INT8", "INT16")}}),
        ("lookup", ("EMBEDDING_LOOKUP",), {"weighted": True, "kernel": "EmbeddingLookup",
                                           "dtypes": ("INT8", "INT32")}, {}),
        ("binary", ("ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE"),
         {"inplace": over}, {"ADD": {"kernel": "Add", "dtypes": I16},
                             "SUB": {"kernel": "Sub", "dtypes": I16},
                             "MUL": {"kernel": "Mul", "dtypes": I16},
                             "MAXIMUM": {"kernel": "Maximum", "same_scale": True},
                             "MINIMUM": {"kernel": "Minimum", "same_scale": True},
                             "SQUARED_DIFFERENCE": {"kernel": "SquaredDifference"}}),
        ("binary", ("DIV",), {"kernel": "Div"}, {}),
        ("activation", ("RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LEAKY_RELU", "PRELU",
                        "LOGISTIC", "TANH", "HARD_SWISH", "ELU"),
         {"inplace": over},
         {"RELU": {"kernel": "Relu"}, "RELU_N1_TO_1": {"kernel": "Relu"},
          "RELU_0_TO_1": {"kernel": "Relu"}, "RELU6": {"kernel": "Relu6"},
          "TANH": {"kernel": "Tanh", "fixed_output": (1.0 / 128.0, 0), "dtypes": I16},
          "LOGISTIC": {"kernel": "Logistic", "fixed_output": (1.0 / 256.0, -128),
                       "dtypes": I16},
          "LEAKY_RELU": {"kernel": "LeakyRelu"}, "PRELU": {"kernel": "Prelu"},
          "HARD_SWISH": {"kernel": "HardSwish"}, "ELU": {"kernel": "Elu"}}),
        ("activation", ("GELU",), {"kernel": "Gelu"}, {}),
        ("math", ("ABS", "NEG"), {"inplace": over}, {"ABS": {"kernel": "Abs"}}),
        ("math", ("EXP", "LOG", "SQRT", "RSQRT", "SQUARE"), {}, {"RSQRT": {"kernel": "Rsqrt"}}),
        ("quantize", ("QUANTIZE",), {"inplace": over, "dtypes": ("INT8", "INT16", "FLOAT32")},
         {"QUANTIZE": {"kernel": "Quantize"}}),
        ("quantize", ("DEQUANTIZE",), {"kernel": "Dequantize", "dtypes": I16}, {}),
        ("softmax", ("SOFTMAX",), {"kernel": "Softmax", "dtypes": I16},
         {"SOFTMAX": {"fixed_output": (1.0 / 256.0, -128)}}),
        ("softmax", ("LOG_SOFTMAX",), {"kernel": "LogSoftmax",
                                       "fixed_output": (16.0 / 256.0, 127)}, {}),
        ("pool", ("AVERAGE_POOL_2D", "MAX_POOL_2D"), {"same_scale": True},
         {"AVERAGE_POOL_2D": {"kernel": "AveragePool2D", "dtypes": I16},
          "MAX_POOL_2D": {"kernel": "MaxPool2D", "dtypes": I16}}),
        ("pool", ("L2_POOL_2D",), {}, {}),
        ("reduce", ("MEAN",), {"kernel": "Mean", "dtypes": I16}, {}),
        ("reduce", ("SUM", "REDUCE_MAX", "REDUCE_MIN"), {},
         {"SUM": {"kernel": "Sum"}, "REDUCE_MAX": {"kernel": "ReduceMax", "same_scale": True},
          "REDUCE_MIN": {"kernel": "ReduceMin", "same_scale": True}}),
        ("view", ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"),
         {"inplace": frozenset({"view"}), "kernel": "Reshape", "dtypes": I16},
         {"RESHAPE": {"same_scale": True}}),
        ("concat", ("CONCATENATION",),
         {"inplace": frozenset({"concat"}), "same_scale": True, "kernel": "Concatenation",
          "max_inputs": 10, "dtypes": I16}, {}),
        ("concat", ("PACK",), {"kernel": "Pack"}, {}),
        ("split", ("SPLIT", "SPLIT_V"),
         {"inplace": frozenset({"split_view"}), "same_scale": True, "kernel": "Split",
          "dtypes": I16}, {}),
        ("split", ("UNPACK",), {"kernel": "Unpack"}, {}),
        ("movement", ("PAD", "PADV2", "STRIDED_SLICE", "TRANSPOSE", "RESIZE_NEAREST_NEIGHBOR"),
         {"same_scale": True, "dtypes": I16},
         {"PAD": {"kernel": "Pad"}, "PADV2": {"kernel": "Pad"},
          "STRIDED_SLICE": {"kernel": "StridedSlice"}, "TRANSPOSE": {"kernel": "Transpose"},
          "RESIZE_NEAREST_NEIGHBOR": {"kernel": "ResizeNearestNeighbor"}}),
        ("movement", ("SLICE",), {"kernel": "Slice", "dtypes": I16}, {}),
        ("movement", ("MIRROR_PAD", "GATHER", "SHAPE", "TILE", "BROADCAST_TO", "SPACE_TO_DEPTH",
                      "DEPTH_TO_SPACE", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"), {},
         {"GATHER": {"kernel": "Gather", "dtypes": ("INT8", "INT32"), "same_scale": True},
          "SHAPE": {"kernel": "Shape"},
          "MIRROR_PAD": {"kernel": "MirrorPad", "same_scale": True},
          "BROADCAST_TO": {"kernel": "BroadcastTo", "same_scale": True},
          "SPACE_TO_DEPTH": {"kernel": "SpaceToDepth", "same_scale": True},
          "DEPTH_TO_SPACE": {"kernel": "DepthToSpace", "same_scale": True},
          "SPACE_TO_BATCH_ND": {"kernel": "SpaceToBatchNd", "same_scale": True},
          "BATCH_TO_SPACE_ND": {"kernel": "BatchToSpaceNd", "same_scale": True}}),
        ("movement", ("GATHER_ND",), {"kernel": "GatherNd", "dtypes": ("INT8", "INT32")}, {}),
        # TFLite's int8 RESIZE_BILINEAR interpolates the input's int8 values (no requantise)
        ("movement", ("RESIZE_BILINEAR",), {"kernel": "ResizeBilinear", "same_scale": True}, {}),
        ("movement", ("REVERSE_V2", "FILL", "ZEROS_LIKE"), {},
         {"REVERSE_V2": {"kernel": "ReverseV2", "same_scale": True}, "FILL": {"kernel": "Fill"},
          "ZEROS_LIKE": {"kernel": "ZerosLike"}}),
        ("reduce", ("ARG_MAX", "ARG_MIN"), {}, {"ARG_MAX": {"kernel": "ArgMax"},
                                                "ARG_MIN": {"kernel": "ArgMin"}}),
        ("math", ("L2_NORMALIZATION",), {"kernel": "L2Normalization",
                                         "fixed_output": (1.0 / 128.0, 0)}, {}),
        ("math", ("CUMSUM",), {"kernel": "Cumsum"}, {}),
        ("binary", ("ADD_N",), {"kernel": "AddN"}, {}),
        ("control", ("WHILE", "IF", "CALL_ONCE", "CUSTOM", "DELEGATE"), {}, {}),
        ("compare", ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"),
         {"dtypes": ("INT8", "BOOL")},
         {"EQUAL": {"kernel": "Equal"}, "NOT_EQUAL": {"kernel": "NotEqual"},
          "LESS": {"kernel": "Less"}, "LESS_EQUAL": {"kernel": "LessEqual"},
          "GREATER": {"kernel": "Greater"}, "GREATER_EQUAL": {"kernel": "GreaterEqual"}}),
        ("compare", ("LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT"), {"dtypes": ("BOOL",)},
         {"LOGICAL_AND": {"kernel": "LogicalAnd"}, "LOGICAL_OR": {"kernel": "LogicalOr"},
          "LOGICAL_NOT": {"kernel": "LogicalNot"}}),
        ("movement", ("SELECT_V2",), {"same_scale": True, "dtypes": ("INT8", "BOOL"),
                                      "kernel": "SelectV2"}, {}),
        ("quantize", ("CAST",), {"dtypes": ("INT8", "BOOL"), "kernel": "Cast"}, {}),
    ]


def _build() -> dict:
    table = {}
    for category, names, shared, own in _entries():
        for name in names:
            table[name] = OpInfo(name, category, **{**shared, **own.get(name, {})})
    return table


OPS = _build()
UNKNOWN = OpInfo("UNKNOWN", "unknown")


def info(opcode: str) -> OpInfo:
    """The table entry of `opcode` (UNKNOWN for ops rnnedge does not know)."""
    return OPS.get(opcode, UNKNOWN)


def names(category: str | None = None, inplace: str | None = None, kernel=False) -> tuple:
    """Builtin names with `category` / the `inplace` capability / a C kernel (when asked)."""
    return tuple(n for n, o in OPS.items()
                 if (category is None or o.category == category)
                 and (inplace is None or inplace in o.inplace)
                 and (not kernel or o.kernel is not None))


def is_parameter(op, tensor) -> bool:
    """True when constant input `tensor` of `op` counts as a parameter: always for weighted
    ops (but an int32 input of a weighted op with a bias position other than that position,
    e.g. TRANSPOSE_CONV's output_shape, is an index operand), otherwise unless it is an
    int32/int64 index operand (axis, sizes, paddings)."""
    entry = info(op.opcode)
    if tensor.type_name not in ("INT32", "INT64"):
        return True
    if entry.weighted and entry.bias is not None and tensor.index in op.inputs:
        return list(op.inputs).index(tensor.index) == entry.bias
    return entry.weighted


def _shape(op, tensors, position):
    t = op.inputs[position] if position < len(op.inputs) else -1
    return tuple(tensors[t].shape) if t >= 0 else None


def _has_input(op, position) -> bool:
    return position is not None and position < len(op.inputs) and op.inputs[position] >= 0


def _conv_macs(op, tensors, out):
    """eq. 17 for the conv category, or None when the filter shape is not the expected one."""
    name, filt = op.opcode, _shape(op, tensors, 1) or ()
    bias = _has_input(op, info(name).bias)
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(filt) == 4:
        cout = filt[0] if name == "CONV_2D" else filt[3]
        taps = filt[1] * filt[2] * (filt[3] if name == "CONV_2D" else 1)
        return (taps * cout + (cout if bias else 0)) * (out.num_elements // max(cout, 1))
    if name == "FULLY_CONNECTED" and len(filt) == 2:
        units, depth = filt
        return (depth * units + (units if bias else 0)) * (out.num_elements // max(units, 1))
    source = _shape(op, tensors, 2)
    if name == "TRANSPOSE_CONV" and len(filt) == 4 and source:
        cout, kh, kw, cin = filt
        positions = int(np.prod(source[:-1], dtype=np.int64))
        return kh * kw * cin * cout * positions + (out.num_elements if bias else 0)
    left = _shape(op, tensors, 0)
    if name == "BATCH_MATMUL" and left and len(left) >= 2:
        return out.num_elements * left[-2 if op.options.get("adj_x") else -1]
    return None


ONE_PER_OUTPUT = ("ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "SQUARE")
ADDITIVE_POOLS = ("AVERAGE_POOL_2D", "L2_POOL_2D")
ADDITIVE_REDUCE = ("MEAN", "SUM")
NO_FORMULA = ("recurrent", "lookup", "control", "unknown")


def op_macs(op, tensors):
    """MACs of one operator under MAC_CONVENTION, or None when unknown."""
    out = tensors[op.outputs[0]] if op.outputs and op.outputs[0] >= 0 else None
    entry = info(op.opcode)
    if out is None:
        return None
    if entry.category == "conv":
        return _conv_macs(op, tensors, out)
    if op.opcode in ONE_PER_OUTPUT:
        return out.num_elements
    if op.opcode in ADDITIVE_POOLS:
        return out.num_elements * op.options.get("filter_width", 1) * op.options.get(
            "filter_height", 1)
    if op.opcode in ADDITIVE_REDUCE:
        source = _shape(op, tensors, 0)
        return int(np.prod(source, dtype=np.int64)) if source is not None else None
    return None if entry.category in NO_FORMULA else 0


def scratch_requests(subgraph) -> list:
    """[(operator index, bytes, label)] of TFLM's reference kernels' arena scratch requests,
    in request order (operator order), by op and dtype: rnnedge.tflm_scratch holds the rules
    (MEAN/SUM, REDUCE_MAX/MIN, TRANSPOSE_CONV int8 and 16x8, SVDF, UNIDIRECTIONAL_SEQUENCE_LSTM,
    SignalRfft); every other op of this table requests none."""
    return kernel_scratch(subgraph)


def memory_unmodelled(op) -> bool:
    """True when rnnedge does not know what TFLM allocates for `op` (an op outside this table,
    TFLM's Signal library and its detection post-process): arena figures are lower bounds."""
    return op.opcode not in OPS and op.opcode not in SIGNAL_OPS + (DETECTION_POSTPROCESS,)


def tail_estimate(model) -> int:
    """TFLM's persistent tail for `model` (a Model or a Subgraph): rnnedge.tflm_tail's model
    (TAIL_CONVENTION) of what TFLM allocates per op type and per variable tensor."""
    return tflm_tail_estimate(model)
