"""RESIZE_BILINEAR against TFLM: up- and down-scaling, align_corners, half_pixel_centers,
size-1 sides, batches."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops

# (input shape, size, align_corners, half_pixel_centers)
CASES = [((1, 4, 5, 3), (7, 9), False, False), ((1, 4, 5, 3), (7, 9), False, True),
         ((2, 4, 5, 2), (7, 3), True, False), ((1, 9, 7, 1), (4, 3), False, True),
         ((1, 1, 3, 2), (5, 1), True, False), ((1, 6, 6, 4), (12, 12), False, False),
         ((1, 5, 3, 2), (1, 8), False, True)]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_resize_bilinear_matches_tflm(case, lib, rng):
    shape, size, align, half = case
    model = convert(f"bilinear-{case}", lambda x: tf.compat.v1.image.resize_bilinear(
        x, size, align_corners=align, half_pixel_centers=half), [shape],
        float_samples(rng, [shape]))
    opts, (x, _), (out,) = SingleOp(model).only("RESIZE_BILINEAR")
    kernel = ops.ResizeBilinear(x.shape, size, align_corners=opts.alignCorners,
                                half_pixel_centers=opts.halfPixelCenters, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=3):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "RESIZE_BILINEAR")


def test_resize_bilinear_midpoint_rounds_away_from_zero(lib):
    """2 -> 4 columns without flags: scale 0.5 in Q10, column 1 is halfway between the two
    pixels: (-3 + -4) / 2 = -3.5 rounds to -4 and (3 + 4) / 2 to 4."""
    kernel = ops.ResizeBilinear((1, 1, 2, 2), (1, 4), lib=lib)
    x = np.array([-3, 3, -4, 4], np.int8).reshape(1, 1, 2, 2)
    assert kernel(x).reshape(4, 2)[1].tolist() == [-4, 4]


def test_resize_bilinear_refuses_both_flags(lib):
    with pytest.raises(RnnedgeError, match="cannot both"):
        ops.ResizeBilinear((1, 2, 2, 1), (4, 4), align_corners=True, half_pixel_centers=True,
                           lib=lib)
