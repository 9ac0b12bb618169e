"""Preparers of the pools, MEAN and the data-movement ops: PAD(V2), CONCATENATION, SPLIT(_V),
STRIDED_SLICE, SLICE, the RESHAPE-likes, TRANSPOSE, RESIZE_NEAREST_NEIGHBOR.

Imports numpy, rnnedge.kernels and this package's context.
"""

import numpy as np

from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops

INT8 = np.dtype(np.int8)


def _pool(cls):
    """Preparer of AVERAGE_POOL_2D / MAX_POOL_2D (`cls`)."""
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


def _mean(c: Context):
    """MEAN over constant axes."""
    x = c.tensor(0)
    kernel = kernel_ops.Mean(x.shape, c.const(1, "axes"), c.quant(x), c.quant(c.out()),
                    keep_dims=bool(c.opt.get("keep_dims", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _pad(c: Context):
    """PAD (fill: output zero point) / PADV2 (fill: constant value)."""
    x, y = c.tensor(0), c.out()
    if c.quant(x) != c.quant(y):
        c.fail("input and output quantisation differ")
    value = c.quant(y).zero_point
    if c.op.opcode == "PADV2" and len(c.op.inputs) > 2 and c.op.inputs[2] >= 0:
        value = int(c.const(2, "constant value").reshape(-1)[0])
    return kernel_ops.Pad(x.shape, c.const(1, "paddings"), value, lib=c.lib), (c.op.inputs[0],)


def _concatenation(c: Context):
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


def _split(c: Context):
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


def _strided_slice(c: Context):
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


def _slice(c: Context):
    """SLICE with constant begin/size."""
    x = c.tensor(0)
    kernel = kernel_ops.Slice(x.shape, c.const(1, "begin").reshape(-1), c.const(2, "size").reshape(-1),
                     lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _reshape(c: Context):
    """RESHAPE / SQUEEZE / EXPAND_DIMS: a byte copy to the output's shape."""
    return kernel_ops.Reshape(c.tensor(0).shape, c.out().shape, lib=c.lib), (c.op.inputs[0],)


def _transpose(c: Context):
    """TRANSPOSE by a constant permutation."""
    x = c.tensor(0)
    return kernel_ops.Transpose(x.shape, c.const(1, "perm").reshape(-1), lib=c.lib), (c.op.inputs[0],)


def _resize_nearest(c: Context):
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


PREPARERS = {
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
    "RESIZE_NEAREST_NEIGHBOR": _resize_nearest,
}
