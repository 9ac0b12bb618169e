"""The remaining byte-moving kernels: SPACE_TO_DEPTH and DEPTH_TO_SPACE (6-D transposes on the
TRANSPOSE kernel), SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, MIRROR_PAD, BROADCAST_TO, REVERSE_V2,
FILL, ZEROS_LIKE and SHAPE.

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_movement.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import INT8, Kernel, SingleIO, c_dims, numel
from rnnedge.kernels.ops.shape_ops import Transpose
from rnnedge.kernels.params import MAX_DIMS

INT32 = np.dtype(np.int32)


def _block(block_size, op: str) -> int:
    if int(block_size) < 1:
        raise RnnedgeError(f"{op}: block size {block_size} must be at least 1")
    return int(block_size)


class SpaceToDepth(Transpose):
    """SPACE_TO_DEPTH of NHWC by `block_size`: [N, H/b, b, W/b, b, C] -> [N, H/b, W/b, b, b, C]."""

    op = "SPACE_TO_DEPTH"

    def __init__(self, input_shape, block_size: int, *, lib=None):
        n, h, w, c = _nhwc(input_shape, self.op)
        b = _block(block_size, self.op)
        if h % b or w % b:
            raise RnnedgeError(f"{self.op}: height {h} and width {w} must be multiples of {b}")
        super().__init__((n, h // b, b, w // b, b, c), (0, 1, 3, 2, 4, 5), lib=lib)
        self.input_shape, self.output_shape = (n, h, w, c), (n, h // b, w // b, b * b * c)


class DepthToSpace(Transpose):
    """DEPTH_TO_SPACE of NHWC by `block_size`: [N, H, W, b, b, C/b^2] -> [N, H, b, W, b, C/b^2]."""

    op = "DEPTH_TO_SPACE"

    def __init__(self, input_shape, block_size: int, *, lib=None):
        n, h, w, c = _nhwc(input_shape, self.op)
        b = _block(block_size, self.op)
        if c % (b * b):
            raise RnnedgeError(f"{self.op}: depth {c} must be a multiple of {b * b}")
        super().__init__((n, h, w, b, b, c // (b * b)), (0, 1, 3, 2, 4, 5), lib=lib)
        self.input_shape, self.output_shape = (n, h, w, c), (n, h * b, w * b, c // (b * b))


def _nhwc(shape, op: str) -> tuple:
    if len(shape) != 4:
        raise RnnedgeError(f"{op}: input must be NHWC, got {tuple(shape)}")
    return tuple(int(d) for d in shape)


def _spatial(shape, block, pairs, op: str):
    """(4-D view, (block_h, block_w), ((top, bottom), (left, right))) of a 3-D or 4-D
    SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND operand (3-D: width 1, block width 1)."""
    shape = tuple(int(d) for d in shape)
    block = [int(b) for b in np.asarray(block).reshape(-1)]
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2).tolist()
    if len(shape) not in (3, 4) or len(block) != len(shape) - 2 or len(pairs) != len(block):
        raise RnnedgeError(f"{op}: input {shape}, block {block} and paddings {pairs} do not fit "
                           "(TFLM takes 3-D or 4-D inputs, one block dim per spatial dim)")
    if any(b < 1 for b in block) or any(v < 0 for p in pairs for v in p):
        raise RnnedgeError(f"{op}: block {block} and paddings {pairs} must be positive")
    if len(shape) == 3:
        return (shape[0], shape[1], 1, shape[2]), (block[0], 1), (tuple(pairs[0]), (0, 0))
    return shape, tuple(block), (tuple(pairs[0]), tuple(pairs[1]))


class SpaceToBatchNd(SingleIO):
    """SPACE_TO_BATCH_ND with constant `block_shape` and `paddings`; padding positions get
    `pad_value` (TFLM: the output zero point)."""

    op, entry = "SPACE_TO_BATCH_ND", "rn_space_to_batch_nd"

    def __init__(self, input_shape, block_shape, paddings, pad_value: int, *, lib=None):
        Kernel.__init__(self, lib)
        (n, h, w, c), (bh, bw), ((pt, pb), (pl, pr)) = _spatial(input_shape, block_shape,
                                                                paddings, self.op)
        if (h + pt + pb) % bh or (w + pl + pr) % bw:
            raise RnnedgeError(f"{self.op}: padded sizes must be multiples of the block")
        oh, ow = (h + pt + pb) // bh, (w + pl + pr) // bw
        self.input_shape = tuple(int(d) for d in input_shape)
        out = (n * bh * bw, oh, ow, c)
        self.output_shape = out if len(self.input_shape) == 4 else (out[0], oh, c)
        self.params = structs.SpaceToBatchNdParams(
            input_batches=n, input_height=h, input_width=w, depth=c, block_height=bh,
            block_width=bw, pad_top=pt, pad_left=pl, output_batches=out[0], output_height=oh,
            output_width=ow, pad_value=int(pad_value))


class BatchToSpaceNd(SingleIO):
    """BATCH_TO_SPACE_ND with constant `block_shape` and `crops`."""

    op, entry = "BATCH_TO_SPACE_ND", "rn_batch_to_space_nd"

    def __init__(self, input_shape, block_shape, crops, *, lib=None):
        Kernel.__init__(self, lib)
        (n, h, w, c), (bh, bw), ((ct, cb), (cl, cr)) = _spatial(input_shape, block_shape,
                                                                crops, self.op)
        if n % (bh * bw):
            raise RnnedgeError(f"{self.op}: batch {n} must be a multiple of the block size")
        oh, ow = h * bh - ct - cb, w * bw - cl - cr
        if oh < 0 or ow < 0:
            raise RnnedgeError(f"{self.op}: crops {crops} exceed the output")
        self.input_shape = tuple(int(d) for d in input_shape)
        out = (n // (bh * bw), oh, ow, c)
        self.output_shape = out if len(self.input_shape) == 4 else (out[0], oh, c)
        self.params = structs.BatchToSpaceNdParams(
            input_batches=n, input_height=h, input_width=w, depth=c, block_height=bh,
            block_width=bw, crop_top=ct, crop_left=cl, output_batches=out[0], output_height=oh,
            output_width=ow)


MIRROR_MODES = {"REFLECT": 1, "SYMMETRIC": 0}  # TFLM's offset per mode


class MirrorPad(SingleIO):
    """MIRROR_PAD by [[before, after], ...] in mode REFLECT or SYMMETRIC."""

    op, entry = "MIRROR_PAD", "rn_mirror_pad"

    def __init__(self, input_shape, paddings, mode: str = "REFLECT", *, lib=None):
        Kernel.__init__(self, lib)
        if str(mode).upper() not in MIRROR_MODES:
            raise RnnedgeError(f"{self.op}: mode {mode!r} is not REFLECT or SYMMETRIC")
        offset = MIRROR_MODES[str(mode).upper()]
        shape = tuple(int(d) for d in input_shape)
        pads = np.asarray(paddings, dtype=np.int64).reshape(-1, 2)
        if pads.shape[0] != len(shape) or np.any(pads < 0) or any(
                max(b, a) > d - offset for d, (b, a) in zip(shape, pads.tolist())):
            raise RnnedgeError(f"{self.op}: paddings {pads.tolist()} do not fit {shape} in mode "
                               f"{mode} (at most the dim{' - 1' if offset else ''} per side)")
        self.input_shape = shape
        self.output_shape = tuple(int(d + b + a) for d, (b, a) in zip(shape, pads.tolist()))
        self.params = structs.MirrorPadParams(
            input_dims=c_dims(params.pad_shape(shape)),
            pad_before=c_dims(params.pad_shape(pads[:, 0].tolist(), 0)),
            output_dims=c_dims(params.pad_shape(self.output_shape)), offset=offset)


class BroadcastTo(SingleIO):
    """BROADCAST_TO of `input_shape` to `shape` (numpy broadcasting rules)."""

    op, entry = "BROADCAST_TO", "rn_broadcast_to"

    def __init__(self, input_shape, shape, *, lib=None):
        Kernel.__init__(self, lib)
        target = tuple(int(d) for d in np.asarray(shape).reshape(-1))
        src = tuple(int(d) for d in input_shape)
        if len(src) > len(target):
            raise RnnedgeError(f"{self.op}: cannot broadcast {src} to {target}")
        try:
            b = params.broadcast(src, target)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        if tuple(b["dims"][MAX_DIMS - len(target):]) != target:
            raise RnnedgeError(f"{self.op}: cannot broadcast {src} to {target}")
        self.input_shape, self.output_shape = src, target
        self.params = structs.BroadcastToParams(shape=structs.Broadcast(
            dims=c_dims(b["dims"]), strides1=c_dims(b["strides1"]), strides2=c_dims([0] * 6)))


class ReverseV2(SingleIO):
    """REVERSE_V2 along constant `axes` (one ascending run of contiguous axes, as TFLM)."""

    op, entry = "REVERSE_V2", "rn_reverse_v2"

    def __init__(self, input_shape, axes, *, lib=None):
        Kernel.__init__(self, lib)
        shape = tuple(int(d) for d in input_shape)
        marks = [0] * len(shape)
        resolved = []
        for a in np.atleast_1d(np.asarray(axes, dtype=np.int64)).tolist():
            if not -len(shape) <= a < len(shape):
                raise RnnedgeError(f"{self.op}: axis {a} out of range for rank {len(shape)}")
            resolved.append(a % len(shape))
            marks[a % len(shape)] = 1
        if resolved != list(range(resolved[0], resolved[0] + len(resolved))):
            raise RnnedgeError(f"{self.op}: axes {resolved} are not one ascending run of "
                               "contiguous axes (TFLM supports only those)")
        self.input_shape = self.output_shape = shape
        self.params = structs.ReverseV2Params(dims=c_dims(params.pad_shape(shape)),
                                              reverse=c_dims(params.pad_shape(marks, 0)))


class Fill(Kernel):
    """FILL of `shape` with the one int8 value of a scalar tensor."""

    op, entry = "FILL", "rn_fill"

    def __init__(self, shape, *, lib=None):
        super().__init__(lib)
        self.output_shape = tuple(int(d) for d in np.asarray(shape).reshape(-1))
        if any(d < 0 for d in self.output_shape):
            raise RnnedgeError(f"{self.op}: dims {self.output_shape} must not be negative")
        self.input_shape = ()
        self.params = structs.FillParams(size=numel(self.output_shape))

    def __call__(self, value, out=None):
        value = self._buffer(value, INT8, (), "value")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(value), self._ptr(out))
        return out


class ZerosLike(SingleIO):
    """ZEROS_LIKE: raw zeros of the input's shape."""

    op, entry = "ZEROS_LIKE", "rn_zeros_like"

    def __init__(self, input_shape, *, lib=None):
        Kernel.__init__(self, lib)
        self._setup(tuple(int(d) for d in input_shape), structs.ZerosLikeParams, {})


class Shape(Kernel):
    """SHAPE: the input's dims as int32."""

    op, entry, output_dtype = "SHAPE", "rn_shape", INT32

    def __init__(self, input_shape, *, lib=None):
        super().__init__(lib)
        dims = [int(d) for d in input_shape]
        if len(dims) > MAX_DIMS:
            raise RnnedgeError(f"{self.op}: rank {len(dims)} exceeds {MAX_DIMS}")
        self.input_shape, self.output_shape = tuple(dims), (len(dims),)
        self.params = structs.ShapeParams(rank=len(dims),
                                          dims=c_dims(dims + [0] * (MAX_DIMS - len(dims))))

    def __call__(self, x, out=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        out = self._output(out, INT32, self.output_shape)
        self._run(self._ptr(x), self._ptr(out, structs.P_I32))
        return out
