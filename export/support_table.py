"""The supported-op table of the ONNX -> int8 TFLite exporter: for every ONNX op the lowering
takes (lowerers.LOWERERS), the conditions and the TFLite builtins it becomes; with the op
table's C kernel (rnnedge.op_table) and Vela's placement (the operator table Arm Vela compiles
with, when Vela is installed) per builtin. `markdown()` renders it for docs/export.md
(`rnnedge ops --markdown`; a test checks the doc equals it, so it cannot go stale).

The facts here are about the lowering's choices (one home: this table); what each builtin
can do (kernels, same-scale, fixed outputs) stays in rnnedge.op_table.

May import: rnnedge.op_table, rnnedge.export.{lowerers, onnx_rewrite, vela_check}.
"""

from rnnedge.export.vela_check import vela_cpu_builtins
from rnnedge.op_table import info

# ONNX op: (conditions, TFLite builtins emitted)
SUPPORTED = {
    "RNN": ("forward, reverse, bidirectional, stacked; fixed sequence length; activations Tanh "
            "(default), Relu, Sigmoid; initial state an input or a constant; unrolled with every "
            "weight stored once (lowerers_recurrent.py)",
            ("FULLY_CONNECTED", "SPLIT", "ADD", "TANH", "RELU", "LOGISTIC", "CONCATENATION",
             "RESHAPE")),
    "GRU": ("as RNN; linear_before_reset 0 and 1; unrolled, weights once",
            ("FULLY_CONNECTED", "SPLIT", "ADD", "SUB", "MUL", "LOGISTIC", "TANH",
             "CONCATENATION", "RESHAPE")),
    "LSTM": ("as RNN; no peepholes, input_forget 0, no clip; unrolled, weights once, or with "
             "--lstm fused TFLM's UNIDIRECTIONAL_SEQUENCE_LSTM (one op per direction)",
             ("FULLY_CONNECTED", "SPLIT", "ADD", "MUL", "LOGISTIC", "TANH", "CONCATENATION",
              "RESHAPE", "UNIDIRECTIONAL_SEQUENCE_LSTM")),
    "Conv": ("2-D and 1-D; any stride, dilation, pads (non-SAME pads: PAD first); groups 1, "
             "depthwise (any multiplier), or other groups as SPLIT + one CONV_2D per group + "
             "CONCATENATION; a following BatchNormalization folded, ReLU/ReLU6 fused",
             ("CONV_2D", "DEPTHWISE_CONV_2D", "PAD", "SPLIT", "CONCATENATION")),
    "ConvTranspose": ("2-D (1-D via (N, C, 1, T)), group 1, dilation 1; pads/output_padding "
                      "that are not SAME/VALID: VALID then a STRIDED_SLICE crop",
                      ("TRANSPOSE_CONV", "STRIDED_SLICE")),
    "Gemm": ("constant B; transA 0; a Flatten/Reshape of a map before it is absorbed",
             ("FULLY_CONNECTED",)),
    "MatMul": ("constant 2-D right operand: FULLY_CONNECTED over the last axis; two "
               "activations: BATCH_MATMUL", ("FULLY_CONNECTED", "BATCH_MATMUL", "TRANSPOSE")),
    "BatchNormalization": ("folded into the Conv/Gemm before it; alone on a map: 1x1 "
                           "depthwise conv; on (N, C[, T]): MUL + ADD",
                           ("DEPTHWISE_CONV_2D", "MUL", "ADD")),
    "InstanceNormalization": ("decomposed: mean, variance, Rsqrt",
                              ("MEAN", "SUB", "MUL", "ADD", "RSQRT")),
    "LayerNormalization": ("decomposed: mean, variance, Rsqrt over the normalised axes",
                           ("MEAN", "SUB", "MUL", "ADD", "RSQRT")),
    "Add": ("broadcasting; constants in the held layout; ReLU fused", ("ADD",)),
    "Sub": ("broadcasting; ReLU fused", ("SUB",)),
    "Mul": ("broadcasting; ReLU fused", ("MUL",)),
    "Div": ("by a constant: MUL by its reciprocal; by an activation: DIV", ("MUL", "DIV")),
    "Neg": ("MUL by -1 (TFLM's NEG is float only)", ("MUL",)),
    "Abs": ("", ("ABS",)),
    "Sqrt": ("only as 1 / Sqrt (TFLM has no int8 SQRT)", ("RSQRT",)),
    "Max": ("two tensors (same scale)", ("MAXIMUM",)),
    "Min": ("two tensors (same scale)", ("MINIMUM",)),
    "Relu": ("fused into its producer where TFLite allows", ("RELU",)),
    "Clip": ("(0, 6) fused ReLU6, (0, inf) ReLU; other bounds containing 0 by int8 "
             "saturation (into the producer, or a QUANTIZE): ReLU6 that cannot fuse too "
             "(TFLM's RELU6 does not requantise), and (-1, 1) (TFLM has no RELU_N1_TO_1)",
             ("RELU", "QUANTIZE")),
    "LeakyRelu": ("", ("LEAKY_RELU",)),
    "PRelu": ("constant slope", ("PRELU",)),
    "HardSwish": ("also x * HardSigmoid(x) with alpha 1/6, beta 1/2", ("HARD_SWISH",)),
    "HardSigmoid": ("alone: MUL + ADD saturating to [0, 1]", ("MUL", "ADD", "HARD_SWISH")),
    "Sigmoid": ("fixed output scale 1/256, zero point -128 (SiLU: MUL by it)", ("LOGISTIC",)),
    "Tanh": ("fixed output scale 1/128, zero point 0", ("TANH",)),
    "Gelu": ("opset 20 op, or torch's erf form; as x * sigmoid(x (k0 + k1 x^2)) (tanh form; "
             "TFLM has no GELU)", ("MUL", "ADD", "LOGISTIC")),
    "Softmax": ("any axis (moved innermost by TRANSPOSE); fixed output 1/256, -128",
                ("SOFTMAX", "TRANSPOSE")),
    "LogSoftmax": ("any axis; fixed output 16/256, 127", ("LOG_SOFTMAX", "TRANSPOSE")),
    "MaxPool": ("2-D and 1-D, no dilation; pads/ceil mode: SAME or PADV2 with the lowest "
                "int8", ("MAX_POOL_2D", "PADV2")),
    "AveragePool": ("2-D and 1-D, no dilation; count_include_pad: PAD then VALID; else SAME "
                    "pads only", ("AVERAGE_POOL_2D", "PAD")),
    "GlobalAveragePool": ("", ("AVERAGE_POOL_2D",)),
    "GlobalMaxPool": ("", ("MAX_POOL_2D",)),
    "ReduceMean": ("constant axes, keepdims 0/1", ("MEAN",)),
    "ReduceMax": ("constant axes (same scale)", ("REDUCE_MAX",)),
    "ReduceMin": ("constant axes (same scale)", ("REDUCE_MIN",)),
    "ReduceSum": ("constant axes (input or attribute), keepdims 0/1; TFLM's int8 SUM (TFLite's "
                  "reference SUM is wrong, so the export verifies on TFLite's builtin kernels); "
                  "no ReduceProd: TFLM has no REDUCE_PROD", ("SUM",)),
    "ReduceL2": ("only as x / ||x|| over a map's channels or the last axis (F.normalize(x, "
                 "dim=1), x / x.norm(dim=-1, keepdim=True)); output 1/128, 0",
                 ("L2_NORMALIZATION",)),
    "Resize": ("2-D nearest or linear; asymmetric, align_corners, half_pixel, "
               "pytorch_half_pixel", ("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR")),
    "Concat": ("any axis; more than 10 inputs as a tree", ("CONCATENATION",)),
    "Split": ("equal or given sizes", ("SPLIT", "SPLIT_V")),
    "Slice": ("constant starts/ends/axes/steps (negative steps too)", ("STRIDED_SLICE",)),
    "Pad": ("constant (zero: PAD, other value: PADV2) or reflect, on every axis",
            ("PAD", "PADV2", "MIRROR_PAD")),
    "Transpose": ("permutation taken to the held layout", ("TRANSPOSE",)),
    "Reshape": ("any rank; TRANSPOSE to/from NCHW order only where bytes move",
                ("RESHAPE", "TRANSPOSE")),
    "Flatten": ("any axis; into Gemm: nothing", ("RESHAPE", "TRANSPOSE")),
    "Squeeze": ("", ("RESHAPE", "TRANSPOSE")),
    "Unsqueeze": ("", ("RESHAPE", "TRANSPOSE")),
    "Gather": ("constant scalar or 1-D index: a slice, runs joined by CONCATENATION, or "
               "GATHER", ("STRIDED_SLICE", "CONCATENATION", "RESHAPE", "GATHER")),
    "Identity": ("removed", ()),
    "Dropout": ("removed (inference)", ()),
    "Cast": ("float to float removed; of constants folded", ()),
    "Constant": ("folded (also Shape, Size and all-constant shape arithmetic)", ()),
    "DepthToSpace": ("mode DCR; CRD (torch's PixelShuffle) right after a Conv of constant "
                     "weight, its channels reordered; BatchNorm/ReLU after it fused into that "
                     "conv (phase_split.py)", ("DEPTH_TO_SPACE",)),
}


def vela_placement():
    """{TFLite builtin: "NPU" | "CPU"} from the operator table Vela compiles with
    (vela_check.vela_cpu_builtins), or None when Vela is not installed (NPU placement still
    depends on Vela's per-op constraints)."""
    names = sorted({b for _, (_, builtins) in SUPPORTED.items() for b in builtins})
    cpu = vela_cpu_builtins(names)
    if cpu is None:
        return None
    return {name: "CPU" if name in cpu else "NPU" for name in names}


def rows():
    """The table as JSON-ready rows, in LOWERERS order, then the ops onnx_rewrite takes."""
    from rnnedge.export.lowerers import LOWERERS
    from rnnedge.export.onnx_rewrite import REWRITTEN_OPS
    vela = vela_placement()
    result = []
    for op in list(LOWERERS) + list(REWRITTEN_OPS):
        conditions, builtins = SUPPORTED.get(op, ("(not described in support_table.py)", ()))
        result.append({"onnx": op, "conditions": conditions, "builtins": list(builtins),
                       "kernels": {b: info(b).kernel for b in builtins},
                       "vela": None if vela is None else {b: vela[b] for b in builtins}})
    return result


def markdown():
    """The table as Markdown (what docs/export.md holds between its markers)."""
    lines = ["| ONNX op | Conditions | TFLite builtins | C kernel | Vela |",
             "|---|---|---|---|---|"]
    for r in rows():
        builtins = ", ".join(r["builtins"]) or "(none)"
        kernels = ", ".join(f"{b}: {k or 'none yet'}" for b, k in r["kernels"].items()) or "-"
        vela = "-" if not r["builtins"] else (
            "Vela not installed" if r["vela"] is None
            else ", ".join(f"{b}: {p}" for b, p in r["vela"].items()))
        lines.append(f"| {r['onnx']} | {r['conditions'] or '-'} | {builtins} | {kernels} | {vela} |")
    return "\n".join(lines) + "\n"
