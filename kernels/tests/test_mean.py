"""MEAN against TFLM: global pooling over H, W, other fixed and seeded random axis
sets, keep_dims, random calibration ranges."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs, random_range
from rnnedge.kernels import ops
from rnnedge.kernels.params import Quant

# (input shape, axes, keep_dims)
FIXED = [
    ((1, 7, 7, 8), (1, 2), True),
    ((2, 5, 6, 3), (1, 2), False),
    ((3, 10, 4), (1,), False),
    ((2, 3, 4, 5), (3,), True),
    ((4, 6, 9), (0, 2), False),
]


def _random_case(seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(2, 5))
    shape = tuple(int(d) for d in rng.integers(1, 12, size=rank))
    axes = tuple(sorted(int(a) for a in rng.choice(rank, size=int(rng.integers(1, rank)),
                                                   replace=False)))
    return shape, axes, bool(rng.random() < 0.5)


CASES = FIXED + [_random_case(seed) for seed in range(600, 605)]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_mean_matches_tflm(case, lib, rng):
    shape, axes, keep = case
    model = convert(f"mean-{case}", lambda x: tf.reduce_mean(x, axis=axes, keepdims=keep),
                    [shape], float_samples(rng, [shape], *random_range(rng)))
    _, (x, axis), (out,) = SingleOp(model).only("MEAN")
    kernel = ops.Mean(x.shape, axis.data, x.quant, out.quant, keep_dims=keep, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=8):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "MEAN")


def test_mean_with_identical_quantisation(lib):
    """Equal input and output quantisation: TFLM folds 1/4 into the multiplier
    (2^30, shift 1) -> (2^30, shift -1); sum 7 - 3 * 4 = -5 rescales to -1, + 3."""
    q = Quant(0.05, 3)
    kernel = ops.Mean((1, 2, 2, 1), (1, 2), q, q, keep_dims=True, lib=lib)
    x = np.array([1, 2, 2, 2], np.int8).reshape(1, 2, 2, 1)
    assert kernel(x).reshape(-1).tolist() == [2]
