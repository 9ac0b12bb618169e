"""PACK and UNPACK, int8: stacking N same-shaped tensors along a new axis is a concatenation
of their bytes, and unstacking is a split (TFLM's PackImpl / UnpackImpl are the same copies,
with no rescale), so these run on the CONCATENATION and SPLIT kernels and inherit the
compiler's in-place slice handling.

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_pack.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels.ops.shape_ops import Concatenation, Split


class Pack(Concatenation):
    """PACK of `count` tensors of `input_shape` along new axis `axis` (in [-rank-1, rank])."""

    op = "PACK"

    def __init__(self, input_shape, count: int, axis: int = 0, *, lib=None):
        shape = tuple(int(d) for d in input_shape)
        rank = len(shape) + 1
        if not -rank <= int(axis) < rank:
            raise RnnedgeError(f"{self.op}: axis {axis} out of range for rank {rank}")
        if int(count) < 1:
            raise RnnedgeError(f"{self.op}: needs at least one input")
        ax = int(axis) % rank
        piece = shape[:ax] + (1,) + shape[ax:]
        super().__init__([piece] * int(count), ax, lib=lib)
        self.input_shapes = [shape] * int(count)


class Unpack(Split):
    """UNPACK of `input_shape` along `axis` into `num` tensors (`num` = the axis dim)."""

    op = "UNPACK"

    def __init__(self, input_shape, axis: int = 0, num: int | None = None, *, lib=None):
        shape = tuple(int(d) for d in input_shape)
        if not -len(shape) <= int(axis) < len(shape):
            raise RnnedgeError(f"{self.op}: axis {axis} out of range for rank {len(shape)}")
        ax = int(axis) % len(shape)
        if num is not None and int(num) != shape[ax]:
            raise RnnedgeError(f"{self.op}: num {num} differs from the axis dim {shape[ax]}")
        super().__init__(shape, ax, [1] * shape[ax], lib=lib)
        self.output_shapes = [shape[:ax] + shape[ax + 1:]] * shape[ax]
