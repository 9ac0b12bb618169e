"""TANH, LOGISTIC, RELU and RELU6 against TFLM, every int8 input value, fixed and
seeded random input quantisations."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    random_range
from rnnedge.kernels import ops

CASES = [
    # (op, tf function, representative range)
    ("TANH", tf.math.tanh, (-3.0, 3.0)),
    ("TANH", tf.math.tanh, (-0.4, 9.0)),
    ("LOGISTIC", tf.math.sigmoid, (-6.0, 6.0)),
    ("LOGISTIC", tf.math.sigmoid, (-20.0, 1.0)),
    ("RELU", tf.nn.relu, (-2.0, 5.0)),
    ("RELU6", tf.nn.relu6, (-3.0, 9.0)),
] + [(name, fn, random_range(np.random.default_rng(800 + i)))
     for i, (name, fn) in enumerate([("TANH", tf.math.tanh), ("LOGISTIC", tf.math.sigmoid),
                                     ("RELU", tf.nn.relu), ("TANH", tf.math.tanh),
                                     ("LOGISTIC", tf.math.sigmoid)])]
SHAPE = (2, 128)


def _kernel(name, x, out, lib):
    if name == "TANH":
        return ops.Tanh(x.shape, x.quant, out.quant, lib=lib)
    if name == "LOGISTIC":
        return ops.Logistic(x.shape, x.quant, out.quant, lib=lib)
    if name == "RELU":
        return ops.Relu(x.shape, x.quant, out.quant, lib=lib)
    return ops.Relu6(x.shape, x.quant, lib=lib)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_activation_matches_tflm(case, lib, rng):
    name, fn, (lo, hi) = case
    model = convert(f"act-{name}-{lo}-{hi}", fn, [SHAPE],
                    float_samples(rng, [SHAPE], lo, hi))
    _, (x,), (out,) = SingleOp(model).only(name)
    kernel = _kernel(name, x, out, lib)
    every_value = np.arange(-128, 128, dtype=np.int8).reshape(SHAPE)
    tflm = Tflm(model)
    for xin in (every_value, every_value[::-1].copy()):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), name)
