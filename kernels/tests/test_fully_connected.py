"""FULLY_CONNECTED against TFLM, per-tensor and per-channel weights.

TFLM, not TFLite's reference kernels, is the reference: per-channel FC can differ
from TFLite on near-ties, and these tests compare with TFLM only."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import (SingleOp, Tflm, activation, assert_bytes_equal, convert,
                             float_samples, int8_inputs, random_range)
from rnnedge.kernels import ops

# (input shape, units, activation, per-channel weights, calibration range)
FIXED = [
    ((1, 37), 11, None, False, (-1.0, 3.0)),
    ((3, 64), 20, "relu", True, (-1.0, 3.0)),
    ((2, 16), 7, "relu6", False, (-1.0, 3.0)),
    ((4, 50), 33, None, True, (-1.0, 3.0)),
]


def _random_case(seed):
    rng = np.random.default_rng(seed)
    return ((int(rng.integers(1, 5)), int(rng.integers(1, 200))), int(rng.integers(1, 40)),
            rng.choice([None, "relu", "relu6"]), bool(rng.random() < 0.5), random_range(rng))


CASES = FIXED + [_random_case(seed) for seed in range(300, 306)]


def _model(case, rng):
    shape, units, act, per_channel, (lo, hi) = case
    w = tf.constant(rng.normal(0, 0.4, size=(shape[-1], units)).astype(np.float32)
                    * rng.uniform(0.2, 2.0, size=(1, units)).astype(np.float32))
    b = tf.constant(rng.normal(0, 0.5, size=(units,)).astype(np.float32))

    def fn(x):
        y = tf.matmul(x, w) + b
        return {"relu": tf.nn.relu, "relu6": tf.nn.relu6}.get(act, tf.identity)(y)
    return convert(f"fc-{case}", fn, [shape], float_samples(rng, [shape], lo, hi),
                   per_channel_dense=per_channel)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_fully_connected_matches_tflm(case, lib, rng):
    model = _model(case, rng)
    opts, ins, outs = SingleOp(model).only("FULLY_CONNECTED")
    x, w, b = ins
    per_channel = np.ndim(w.quant.scale) > 0
    assert per_channel == case[3] or case[1] == 1, "converter ignored the weight layout"
    kernel = ops.FullyConnected(x.shape, w.data, None if b is None else b.data, x.quant,
                                w.quant, outs[0].quant, activation=activation(opts),
                                keep_num_dims=opts.keepNumDims, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=8):
        assert_bytes_equal(tflm(xin)[0], kernel(xin).reshape(outs[0].shape), "FULLY_CONNECTED")
