"""Preparers of the int16x8 operators: each opcode below dispatches on its activation type,
int16 tensors to the int16 kernels (rnnedge.kernels.ops.int16), everything else to the int8
preparer of its family module.

  CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED  16x8 (int64 bias; TFLM's int32-bias 16x8
                      variant is refused), ADD, SUB, MUL, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN,
  SOFTMAX             int16 -> int16 (TFLM's exp and 1/(1+x) LUTs),
  TANH, LOGISTIC      int16 (TFLM's sigmoid table, zero points 0, output scale 2^-15),
  QUANTIZE            float32 -> int16, int8 <-> int16, int16 -> int16,
  DEQUANTIZE          int16 -> float32,
  byte movers         RESHAPE / SQUEEZE / EXPAND_DIMS, CONCATENATION, SPLIT(_V), PAD / PADV2,
                      STRIDED_SLICE, SLICE, TRANSPOSE, RESIZE_NEAREST_NEIGHBOR: the int8
                      kernel over the tensors' bytes (a trailing dimension of 2), wrapped in
                      kernels.ops.Int16Bytes; a PAD fill must be 0 (TFLM's int16 zero point).

Imports numpy, rnnedge.kernels and this package's context, conv, elementwise and shape_ops.
"""

import numpy as np

from rnnedge.firmware_sim.operators import conv, elementwise, shape_ops
from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops
from rnnedge.kernels.params import Quant

INT16 = np.dtype(np.int16)
INT8 = np.dtype(np.int8)
FLOAT32 = np.dtype(np.float32)


def _bias64(c: Context, position: int):
    """The constant bias at `position` (None when absent); a 16x8 op needs an int64 one."""
    if position >= len(c.op.inputs) or c.op.inputs[position] < 0:
        return None
    bias = c.const(position, "bias")
    if bias.dtype != np.int64:
        c.fail(f"a 16x8 bias must be int64 (this one is {bias.dtype}; TFLM's int32-bias 16x8 "
               "variant has no C kernel)")
    return bias


def _conv(cls):
    """CONV_2D / DEPTHWISE_CONV_2D 16x8 (with a fused PAD like the int8 ones)."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        _bias64(c, 2)
        return conv._conv(c, cls)
    return prepare


def _fully_connected(c: Context):
    """FULLY_CONNECTED 16x8."""
    if c.opt.get("weights_format", 0) != 0:
        c.fail("shuffled weights formats are not supported")
    x, w, y = c.tensor(0), c.tensor(1, "filter"), c.out()
    wq = w.quantization
    if wq is None or len(wq.scales) == 0:
        c.fail(f"filter {w.name} has no quantisation parameters")
    filter_q = Quant(np.asarray(wq.scales, np.float32) if len(wq.scales) > 1
                     else float(wq.scales[0]), int(wq.zero_points[0]))
    kernel = kernel_ops.FullyConnected16x8(
        x.shape, c.const(1, "filter"), _bias64(c, 2), c.quant(x), filter_q, c.quant(y),
        activation=c.act(), keep_num_dims=bool(c.opt.get("keep_num_dims", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _binary(cls):
    """ADD / SUB / MUL int16."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        a, b, y = c.tensor(0), c.tensor(1), c.out()
        kernel = cls(a.shape, b.shape, c.quant(a), c.quant(b), c.quant(y), activation=c.act(),
                     lib=c.lib)
        return kernel, (c.op.inputs[0], c.op.inputs[1])
    return prepare


def _pool(cls):
    """AVERAGE_POOL_2D / MAX_POOL_2D int16."""
    def prepare(c: Context):
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


def _quantize(c: Context):
    """QUANTIZE with int16 on one side (or both)."""
    x, y = c.tensor(0), c.out()
    if x.dtype == FLOAT32:
        return kernel_ops.QuantizeInt16(x.shape, c.quant(y), lib=c.lib), (c.op.inputs[0],)
    kernel = kernel_ops.RequantizeInt16(x.shape, c.quant(x), c.quant(y), x.dtype, y.dtype,
                                        lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _dequantize(c: Context):
    """DEQUANTIZE int16 -> float32."""
    x = c.tensor(0)
    return kernel_ops.DequantizeInt16(x.shape, c.quant(x), lib=c.lib), (c.op.inputs[0],)


def _mean(c: Context):
    """MEAN int16 over constant axes."""
    x = c.tensor(0)
    kernel = kernel_ops.MeanInt16(x.shape, c.const(1, "axes"), c.quant(x), c.quant(c.out()),
                                  keep_dims=bool(c.opt.get("keep_dims", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _sigmoid(cls):
    """TANH / LOGISTIC int16."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        x = c.tensor(0)
        return cls(x.shape, c.quant(x), c.quant(c.out()), lib=c.lib), (c.op.inputs[0],)
    return prepare


def _softmax(c: Context):
    """SOFTMAX int16 -> int16 over the last axis."""
    x = c.tensor(0)
    kernel = kernel_ops.SoftmaxInt16(x.shape, c.quant(x), c.quant(c.out()),
                                     beta=c.opt.get("beta", 1.0), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _byte(shape) -> tuple:
    """The byte shape of an int16 tensor."""
    return tuple(int(d) for d in shape) + (2,)


def _reshape(c: Context):
    """RESHAPE-likes: a byte copy."""
    kernel = kernel_ops.Reshape(_byte(c.tensor(0).shape), _byte(c.out().shape), lib=c.lib)
    return kernel_ops.Int16Bytes(kernel), (c.op.inputs[0],)


def _concatenation(c: Context):
    """CONCATENATION of int16 tensors sharing the output's quantisation."""
    if c.act() != "NONE":
        c.fail(f"fused activation {c.act()} is not supported")
    y = c.out()
    tensors = [c.tensor(i) for i in range(len(c.op.inputs))]
    for t in tensors:
        if c.quant(t) != c.quant(y):
            c.fail(f"input {t.name} is quantised differently from the output (TFLM requires "
                   "the same scale and zero point)")
    axis = int(c.opt.get("axis", 0))
    rank = len(y.shape)
    if not -rank <= axis < rank:
        c.fail(f"axis {axis} out of range for rank {rank}")
    kernel = kernel_ops.Concatenation([_byte(t.shape) for t in tensors], axis % rank,
                                      lib=c.lib)
    return kernel_ops.Int16Bytes(kernel), tuple(c.op.inputs)


def _split(c: Context):
    """SPLIT / SPLIT_V of an int16 tensor: the int8 preparer's split over the bytes."""
    int8_kernel, data = shape_ops.PREPARERS[c.op.opcode](c)
    x = c.sg.tensors[data[0]]
    sizes, axis = [], None
    for shape in int8_kernel.output_shapes:
        diff = [i for i, (a, b) in enumerate(zip(shape, x.shape)) if a != b]
        axis = diff[0] if diff else axis
    if axis is None:  # one piece, or every piece the whole axis: any axis with pieces of 1
        axis = 0
    sizes = [s[axis] for s in int8_kernel.output_shapes]
    kernel = kernel_ops.Split(_byte(x.shape), axis, sizes, lib=c.lib)
    return kernel_ops.Int16Bytes(kernel), data


def _pad(c: Context):
    """PAD / PADV2 of an int16 tensor: the fill must be 0 (both of its bytes 0)."""
    x, y = c.tensor(0), c.out()
    if c.quant(x) != c.quant(y):
        c.fail("input and output quantisation differ")
    value = c.quant(y).zero_point
    if c.op.opcode == "PADV2" and len(c.op.inputs) > 2 and c.op.inputs[2] >= 0:
        value = int(c.const(2, "constant value").reshape(-1)[0])
    if value != 0:
        c.fail(f"an int16 PAD fill of {value} is not supported (TFLM's int16 zero point is 0)")
    paddings = np.vstack([np.asarray(c.const(1, "paddings"), np.int64).reshape(-1, 2),
                          [[0, 0]]])
    kernel = kernel_ops.Pad(_byte(x.shape), paddings, 0, lib=c.lib)
    return kernel_ops.Int16Bytes(kernel), (c.op.inputs[0],)


def _strided_slice(c: Context):
    """STRIDED_SLICE of an int16 tensor (the byte axis taken whole)."""
    x = c.tensor(0)
    extend = lambda position, what, last: list(  # noqa: E731
        np.asarray(c.const(position, what)).reshape(-1)) + [last]
    kernel = kernel_ops.StridedSlice(
        _byte(x.shape), extend(1, "begin", 0), extend(2, "end", 2), extend(3, "strides", 1),
        begin_mask=c.opt.get("begin_mask", 0), end_mask=c.opt.get("end_mask", 0),
        shrink_axis_mask=c.opt.get("shrink_axis_mask", 0),
        ellipsis_mask=c.opt.get("ellipsis_mask", 0), new_axis_mask=c.opt.get("new_axis_mask", 0),
        offset=bool(c.opt.get("offset", False)), lib=c.lib)
    return kernel_ops.Int16Bytes(kernel), (c.op.inputs[0],)


def _slice(c: Context):
    """SLICE of an int16 tensor."""
    x = c.tensor(0)
    begin = list(c.const(1, "begin").reshape(-1)) + [0]
    size = list(c.const(2, "size").reshape(-1)) + [2]
    kernel = kernel_ops.Slice(_byte(x.shape), begin, size, lib=c.lib)
    return kernel_ops.Int16Bytes(kernel), (c.op.inputs[0],)


def _transpose(c: Context):
    """TRANSPOSE of an int16 tensor (the byte axis stays last)."""
    x = c.tensor(0)
    perm = [int(p) % len(x.shape) for p in c.const(1, "perm").reshape(-1)] + [len(x.shape)]
    kernel = kernel_ops.Transpose(_byte(x.shape), perm, lib=c.lib)
    return kernel_ops.Int16Bytes(kernel), (c.op.inputs[0],)


def _resize_nearest(c: Context):
    """RESIZE_NEAREST_NEIGHBOR of an int16 NHWC tensor: pixels of 2 * C bytes."""
    x, y = c.tensor(0), c.out()
    size = c.const(1, "size").reshape(-1)
    if size.size != 2 or len(x.shape) != 4:
        c.fail("needs a 4-D input and size (height, width)")
    n, h, w, ch = (int(d) for d in x.shape)
    kernel = kernel_ops.ResizeNearestNeighbor(
        (n, h, w, 2 * ch), (int(size[0]), int(size[1])),
        align_corners=bool(c.opt.get("align_corners", False)),
        half_pixel_centers=bool(c.opt.get("half_pixel_centers", False)), lib=c.lib)
    kernel.output_shape = kernel.output_shape[:3] + (ch, 2)
    kernel.input_shape = (n, h, w, ch, 2)
    return kernel_ops.Int16Bytes(kernel), (c.op.inputs[0],)


INT16_PREPARERS = {
    "CONV_2D": _conv(kernel_ops.Conv2D16x8),
    "DEPTHWISE_CONV_2D": _conv(kernel_ops.DepthwiseConv2D16x8),
    "FULLY_CONNECTED": _fully_connected,
    "ADD": _binary(kernel_ops.AddInt16),
    "SUB": _binary(kernel_ops.SubInt16),
    "MUL": _binary(kernel_ops.MulInt16),
    "AVERAGE_POOL_2D": _pool(kernel_ops.AveragePool2DInt16),
    "MAX_POOL_2D": _pool(kernel_ops.MaxPool2DInt16),
    "MEAN": _mean,
    "SOFTMAX": _softmax,
    "TANH": _sigmoid(kernel_ops.TanhInt16),
    "LOGISTIC": _sigmoid(kernel_ops.LogisticInt16),
    "QUANTIZE": _quantize,
    "DEQUANTIZE": _dequantize,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "EXPAND_DIMS": _reshape,
    "CONCATENATION": _concatenation,
    "SPLIT": _split,
    "SPLIT_V": _split,
    "PAD": _pad,
    "PADV2": _pad,
    "STRIDED_SLICE": _strided_slice,
    "SLICE": _slice,
    "TRANSPOSE": _transpose,
    "RESIZE_NEAREST_NEIGHBOR": _resize_nearest,
}
_INT8_PREPARERS = {**conv.PREPARERS, **elementwise.PREPARERS, **shape_ops.PREPARERS}
_DATA_POSITION = {"SPLIT": 1}  # the activation operand, where it is not input 0


def _int16_involved(c: Context) -> bool:
    """True when the operator's activation input or its first output is int16."""
    x = c.tensor(_DATA_POSITION.get(c.op.opcode, 0))
    return x.dtype == INT16 or c.out().dtype == INT16


def _dispatch(opcode: str):
    """The preparer of `opcode`: int16 operands to INT16_PREPARERS, others to the int8 one."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        chosen = INT16_PREPARERS if _int16_involved(c) else _INT8_PREPARERS
        return chosen[opcode](c)
    return prepare


PREPARERS = {opcode: _dispatch(opcode) for opcode in INT16_PREPARERS}
