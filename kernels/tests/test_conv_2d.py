"""CONV_2D against TFLM: fixed edge cases plus seeded random shapes, strides,
dilations, padding, activations and calibration ranges; per-channel and
per-tensor weights."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import (SingleOp, Tflm, activation, assert_bytes_equal, convert,
                             float_samples, int8_inputs, padding, random_range)
from rnnedge.kernels import ops

# (input NHWC, kh, kw, out_ch, stride, dilation, padding, activation, per_channel, range)
FIXED = [
    ((1, 9, 8, 3), 3, 3, 5, 1, 1, "SAME", "relu", True, (-1.5, 2.5)),
    ((2, 11, 7, 4), 5, 3, 6, 2, 1, "VALID", None, True, (-1.5, 2.5)),
    ((1, 10, 10, 2), 3, 3, 4, 1, 2, "SAME", "relu6", True, (-1.5, 2.5)),
    ((1, 6, 9, 8), 1, 1, 3, (2, 1), 1, "SAME", None, False, (-1.5, 2.5)),
]


def _random_case(seed):
    rng = np.random.default_rng(seed)
    kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
    stride, dilation = (int(rng.integers(1, 4)), 1) if rng.random() < 0.7 else \
        (1, int(rng.integers(1, 3)))
    shape = (int(rng.integers(1, 3)), int(rng.integers(kh * dilation, 14)),
             int(rng.integers(kw * dilation, 14)), int(rng.integers(1, 9)))
    return (shape, kh, kw, int(rng.integers(1, 12)), stride, dilation,
            str(rng.choice(["SAME", "VALID"])), rng.choice([None, "relu", "relu6"]),
            bool(rng.random() < 0.8), random_range(rng))


CASES = FIXED + [_random_case(seed) for seed in range(100, 106)]


def _model(case, rng):
    shape, kh, kw, oc, stride, dilation, pad, act, per_channel, (lo, hi) = case
    w = tf.constant((rng.normal(0, 0.5, size=(kh, kw, shape[3], oc))
                     * rng.uniform(0.1, 2.0, size=oc)).astype(np.float32))
    b = tf.constant(rng.normal(0, 0.3, size=(oc,)).astype(np.float32))
    strides = (1, *stride, 1) if isinstance(stride, tuple) else stride

    def fn(x):
        y = tf.nn.conv2d(x, w, strides=strides, padding=pad, dilations=dilation) + b
        return {"relu": tf.nn.relu, "relu6": tf.nn.relu6}.get(act, tf.identity)(y)
    return convert(f"conv2d-{case}", fn, [shape], float_samples(rng, [shape], lo, hi),
                   per_channel=per_channel)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_conv_2d_matches_tflm(case, lib, rng):
    model = _model(case, rng)
    opts, ins, outs = SingleOp(model).only("CONV_2D")
    x, w, b = ins
    assert (np.ndim(w.quant.scale) > 0) == case[8] or case[3] == 1
    kernel = ops.Conv2D(x.shape, w.data, b.data, x.quant, w.quant.scale, outs[0].quant,
                        stride=(opts.strideH, opts.strideW),
                        dilation=(opts.dilationHFactor, opts.dilationWFactor),
                        padding=padding(opts), activation=activation(opts),
                        output_shape=outs[0].shape, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "CONV_2D")


@pytest.mark.slow
def test_grouped_conv_2d_matches_tflm(lib, rng):
    """Input depth 4, filter depth 2: two groups of three output channels."""
    w = tf.constant(rng.normal(0, 0.5, size=(3, 3, 2, 6)).astype(np.float32))
    shape = (1, 8, 7, 4)
    model = convert("conv2d-grouped", lambda x: tf.nn.conv2d(x, w, 1, "SAME"), [shape],
                    float_samples(rng, [shape]))
    opts, (x, w_t, b), (out,) = SingleOp(model).only("CONV_2D")
    kernel = ops.Conv2D(x.shape, w_t.data, None if b is None else b.data, x.quant,
                        w_t.quant.scale, out.quant, padding=padding(opts),
                        activation=activation(opts), output_shape=out.shape, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "CONV_2D grouped")
