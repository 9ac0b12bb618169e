"""Preparers of the reductions beside MEAN (SUM, REDUCE_MAX, REDUCE_MIN), the lookups (GATHER,
GATHER_ND, EMBEDDING_LOOKUP), ADD_N, PACK / UNPACK, BATCH_MATMUL and RESIZE_BILINEAR.

Imports numpy, rnnedge.kernels and this package's context.
"""

import numpy as np

from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops

INT8 = np.dtype(np.int8)
INT32 = np.dtype(np.int32)


def _int8(c: Context, t, what: str) -> None:
    """Refuse a non-int8 data tensor (TFLM's int8 kernels are the ones rnnedge runs)."""
    if t.dtype != INT8:
        c.fail(f"{what} {t.name} is {t.type_name}; the C kernel takes int8 data")


def _sum(c: Context):
    """SUM over constant axes."""
    x = c.tensor(0)
    kernel = kernel_ops.Sum(x.shape, c.const(1, "axes"), c.quant(x), c.quant(c.out()),
                            keep_dims=bool(c.opt.get("keep_dims", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _reduce_extreme(cls):
    """Preparer of REDUCE_MAX / REDUCE_MIN (`cls`)."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        x, y = c.tensor(0), c.out()
        if c.quant(x) != c.quant(y):
            c.fail("input and output quantisation differ (TFLM requires them equal)")
        kernel = cls(x.shape, c.const(1, "axes"), keep_dims=bool(c.opt.get("keep_dims", False)),
                     lib=c.lib)
        return kernel, (c.op.inputs[0],)
    return prepare


def _indices(c: Context, position: int, axis_sizes):
    """The int32 index tensor at `position`; constant indices are range-checked here against
    `axis_sizes` (one bound per index column; TFLM fails the invocation on them)."""
    t = c.tensor(position, "indices")
    if t.dtype != INT32:
        c.fail(f"indices {t.name} are {t.type_name}; the C kernel takes INT32 indices")
    if t.data is not None:
        values = np.asarray(t.data, dtype=np.int64).reshape(-1, len(axis_sizes))
        bounds = np.asarray(axis_sizes, dtype=np.int64)
        if values.size and (np.any(values < 0) or np.any(values >= bounds)):
            c.fail(f"constant indices {t.name} leave the range [0, {list(axis_sizes)})")
    return t


def _gather(c: Context):
    """GATHER along `axis` with `batch_dims` (constant or run-time indices)."""
    x = c.tensor(0)
    _int8(c, x, "input")
    axis = int(c.opt.get("axis", 0))
    ax = axis % len(x.shape) if x.shape and -len(x.shape) <= axis < len(x.shape) else 0
    idx = _indices(c, 1, [x.shape[ax]] if x.shape else [0])
    kernel = kernel_ops.Gather(x.shape, idx.shape, axis, int(c.opt.get("batch_dims", 0)),
                               lib=c.lib)
    return kernel, (c.op.inputs[0], c.op.inputs[1])


def _gather_nd(c: Context):
    """GATHER_ND (constant or run-time indices)."""
    x = c.tensor(0)
    _int8(c, x, "input")
    raw = c.tensor(1, "indices")
    depth = raw.shape[-1] if raw.shape else 0
    if not 1 <= depth <= len(x.shape):
        c.fail(f"indices {raw.name} of shape {raw.shape} do not fit input {x.shape}")
    idx = _indices(c, 1, x.shape[:depth])
    return kernel_ops.GatherNd(x.shape, idx.shape, lib=c.lib), (c.op.inputs[0], c.op.inputs[1])


def _embedding_lookup(c: Context):
    """EMBEDDING_LOOKUP int8 -> int8 (ids first in the model, the table second)."""
    value, y = c.tensor(1, "value"), c.out()
    _int8(c, value, "value")
    if y.dtype != INT8:
        c.fail(f"output {y.name} is {y.type_name}; only the int8 -> int8 lookup runs (TFLM's "
               "hybrid int8 -> float32 one does not)")
    ids = _indices(c, 0, [value.shape[0]] if value.shape else [0])
    kernel = kernel_ops.EmbeddingLookup(value.shape, ids.shape, lib=c.lib)
    return kernel, (c.op.inputs[1], c.op.inputs[0])


def _add_n(c: Context):
    """ADD_N of same-shaped inputs sharing one quantisation (as TFLM requires)."""
    ins = [c.tensor(i) for i in range(len(c.op.inputs))]
    for t in ins:
        _int8(c, t, "input")
        if t.shape != ins[0].shape or c.quant(t) != c.quant(ins[0]):
            c.fail("inputs differ in shape or quantisation (TFLM requires them equal)")
    kernel = kernel_ops.AddN(ins[0].shape, len(ins), c.quant(ins[0]), c.quant(c.out()),
                             lib=c.lib)
    return kernel, tuple(c.op.inputs)


def _pack(c: Context):
    """PACK of same-shaped inputs along a new axis (TFLM copies the bytes, no rescale)."""
    shapes = [c.tensor(i).shape for i in range(len(c.op.inputs))]
    if any(s != shapes[0] for s in shapes):
        c.fail(f"input shapes {shapes} differ")
    for i in range(len(c.op.inputs)):
        _int8(c, c.tensor(i), "input")
    kernel = kernel_ops.Pack(shapes[0], len(shapes), int(c.opt.get("axis", 0)), lib=c.lib)
    return kernel, tuple(c.op.inputs)


def _unpack(c: Context):
    """UNPACK along `axis` into `num` outputs."""
    x = c.tensor(0)
    _int8(c, x, "input")
    num = int(c.opt.get("num", 0)) or None
    kernel = kernel_ops.Unpack(x.shape, int(c.opt.get("axis", 0)), num, lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _batch_matmul(c: Context):
    """BATCH_MATMUL of two int8 operands (either may be constant)."""
    a, b, y = c.tensor(0, "lhs"), c.tensor(1, "rhs"), c.out()
    for t, what in ((a, "lhs"), (b, "rhs")):
        _int8(c, t, what)
        if t.quantization is not None and len(t.quantization.scales) > 1:
            c.fail(f"{what} {t.name} is quantised per channel; TFLM's BATCH_MATMUL uses one "
                   "scale per operand")
    kernel = kernel_ops.BatchMatmul(a.shape, b.shape, c.quant(a), c.quant(b), c.quant(y),
                                    adj_x=bool(c.opt.get("adj_x", False)),
                                    adj_y=bool(c.opt.get("adj_y", False)), lib=c.lib)
    return kernel, (c.op.inputs[0], c.op.inputs[1])


def _resize_bilinear(c: Context):
    """RESIZE_BILINEAR to a constant size."""
    x = c.tensor(0)
    size = c.const(1, "size").reshape(-1)
    if size.size != 2:
        c.fail("size must hold (height, width)")
    kernel = kernel_ops.ResizeBilinear(
        x.shape, (int(size[0]), int(size[1])),
        align_corners=bool(c.opt.get("align_corners", False)),
        half_pixel_centers=bool(c.opt.get("half_pixel_centers", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


PREPARERS = {
    "SUM": _sum,
    "REDUCE_MAX": _reduce_extreme(kernel_ops.ReduceMax),
    "REDUCE_MIN": _reduce_extreme(kernel_ops.ReduceMin),
    "GATHER": _gather,
    "GATHER_ND": _gather_nd,
    "EMBEDDING_LOOKUP": _embedding_lookup,
    "ADD_N": _add_n,
    "PACK": _pack,
    "UNPACK": _unpack,
    "BATCH_MATMUL": _batch_matmul,
    "RESIZE_BILINEAR": _resize_bilinear,
}
