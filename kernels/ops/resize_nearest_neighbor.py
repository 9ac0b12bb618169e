"""RESIZE_NEAREST_NEIGHBOR.

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_resize_nearest_neighbor.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import structs
from rnnedge.kernels.ops.base import Kernel, SingleIO, hw_pair


class ResizeNearestNeighbor(SingleIO):
    """RESIZE_NEAREST_NEIGHBOR of an NHWC tensor to `size` = (height, width)."""

    op, entry = "RESIZE_NEAREST_NEIGHBOR", "rn_resize_nearest_neighbor"

    def __init__(self, input_shape, size, *, align_corners=False, half_pixel_centers=False,
                 lib=None):
        Kernel.__init__(self, lib)
        if len(input_shape) != 4 or min(int(d) for d in input_shape[1:3]) <= 0:
            raise RnnedgeError(f"{self.op}: input must be 4-D NHWC with non-empty H and W")
        n, h, w, c = (int(d) for d in input_shape)
        oh, ow = hw_pair(size)
        if oh < 0 or ow < 0:
            raise RnnedgeError(f"{self.op}: output size must not be negative")
        self.input_shape, self.output_shape = (n, h, w, c), (n, oh, ow, c)
        self.params = structs.ResizeNearestNeighborParams(
            batches=n, input_height=h, input_width=w, depth=c, output_height=oh,
            output_width=ow, align_corners=int(bool(align_corners)),
            half_pixel_centers=int(bool(half_pixel_centers)))
