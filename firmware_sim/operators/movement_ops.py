"""Preparers of ARG_MAX / ARG_MIN, SPACE_TO_DEPTH, DEPTH_TO_SPACE, SPACE_TO_BATCH_ND,
BATCH_TO_SPACE_ND, MIRROR_PAD, BROADCAST_TO, REVERSE_V2, FILL, ZEROS_LIKE, SHAPE,
L2_NORMALIZATION and CUMSUM.

Imports numpy, rnnedge.kernels and this package's context.
"""

import numpy as np

from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops

INT8 = np.dtype(np.int8)
INT32 = np.dtype(np.int32)
MIRROR_MODES = {0: "REFLECT", 1: "SYMMETRIC"}  # TFLite's MirrorPadMode enum


def _same_quant(c: Context) -> None:
    """TFLM's byte-moving kernels do not rescale: input and output share one quantisation."""
    if c.quant(c.tensor(0)) != c.quant(c.out()):
        c.fail("input and output quantisation differ (TFLM copies the bytes)")


def _arg(cls):
    """Preparer of ARG_MAX / ARG_MIN (`cls`): a constant axis, an int32 output."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        x, y = c.tensor(0), c.out()
        if y.dtype != INT32:
            c.fail(f"output {y.name} is {y.type_name}; TFLM's kernel writes INT32 only")
        return cls(x.shape, c.const(1, "axis"), lib=c.lib), (c.op.inputs[0],)
    return prepare


def _space_depth(cls):
    """Preparer of SPACE_TO_DEPTH / DEPTH_TO_SPACE (`cls`)."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        _same_quant(c)
        kernel = cls(c.tensor(0).shape, int(c.opt.get("block_size", 0)), lib=c.lib)
        return kernel, (c.op.inputs[0],)
    return prepare


def _space_to_batch(c: Context):
    """SPACE_TO_BATCH_ND with constant block shape and paddings (pad: output zero point)."""
    _same_quant(c)
    kernel = kernel_ops.SpaceToBatchNd(c.tensor(0).shape, c.const(1, "block shape"),
                                       c.const(2, "paddings"), c.quant(c.out()).zero_point,
                                       lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _batch_to_space(c: Context):
    """BATCH_TO_SPACE_ND with constant block shape and crops."""
    _same_quant(c)
    kernel = kernel_ops.BatchToSpaceNd(c.tensor(0).shape, c.const(1, "block shape"),
                                       c.const(2, "crops"), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _mirror_pad(c: Context):
    """MIRROR_PAD with constant paddings (REFLECT or SYMMETRIC)."""
    _same_quant(c)
    mode = MIRROR_MODES.get(int(c.opt.get("mode", 0)))
    if mode is None:
        c.fail(f"mirror pad mode {c.opt.get('mode')} is unknown")
    kernel = kernel_ops.MirrorPad(c.tensor(0).shape, c.const(1, "paddings"), mode, lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _broadcast_to(c: Context):
    """BROADCAST_TO a constant shape."""
    _same_quant(c)
    kernel = kernel_ops.BroadcastTo(c.tensor(0).shape, c.const(1, "shape"), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _reverse(c: Context):
    """REVERSE_V2 along constant axes."""
    _same_quant(c)
    kernel = kernel_ops.ReverseV2(c.tensor(0).shape, c.const(1, "axes"), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _fill(c: Context):
    """FILL a constant shape with a scalar int8 value (constant or computed)."""
    value, y = c.tensor(1, "value"), c.out()
    if value.dtype != INT8 or value.num_elements != 1:
        c.fail(f"value {value.name} must be one INT8 value")
    if c.quant(value) != c.quant(y):
        c.fail("value and output quantisation differ (TFLM copies the value)")
    return kernel_ops.Fill(c.const(0, "dims"), lib=c.lib), (c.op.inputs[1],)


def _zeros_like(c: Context):
    """ZEROS_LIKE: raw zeros of the input's shape."""
    return kernel_ops.ZerosLike(c.tensor(0).shape, lib=c.lib), (c.op.inputs[0],)


def _shape(c: Context):
    """SHAPE (int32 output; the compiler folds it unless its output leaves the graph)."""
    if c.out().dtype != INT32:
        c.fail(f"output {c.out().name} is {c.out().type_name}; the C kernel writes INT32")
    return kernel_ops.Shape(c.tensor(0).shape, lib=c.lib), (c.op.inputs[0],)


def _l2_normalization(c: Context):
    """L2_NORMALIZATION over the last dim (output quantised 1/128, 0)."""
    if c.act() != "NONE":
        c.fail(f"fused activation {c.act()} is not supported")
    x = c.tensor(0)
    kernel = kernel_ops.L2Normalization(x.shape, c.quant(x), c.quant(c.out()), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _cumsum(c: Context):
    """CUMSUM along a constant axis."""
    x = c.tensor(0)
    axis = c.const(1, "axis").reshape(-1)
    if axis.size != 1:
        c.fail("axis must hold one value")
    kernel = kernel_ops.Cumsum(x.shape, int(axis[0]), c.quant(x), c.quant(c.out()),
                               exclusive=bool(c.opt.get("exclusive", False)),
                               reverse=bool(c.opt.get("reverse", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


PREPARERS = {
    "ARG_MAX": _arg(kernel_ops.ArgMax),
    "ARG_MIN": _arg(kernel_ops.ArgMin),
    "SPACE_TO_DEPTH": _space_depth(kernel_ops.SpaceToDepth),
    "DEPTH_TO_SPACE": _space_depth(kernel_ops.DepthToSpace),
    "SPACE_TO_BATCH_ND": _space_to_batch,
    "BATCH_TO_SPACE_ND": _batch_to_space,
    "MIRROR_PAD": _mirror_pad,
    "BROADCAST_TO": _broadcast_to,
    "REVERSE_V2": _reverse,
    "FILL": _fill,
    "ZEROS_LIKE": _zeros_like,
    "SHAPE": _shape,
    "L2_NORMALIZATION": _l2_normalization,
    "CUMSUM": _cumsum,
}
