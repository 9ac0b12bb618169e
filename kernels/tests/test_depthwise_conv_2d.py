"""DEPTHWISE_CONV_2D against TFLM: fixed and seeded random shapes, depth multipliers,
strides, dilation, padding, activations and calibration ranges."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import (SingleOp, Tflm, activation, assert_bytes_equal, convert,
                             float_samples, int8_inputs, padding, random_range)
from rnnedge.kernels import ops

# (input NHWC, kh, kw, depth_multiplier, stride, dilation, padding, activation, range)
FIXED = [
    ((1, 9, 9, 4), 3, 3, 1, 1, 1, "SAME", "relu6", (-2.0, 1.5)),
    ((2, 10, 7, 3), 3, 5, 2, 2, 1, "VALID", None, (-2.0, 1.5)),
    ((1, 12, 12, 5), 3, 3, 1, 1, 2, "SAME", "relu", (-2.0, 1.5)),
]


def _random_case(seed):
    rng = np.random.default_rng(seed)
    kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
    stride, dilation = (int(rng.integers(1, 4)), 1) if rng.random() < 0.7 else \
        (1, int(rng.integers(1, 3)))
    shape = (int(rng.integers(1, 3)), int(rng.integers(kh * dilation, 14)),
             int(rng.integers(kw * dilation, 14)), int(rng.integers(1, 9)))
    return (shape, kh, kw, int(rng.integers(1, 4)), stride, dilation,
            str(rng.choice(["SAME", "VALID"])), rng.choice([None, "relu", "relu6"]),
            random_range(rng))


CASES = FIXED + [_random_case(seed) for seed in range(200, 205)]


def _model(case, rng):
    shape, kh, kw, mult, stride, dilation, pad, act, (lo, hi) = case
    w = tf.constant(rng.normal(0, 0.6, size=(kh, kw, shape[3], mult)).astype(np.float32))
    b = tf.constant(rng.normal(0, 0.3, size=(shape[3] * mult,)).astype(np.float32))

    def fn(x):
        y = tf.nn.depthwise_conv2d(x, w, strides=(1, stride, stride, 1), padding=pad,
                                   dilations=(dilation, dilation)) + b
        return {"relu": tf.nn.relu, "relu6": tf.nn.relu6}.get(act, tf.identity)(y)
    return convert(f"dwconv-{case}", fn, [shape], float_samples(rng, [shape], lo, hi))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_depthwise_conv_2d_matches_tflm(case, lib, rng):
    model = _model(case, rng)
    opts, ins, outs = SingleOp(model).only("DEPTHWISE_CONV_2D")
    x, w, b = ins
    kernel = ops.DepthwiseConv2D(x.shape, w.data, b.data, x.quant, w.quant.scale,
                                 outs[0].quant, stride=(opts.strideH, opts.strideW),
                                 dilation=(opts.dilationHFactor, opts.dilationWFactor),
                                 padding=padding(opts), activation=activation(opts),
                                 output_shape=outs[0].shape, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "DEPTHWISE_CONV_2D")
