"""RESIZE_NEAREST_NEIGHBOR against TFLM: up- and down-scaling, align_corners,
half_pixel_centers."""

import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs
from rnnedge.kernels import ops

CASES = [
    # (input NHWC, output (h, w), align_corners, half_pixel_centers)
    ((1, 4, 5, 3), (8, 10), False, False),
    ((2, 7, 6, 2), (3, 4), False, True),
    ((1, 5, 5, 4), (9, 7), True, False),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_resize_nearest_neighbor_matches_tflm(case, lib, rng):
    shape, size, align, half = case

    def fn(x):
        return tf.compat.v1.image.resize_nearest_neighbor(
            x, size, align_corners=align, half_pixel_centers=half)
    model = convert(f"resize-{case}", fn, [shape], float_samples(rng, [shape]))
    opts, (x, sz), (out,) = SingleOp(model).only("RESIZE_NEAREST_NEIGHBOR")
    kernel = ops.ResizeNearestNeighbor(x.shape, sz.data, align_corners=opts.alignCorners,
                                       half_pixel_centers=opts.halfPixelCenters, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=2):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "RESIZE_NEAREST_NEIGHBOR")
