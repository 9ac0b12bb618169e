"""PRELU, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE and DIV against TFLM: different input scales,
broadcasting (between two model inputs and against constants, up to each op's TFLM rank),
saturated and random int8 inputs, seeded random shapes and quantisations."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import (SingleOp, Tflm, activation, assert_bytes_equal, convert,
                             float_samples, int8_inputs, random_range)
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops
from rnnedge.kernels.params import Quant

R = ((-1.0, 2.0), (-4.0, 3.0))
OPS = {"MAXIMUM": (tf.math.maximum, ops.Maximum), "MINIMUM": (tf.math.minimum, ops.Minimum),
       "SQUARED_DIFFERENCE": (tf.math.squared_difference, ops.SquaredDifference),
       "DIV": (tf.math.divide, ops.Div)}
# (op, shape a, shape b or None for a constant, constant shape, ranges)
FIXED = [
    ("MAXIMUM", (1, 6, 5, 3), (1, 6, 5, 3), None, R),
    ("MAXIMUM", (2, 3, 4, 5, 2), (1, 3, 1, 5, 1), None, R),
    ("MINIMUM", (2, 4, 5, 3), (1, 1, 5, 1), None, R),
    ("MINIMUM", (1, 7, 4), None, (4,), R),
    ("SQUARED_DIFFERENCE", (1, 6, 5, 3), (1, 6, 5, 3), None, R),
    ("SQUARED_DIFFERENCE", (3, 1, 8), (1, 5, 1), None, ((-0.1, 0.2), (-9.0, 7.0))),
    ("SQUARED_DIFFERENCE", (1, 9, 6), None, (1, 6), R),
    ("DIV", (1, 6, 5, 3), (1, 6, 5, 3), None, ((-3.0, 3.0), (0.5, 4.0))),
    ("DIV", (2, 3, 4, 5), (1, 3, 1, 5), None, ((-1.0, 1.0), (-4.0, -0.25))),
    # (TF's converter folds a constant divisor into a MUL)
    ("DIV", (1, 9, 6), (6,), None, ((-8.0, 8.0), (0.5, 2.0))),
]


def _random_case(seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape_a = tuple(int(d) for d in rng.integers(1, 7, size=rank))
    shape_b = tuple(d if rng.random() < 0.6 else 1 for d in shape_a)
    shape_b = shape_b[int(rng.integers(0, rank)):] or (1,)
    if rng.random() < 0.5:
        shape_a, shape_b = shape_b, shape_a
    name = str(rng.choice(list(OPS)))
    ranges = (random_range(rng), random_range(rng))
    if name == "DIV":  # keep the divisor away from zero
        ranges = (ranges[0], (float(rng.uniform(0.2, 1.0)), float(rng.uniform(1.5, 6.0))))
    return (name, shape_a, shape_b, None, ranges)


CASES = FIXED + [_random_case(seed) for seed in range(1740, 1750)]


def _model(case, rng):
    name, sa, sb, sconst, ((lo_a, hi_a), (lo_b, hi_b)) = case
    tf_op = OPS[name][0]
    if sb is None:
        const = tf.constant(rng.uniform(lo_b, hi_b, size=sconst).astype(np.float32))
        return convert(f"binmath-{case}", lambda a: tf_op(a, const), [sa],
                       float_samples(rng, [sa], lo_a, hi_a))
    reps = [[rng.uniform(lo_a, hi_a, sa).astype(np.float32),
             rng.uniform(lo_b, hi_b, sb).astype(np.float32)] for _ in range(32)]
    return convert(f"binmath-{case}", lambda a, b: tf_op(a, b), [sa, sb], reps)


def _divisors(xb, q):
    """TFLM DCHECKs a divisor at its zero point: move those one step away."""
    return np.where(xb == q.zero_point, np.int8(q.zero_point + (1 if q.zero_point < 127 else -1)),
                    xb).astype(np.int8)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_binary_math_matches_tflm(case, lib, rng):
    name = case[0]
    model = _model(case, rng)
    opts, ins, outs = SingleOp(model).only(name)
    a, b = ins
    act = activation(opts) if name == "DIV" else "NONE"
    kernel = OPS[name][1](a.shape, b.shape, a.quant, b.quant, outs[0].quant, activation=act,
                          lib=lib)
    tflm = Tflm(model)
    inputs_a = int8_inputs(rng, a.shape)
    if b.data is not None:
        for xa in inputs_a:
            assert_bytes_equal(tflm(xa)[0], kernel(xa, b.data), name)
    else:
        for xa, xb in zip(inputs_a, int8_inputs(rng, b.shape)[::-1]):
            if name == "DIV":
                xb = _divisors(xb, b.quant)
            assert_bytes_equal(tflm(xa, xb)[0], kernel(xa, xb), name)


PRELU_CASES = [((1, 6, 5, 3), (1, 1, 3), (-3.0, 3.0)), ((2, 4, 7), (4, 7), (-1.0, 6.0)),
               ((1, 5, 5, 8), (1, 1, 8), (-20.0, 2.0)), ((3, 16), (16,), (-0.3, 0.4))]


@pytest.mark.slow
@pytest.mark.parametrize("case", PRELU_CASES, ids=[f"PRELU{i}" for i in range(len(PRELU_CASES))])
def test_prelu_matches_tflm(case, lib, rng):
    shape, alpha_shape, (lo, hi) = case
    alpha = rng.uniform(-0.8, 1.5, size=alpha_shape).astype(np.float32)
    layer = tf.keras.layers.PReLU(shared_axes=None)
    layer.build((None,) + shape[1:])
    layer.set_weights([np.broadcast_to(alpha, layer.get_weights()[0].shape).copy()])
    model = convert(f"prelu-{case}", lambda x: layer(x), [shape],
                    float_samples(rng, [shape], lo, hi))
    _, (x, a), (out,) = SingleOp(model).only("PRELU")
    kernel = ops.Prelu(x.shape, a.shape, x.quant, a.quant, out.quant, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape):
        assert_bytes_equal(tflm(xin)[0], kernel(xin, a.data), "PRELU")


def test_div_refuses_a_zero_divisor(lib):
    kernel = ops.Div((3,), (3,), Quant(0.1, 0), Quant(0.1, 5), Quant(0.2, 0), lib=lib)
    out = np.full(3, 9, np.int8)
    with pytest.raises(RnnedgeError, match="outside the range"):
        kernel(np.array([1, 2, 3], np.int8), np.array([6, 5, 7], np.int8), out)
    assert np.all(out == 9)  # checked before anything is written


def test_broadcast_rank_limits_follow_tflm(lib):
    q = Quant(0.1, 0)
    with pytest.raises(RnnedgeError, match="at most 4"):
        ops.SquaredDifference((2, 1, 3, 1, 5), (1, 4, 1, 6, 1), q, q, q, lib=lib)
    ops.Maximum((2, 1, 3, 1, 5), (1, 4, 1, 6, 1), q, q, q, lib=lib)  # 5-D is TFLM's limit
