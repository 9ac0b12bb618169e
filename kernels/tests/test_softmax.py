"""SOFTMAX (int8 -> int8) against TFLM: fixed and seeded random row lengths and
input scales."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs, random_range
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops

# (shape, representative range)
FIXED = [
    ((4, 10), (-4.0, 4.0)),
    ((2, 3, 37), (-20.0, 15.0)),
    ((1, 100), (-1.0, 1.0)),
    ((3, 16), (-6.0, 2.0)),
]
CASES = FIXED + [((int(r.integers(1, 4)), int(r.integers(1, 60))), random_range(r))
                 for r in map(np.random.default_rng, range(700, 704))]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_softmax_matches_tflm(case, lib, rng):
    shape, (lo, hi) = case
    model = convert(f"softmax-{case}", tf.nn.softmax, [shape],
                    float_samples(rng, [shape], lo, hi))
    opts, (x,), (out,) = SingleOp(model).only("SOFTMAX")
    kernel = ops.Softmax(x.shape, x.quant, out.quant, beta=opts.beta, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=6):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "SOFTMAX")


@pytest.mark.slow
def test_softmax_over_a_thousand_classes(lib, rng):
    """Random 1000-class rows match TFLM; a row of 1000 equal logits overflows the
    fixed-point sum (TFLM's host build aborts on it) and raises a clear error."""
    shape = (2, 1000)
    model = convert("softmax-1000", tf.nn.softmax, [shape], float_samples(rng, [shape], -3, 3))
    _, (x,), (out,) = SingleOp(model).only("SOFTMAX")
    kernel = ops.Softmax(x.shape, x.quant, out.quant, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=3)[:3]:
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "SOFTMAX")
    with pytest.raises(RnnedgeError, match="SOFTMAX: the input data is outside"):
        kernel(np.zeros(shape, np.int8))
