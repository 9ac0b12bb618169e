"""RESIZE_BILINEAR, int8 NHWC (TFLM's integer Q10 interpolation; align_corners and
half_pixel_centers, not both).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in
kernels/tests/test_resize_bilinear.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import structs
from rnnedge.kernels.ops.base import Kernel, SingleIO

MAX_SIDE = 1 << 20  # keeps the Q10 coordinates (side * 2^10) inside int32


class ResizeBilinear(SingleIO):
    """RESIZE_BILINEAR of an NHWC `input_shape` to (height, width) `size`."""

    op, entry = "RESIZE_BILINEAR", "rn_resize_bilinear"

    def __init__(self, input_shape, size, *, align_corners=False, half_pixel_centers=False,
                 lib=None):
        Kernel.__init__(self, lib)
        if len(input_shape) != 4:
            raise RnnedgeError(f"{self.op}: input must be NHWC, got {tuple(input_shape)}")
        n, h, w, c = (int(d) for d in input_shape)
        oh, ow = (int(s) for s in size)
        if min(h, w, oh, ow) <= 0 or max(h, w, oh, ow) > MAX_SIDE:
            raise RnnedgeError(f"{self.op}: sizes {h}x{w} -> {oh}x{ow} must lie in "
                               f"[1, {MAX_SIDE}]")
        if align_corners and half_pixel_centers:
            raise RnnedgeError(f"{self.op}: align_corners and half_pixel_centers cannot both "
                               "be set (TFLM refuses it)")
        self.input_shape, self.output_shape = (n, h, w, c), (n, oh, ow, c)
        self.params = structs.ResizeBilinearParams(
            batches=n, input_height=h, input_width=w, depth=c, output_height=oh,
            output_width=ow, align_corners=int(bool(align_corners)),
            half_pixel_centers=int(bool(half_pixel_centers)))
