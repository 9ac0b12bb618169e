"""The supported-operator table: one TFLite operator -> one prepared C kernel.

`prepare(op, subgraph, lib)` looks the opcode up in OPERATORS, reads the operator's options,
constant operands and quantisation from the model, and builds the matching prepared kernel of
`rnnedge.kernels.ops` (whose constructor validates everything the C code relies on and derives
the integer parameters exactly as TFLM's Prepare does). It returns a `Prepared`: the kernel,
the operator's data operands in the kernel's argument order (arena tensors or constants) and
its outputs. It then checks that the kernel's shapes match the tensors the model declares, so
a malformed model can never make a kernel touch bytes outside its tensors. A conv with a fused
PAD (`fused_pad`) is prepared over the PAD's input with explicit padding offsets.

Quantisation scales whose rescale would need a shift outside kernels.ops.SHIFT_RANGE (the
fixed-point helpers would shift by more than 31 bits, which C leaves undefined) are refused
by the kernels themselves when their params are built.
Which ops have a C kernel, and which dtypes it takes, is the op table's `kernel` and
`dtypes` (rnnedge.op_table); OPERATORS holds one preparer per such op (a test holds the two
equal). Every failure is an `RnnedgeError` whose message starts with `op <index> <OPCODE>:`.
Imports numpy, ctypes, rnnedge.errors, rnnedge.op_table and rnnedge.kernels (ops, params).
"""

from dataclasses import dataclass

import numpy as np

from rnnedge import op_table
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops as kernel_ops
from rnnedge.kernels.params import Quant

INT8 = np.dtype(np.int8)
FLOAT32 = np.dtype(np.float32)


@dataclass(frozen=True)
class Prepared:
    """A kernel ready to run: `data` are the operand tensor indices in the kernel's argument
    order (constants among them are passed from flash), `outputs` the written tensors."""

    kernel: kernel_ops.Kernel
    data: tuple
    outputs: tuple


def tensor_quant(tensor, where: str) -> Quant:
    """The per-tensor quantisation of `tensor`; `where` ("op 3 ADD") prefixes the error."""
    q = tensor.quantization
    if q is None or len(q.scales) == 0:
        raise RnnedgeError(f"{where}: tensor {tensor.name} has no quantisation parameters")
    return Quant(float(q.scales[0]), int(q.zero_points[0]))


class _Ctx:
    """What a preparer may read about one operator."""

    def __init__(self, op, subgraph, lib, folded, fused_pad=None):
        """Hold the operator, its subgraph, the kernel library, folded values and the
        (input tensor, explicit padding) of a PAD fused into a conv (or None)."""
        self.op, self.sg, self.lib, self.folded = op, subgraph, lib, folded
        self.opt, self.fused_pad = op.options, fused_pad

    def fail(self, message: str):
        """Raise RnnedgeError prefixed with the operator."""
        raise RnnedgeError(f"op {self.op.index} {self.op.opcode}: {message}")

    def tensor(self, position: int, what: str = "input"):
        """Input tensor at `position` (raises when it is missing)."""
        ins = self.op.inputs
        if position >= len(ins) or ins[position] < 0:
            self.fail(f"{what} {position} is missing")
        return self.sg.tensors[ins[position]]

    def out(self, position: int = 0):
        """Output tensor at `position`."""
        if position >= len(self.op.outputs):
            self.fail(f"output {position} is missing")
        return self.sg.tensors[self.op.outputs[position]]

    def const(self, position: int, what: str) -> np.ndarray:
        """The value of constant (or folded) input `position`."""
        t = self.tensor(position, what)
        if t.index in self.folded:
            return np.asarray(self.folded[t.index])
        if t.data is None:
            self.fail(f"{what} ({t.name}) must be a constant tensor")
        return np.asarray(t.data)

    def quant(self, t) -> Quant:
        """Per-tensor quantisation of `t`."""
        return tensor_quant(t, f"op {self.op.index} {self.op.opcode}")

    def filter_scales(self, t) -> np.ndarray:
        """Per-channel (or single) filter scales of `t`; zero points must be 0."""
        q = t.quantization
        if q is None or len(q.scales) == 0:
            self.fail(f"filter {t.name} has no quantisation parameters")
        if np.any(np.asarray(q.zero_points) != 0) and len(q.scales) > 1:
            self.fail(f"filter {t.name} has non-zero per-channel zero points")
        return np.asarray(q.scales, dtype=np.float32)

    def act(self) -> str:
        """The fused activation name."""
        return self.opt.get("fused_activation_function", "NONE")


def _conv(c: _Ctx, cls):
    """CONV_2D / DEPTHWISE_CONV_2D (`cls`); with a fused PAD it reads the PAD's input with
    explicit padding instead of the padded tensor."""
    x, w, y = c.tensor(0), c.tensor(1, "filter"), c.out()
    source, padding = c.op.inputs[0], c.opt.get("padding", "SAME")
    if c.fused_pad is not None:
        source, padding = c.fused_pad
        x = c.sg.tensors[source]
    bias = None
    if len(c.op.inputs) > 2 and c.op.inputs[2] >= 0:
        bias = c.const(2, "bias")
    kernel = cls(x.shape, c.const(1, "filter"), bias, c.quant(x), c.filter_scales(w),
                 c.quant(y), stride=(c.opt.get("stride_h", 1), c.opt.get("stride_w", 1)),
                 dilation=(c.opt.get("dilation_h_factor", 1), c.opt.get("dilation_w_factor", 1)),
                 padding=padding, activation=c.act(), output_shape=y.shape, lib=c.lib)
    return kernel, (source,)


def _fully_connected(c: _Ctx):
    """FULLY_CONNECTED (per-tensor or per-channel filter)."""
    if c.opt.get("weights_format", 0) != 0:
        c.fail("shuffled weights formats are not supported")
    x, w, y = c.tensor(0), c.tensor(1, "filter"), c.out()
    bias = c.const(2, "bias") if len(c.op.inputs) > 2 and c.op.inputs[2] >= 0 else None
    wq = w.quantization
    if wq is None or len(wq.scales) == 0:
        c.fail(f"filter {w.name} has no quantisation parameters")
    filter_q = Quant(np.asarray(wq.scales, np.float32) if len(wq.scales) > 1
                     else float(wq.scales[0]), int(wq.zero_points[0]))
    kernel = kernel_ops.FullyConnected(x.shape, c.const(1, "filter"), bias, c.quant(x), filter_q,
                              c.quant(y), activation=c.act(),
                              keep_num_dims=bool(c.opt.get("keep_num_dims", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _binary(cls):
    """Preparer of ADD / SUB / MUL (`cls`)."""
    def prepare(c: _Ctx):
        """(kernel, data operands) for this operator."""
        a, b, y = c.tensor(0), c.tensor(1), c.out()
        kernel = cls(a.shape, b.shape, c.quant(a), c.quant(b), c.quant(y),
                     activation=c.act(), lib=c.lib)
        return kernel, (c.op.inputs[0], c.op.inputs[1])
    return prepare


def _tanh_logistic(cls):
    """Preparer of TANH / LOGISTIC (`cls`)."""
    def prepare(c: _Ctx):
        """(kernel, data operands) for this operator."""
        x = c.tensor(0)
        return cls(x.shape, c.quant(x), c.quant(c.out()), lib=c.lib), (c.op.inputs[0],)
    return prepare


def _relu(low: float, high: float):
    """Preparer of a RELU clamping to [low, high] (real values)."""
    def prepare(c: _Ctx):
        """(kernel, data operands) for this operator."""
        x = c.tensor(0)
        kernel = kernel_ops.Relu(x.shape, c.quant(x), c.quant(c.out()), act_min=low, act_max=high,
                        lib=c.lib)
        return kernel, (c.op.inputs[0],)
    return prepare


def _relu6(c: _Ctx):
    """RELU6 in the input's quantisation."""
    x = c.tensor(0)
    return kernel_ops.Relu6(x.shape, c.quant(x), lib=c.lib), (c.op.inputs[0],)


def _quantize(c: _Ctx):
    """QUANTIZE: float32 -> int8, or int8 -> int8 requantisation."""
    x, y = c.tensor(0), c.out()
    if x.dtype == FLOAT32:
        return kernel_ops.Quantize(x.shape, c.quant(y), lib=c.lib), (c.op.inputs[0],)
    return kernel_ops.Requantize(x.shape, c.quant(x), c.quant(y), lib=c.lib), (c.op.inputs[0],)


def _dequantize(c: _Ctx):
    """DEQUANTIZE int8 -> float32."""
    x = c.tensor(0)
    return kernel_ops.Dequantize(x.shape, c.quant(x), lib=c.lib), (c.op.inputs[0],)


def _pool(cls):
    """Preparer of AVERAGE_POOL_2D / MAX_POOL_2D (`cls`)."""
    def prepare(c: _Ctx):
        """(kernel, data operands) for this operator."""
        x, y = c.tensor(0), c.out()
        if c.quant(x) != c.quant(y):
            c.fail("input and output quantisation differ (TFLM pools do not rescale)")
        kernel = cls(x.shape, (c.opt.get("filter_height", 1), c.opt.get("filter_width", 1)),
                     c.quant(y), stride=(c.opt.get("stride_h", 1), c.opt.get("stride_w", 1)),
                     padding=c.opt.get("padding", "VALID"), activation=c.act(),
                     output_shape=y.shape, lib=c.lib)
        return kernel, (c.op.inputs[0],)
    return prepare


def _mean(c: _Ctx):
    """MEAN over constant axes."""
    x = c.tensor(0)
    kernel = kernel_ops.Mean(x.shape, c.const(1, "axes"), c.quant(x), c.quant(c.out()),
                    keep_dims=bool(c.opt.get("keep_dims", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _pad(c: _Ctx):
    """PAD (fill: output zero point) / PADV2 (fill: constant value)."""
    x, y = c.tensor(0), c.out()
    if c.quant(x) != c.quant(y):
        c.fail("input and output quantisation differ")
    value = c.quant(y).zero_point
    if c.op.opcode == "PADV2" and len(c.op.inputs) > 2 and c.op.inputs[2] >= 0:
        value = int(c.const(2, "constant value").reshape(-1)[0])
    return kernel_ops.Pad(x.shape, c.const(1, "paddings"), value, lib=c.lib), (c.op.inputs[0],)


def _concatenation(c: _Ctx):
    """CONCATENATION (inputs must share the output's quantisation)."""
    if c.act() != "NONE":
        c.fail(f"fused activation {c.act()} is not supported")
    y = c.out()
    shapes = []
    for i in range(len(c.op.inputs)):
        t = c.tensor(i)
        if t.dtype == INT8 and c.quant(t) != c.quant(y):
            c.fail(f"input {t.name} is quantised differently from the output (TFLM requires "
                   "the same scale and zero point)")
        shapes.append(t.shape)
    kernel = kernel_ops.Concatenation(shapes, c.opt.get("axis", 0), lib=c.lib)
    return kernel, tuple(c.op.inputs)


def _split(c: _Ctx):
    """SPLIT (axis first) / SPLIT_V (sizes and axis after the data)."""
    if c.op.opcode == "SPLIT":
        axis, data = int(c.const(0, "axis").reshape(-1)[0]), 1
        sizes = int(c.opt.get("num_splits", len(c.op.outputs)))
    else:
        data = 0
        axis = int(c.const(2, "axis").reshape(-1)[0])
        sizes = [int(s) for s in c.const(1, "size splits").reshape(-1)]
        x = c.tensor(0)
        if sizes.count(-1) == 1:
            rest = x.shape[axis] - sum(s for s in sizes if s != -1)
            sizes = [rest if s == -1 else s for s in sizes]
    kernel = kernel_ops.Split(c.tensor(data).shape, axis, sizes, lib=c.lib)
    return kernel, (c.op.inputs[data],)


def _strided_slice(c: _Ctx):
    """STRIDED_SLICE with constant begin/end/strides."""
    x = c.tensor(0)
    kernel = kernel_ops.StridedSlice(x.shape, c.const(1, "begin"), c.const(2, "end"),
                            c.const(3, "strides"),
                            begin_mask=c.opt.get("begin_mask", 0),
                            end_mask=c.opt.get("end_mask", 0),
                            shrink_axis_mask=c.opt.get("shrink_axis_mask", 0),
                            ellipsis_mask=c.opt.get("ellipsis_mask", 0),
                            new_axis_mask=c.opt.get("new_axis_mask", 0),
                            offset=bool(c.opt.get("offset", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _slice(c: _Ctx):
    """SLICE with constant begin/size."""
    x = c.tensor(0)
    kernel = kernel_ops.Slice(x.shape, c.const(1, "begin").reshape(-1), c.const(2, "size").reshape(-1),
                     lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _reshape(c: _Ctx):
    """RESHAPE / SQUEEZE / EXPAND_DIMS: a byte copy to the output's shape."""
    return kernel_ops.Reshape(c.tensor(0).shape, c.out().shape, lib=c.lib), (c.op.inputs[0],)


def _transpose(c: _Ctx):
    """TRANSPOSE by a constant permutation."""
    x = c.tensor(0)
    return kernel_ops.Transpose(x.shape, c.const(1, "perm").reshape(-1), lib=c.lib), (c.op.inputs[0],)


def _softmax(c: _Ctx):
    """SOFTMAX over the last axis."""
    x = c.tensor(0)
    kernel = kernel_ops.Softmax(x.shape, c.quant(x), c.quant(c.out()), beta=c.opt.get("beta", 1.0),
                       lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _resize_nearest(c: _Ctx):
    """RESIZE_NEAREST_NEIGHBOR to a constant size."""
    x = c.tensor(0)
    size = c.const(1, "size").reshape(-1)
    if size.size != 2:
        c.fail("size must hold (height, width)")
    kernel = kernel_ops.ResizeNearestNeighbor(x.shape, (int(size[0]), int(size[1])),
                                     align_corners=bool(c.opt.get("align_corners", False)),
                                     half_pixel_centers=bool(c.opt.get("half_pixel_centers",
                                                                       False)),
                                     lib=c.lib)
    return kernel, (c.op.inputs[0],)


OPERATORS = {
    "CONV_2D": lambda c: _conv(c, kernel_ops.Conv2D),
    "DEPTHWISE_CONV_2D": lambda c: _conv(c, kernel_ops.DepthwiseConv2D),
    "FULLY_CONNECTED": _fully_connected,
    "ADD": _binary(kernel_ops.Add),
    "SUB": _binary(kernel_ops.Sub),
    "MUL": _binary(kernel_ops.Mul),
    "TANH": _tanh_logistic(kernel_ops.Tanh),
    "LOGISTIC": _tanh_logistic(kernel_ops.Logistic),
    "RELU": _relu(0.0, float("inf")),
    "RELU_N1_TO_1": _relu(-1.0, 1.0),
    "RELU_0_TO_1": _relu(0.0, 1.0),
    "RELU6": _relu6,
    "QUANTIZE": _quantize,
    "DEQUANTIZE": _dequantize,
    "AVERAGE_POOL_2D": _pool(kernel_ops.AveragePool2D),
    "MAX_POOL_2D": _pool(kernel_ops.MaxPool2D),
    "MEAN": _mean,
    "PAD": _pad,
    "PADV2": _pad,
    "CONCATENATION": _concatenation,
    "SPLIT": _split,
    "SPLIT_V": _split,
    "STRIDED_SLICE": _strided_slice,
    "SLICE": _slice,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "EXPAND_DIMS": _reshape,
    "TRANSPOSE": _transpose,
    "SOFTMAX": _softmax,
    "RESIZE_NEAREST_NEIGHBOR": _resize_nearest,
}


def _dtypes_ok(c: _Ctx, data: tuple) -> None:
    """Activations are int8 (the op table's `dtypes`: QUANTIZE may read float32);
    DEQUANTIZE writes float32."""
    allowed = op_table.info(c.op.opcode).dtypes
    for t in data:
        tensor = c.sg.tensors[t]
        if tensor.type_name not in allowed:
            c.fail(f"input {tensor.name} is {tensor.type_name}; the C kernels take int8 "
                   "activations")
    for t in c.op.outputs:
        tensor = c.sg.tensors[t]
        allowed = FLOAT32 if c.op.opcode == "DEQUANTIZE" else INT8
        if tensor.dtype != allowed:
            c.fail(f"output {tensor.name} is {tensor.type_name}, expected "
                   f"{'FLOAT32' if allowed == FLOAT32 else 'INT8'}")


def _shapes_ok(c: _Ctx, kernel, data: tuple) -> None:
    """The kernel's own shapes must cover exactly the declared tensors' elements."""
    if hasattr(kernel, "input_shapes"):
        ins = kernel.input_shapes
    elif hasattr(kernel, "shape1"):
        ins = [kernel.shape1, kernel.shape2]
    else:
        ins = [kernel.input_shape]
    for t, shape in zip(data, ins):
        if int(np.prod(shape)) != c.sg.tensors[t].num_elements:
            c.fail(f"input {c.sg.tensors[t].name} has shape {c.sg.tensors[t].shape}, the "
                   f"kernel expects {tuple(shape)}")
    outs = getattr(kernel, "output_shapes", None) or [kernel.output_shape]
    if len(outs) != len(c.op.outputs):
        c.fail(f"the kernel writes {len(outs)} outputs, the model declares "
               f"{len(c.op.outputs)}")
    for t, shape in zip(c.op.outputs, outs):
        tensor = c.sg.tensors[t]
        if int(np.prod(shape)) != tensor.num_elements:
            c.fail(f"output {tensor.name} is declared {tensor.shape} but the operator "
                   f"computes {tuple(shape)}")


def prepare(op, subgraph, lib, folded=None, fused_pad=None) -> Prepared:
    """The prepared kernel of operator `op` of `subgraph` (see module docstring); `folded`
    maps tensors evaluated at compile time (see folding.py) to their values; `fused_pad`
    = (tensor, ((top, bottom), (left, right))) makes a CONV_2D / DEPTHWISE_CONV_2D read
    `tensor` (a fused PAD's input) with that explicit padding."""
    c = _Ctx(op, subgraph, lib, folded or {}, fused_pad)
    if fused_pad is not None and op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        c.fail("only a CONV_2D or DEPTHWISE_CONV_2D can take a fused PAD")
    if op_table.info(op.opcode).kernel is None:
        c.fail("no C kernel implements this operator (supported: "
               f"{', '.join(sorted(op_table.names(kernel=True)))})")
    if not op.outputs:
        c.fail("the operator has no output")
    try:
        kernel, data = OPERATORS[op.opcode](c)
    except RnnedgeError as exc:
        message = str(exc)
        prefix = f"op {op.index} {op.opcode}:"
        raise RnnedgeError(message if message.startswith(prefix) else
                           f"{prefix} {message}") from None
    except (ValueError, TypeError, IndexError, KeyError, OverflowError,
            ZeroDivisionError) as exc:
        c.fail(f"malformed operands ({type(exc).__name__}: {exc})")
    _dtypes_ok(c, data)
    _shapes_ok(c, kernel, data)
    return Prepared(kernel, tuple(data), tuple(op.outputs))
