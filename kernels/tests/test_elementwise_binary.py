"""ADD, SUB and MUL against TFLM: different input scales, broadcasting (between two
model inputs and against constants), fused activations."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import (SingleOp, Tflm, activation, assert_bytes_equal, convert,
                             float_samples, int8_inputs, random_range)
from rnnedge.kernels import ops

R = ((-1.0, 2.0), (-4.0, 3.0))
OPS = {"ADD": (tf.add, ops.Add), "SUB": (tf.subtract, ops.Sub), "MUL": (tf.multiply, ops.Mul)}
# (op, shape a, shape b or None for a constant, constant shape, activation, ranges)
FIXED = [
    ("ADD", (1, 6, 5, 3), (1, 6, 5, 3), None, None, R),
    ("ADD", (2, 4, 5, 3), (1, 1, 5, 1), None, "relu", R),
    ("ADD", (1, 7, 4), None, (4,), "relu6", R),
    ("SUB", (1, 6, 5, 3), (1, 6, 5, 3), None, None, R),
    ("SUB", (3, 1, 8), (1, 5, 1), None, "relu", R),
    ("MUL", (1, 6, 5, 3), (1, 6, 5, 3), None, None, R),
    ("MUL", (2, 3, 4, 5), (1, 3, 1, 5), None, "relu6", R),
    ("MUL", (1, 9, 6), None, (1, 6), None, R),
]


def _random_case(seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape_a = tuple(int(d) for d in rng.integers(1, 7, size=rank))
    shape_b = tuple(d if rng.random() < 0.6 else 1 for d in shape_a)
    shape_b = shape_b[int(rng.integers(0, rank)):] or (1,)
    if rng.random() < 0.5:
        shape_a, shape_b = shape_b, shape_a
    return (str(rng.choice(list(OPS))), shape_a, shape_b, None,
            rng.choice([None, "relu", "relu6"]), (random_range(rng), random_range(rng)))


CASES = FIXED + [_random_case(seed) for seed in range(400, 409)]


def _model(case, rng):
    name, sa, sb, sconst, act, ((lo_a, hi_a), (lo_b, hi_b)) = case
    tf_op = OPS[name][0]
    post = {"relu": tf.nn.relu, "relu6": tf.nn.relu6}.get(act, tf.identity)
    if sb is None:
        const = tf.constant(rng.uniform(-3, 3, size=sconst).astype(np.float32))

        def fn(a):
            return post(tf_op(a, const))
        reps = float_samples(rng, [sa], lo_a, hi_a)
        return convert(f"bin-{case}", fn, [sa], reps)

    def fn2(a, b):
        return post(tf_op(a, b))
    reps = [[rng.uniform(lo_a, hi_a, sa).astype(np.float32),
             rng.uniform(lo_b, hi_b, sb).astype(np.float32)] for _ in range(32)]
    return convert(f"bin-{case}", fn2, [sa, sb], reps)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_binary_op_matches_tflm(case, lib, rng):
    name = case[0]
    model = _model(case, rng)
    opts, ins, outs = SingleOp(model).only(name)
    a, b = ins
    kernel = OPS[name][1](a.shape, b.shape, a.quant, b.quant, outs[0].quant,
                          activation=activation(opts), lib=lib)
    tflm = Tflm(model)
    inputs_a = int8_inputs(rng, a.shape)
    if b.data is not None:
        for xa in inputs_a:
            assert_bytes_equal(tflm(xa)[0], kernel(xa, b.data), name)
    else:
        for xa, xb in zip(inputs_a, int8_inputs(rng, b.shape)[::-1]):
            assert_bytes_equal(tflm(xa, xb)[0], kernel(xa, xb), name)
