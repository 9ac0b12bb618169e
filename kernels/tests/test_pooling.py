"""AVERAGE_POOL_2D and MAX_POOL_2D against TFLM: fixed and seeded random windows,
strides, SAME/VALID padding and calibration ranges."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import (SingleOp, Tflm, activation, assert_bytes_equal, convert,
                             float_samples, int8_inputs, padding, random_range)
from rnnedge.kernels import ops

# (op, input NHWC, window, stride, padding)
FIXED = [
    ("AVERAGE_POOL_2D", (1, 9, 9, 3), (3, 3), (2, 2), "SAME"),
    ("AVERAGE_POOL_2D", (2, 8, 11, 4), (2, 3), (2, 1), "VALID"),
    ("AVERAGE_POOL_2D", (1, 7, 7, 6), (7, 7), (1, 1), "VALID"),
    ("MAX_POOL_2D", (1, 9, 9, 3), (3, 3), (2, 2), "SAME"),
    ("MAX_POOL_2D", (2, 10, 7, 5), (2, 2), (2, 2), "VALID"),
]


def _random_case(seed):
    rng = np.random.default_rng(seed)
    window = tuple(int(v) for v in rng.integers(1, 5, size=2))
    shape = (int(rng.integers(1, 3)), int(rng.integers(window[0], 13)),
             int(rng.integers(window[1], 13)), int(rng.integers(1, 7)))
    return (str(rng.choice(["AVERAGE_POOL_2D", "MAX_POOL_2D"])), shape, window,
            tuple(int(v) for v in rng.integers(1, 4, size=2)), str(rng.choice(["SAME", "VALID"])))


CASES = FIXED + [_random_case(seed) for seed in range(500, 506)]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0][:3]}{i}" for i, c in enumerate(CASES)])
def test_pool_matches_tflm(case, lib, rng):
    name, shape, window, stride, pad = case
    pool = tf.nn.avg_pool2d if name == "AVERAGE_POOL_2D" else tf.nn.max_pool2d
    model = convert(f"pool-{case}", lambda x: pool(x, window, stride, pad), [shape],
                    float_samples(rng, [shape], *random_range(rng)))
    opts, (x,), (out,) = SingleOp(model).only(name)
    cls = ops.AveragePool2D if name == "AVERAGE_POOL_2D" else ops.MaxPool2D
    kernel = cls(x.shape, (opts.filterHeight, opts.filterWidth), out.quant,
                 stride=(opts.strideH, opts.strideW), padding=padding(opts),
                 activation=activation(opts), output_shape=out.shape, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), name)
