"""int32 ADD and the six int32 comparisons (WHILE loop counters and conditions) against
TFLM on single-op schema models: broadcast shapes, constant operands, the int32 extremes
(ADD wraps as TFLM's int32 arithmetic does on the host), equal values (the edge of every
comparison), both kernel sets."""

import numpy as np
import pytest

from kernels_harness import Tflm, assert_bytes_equal
from rnnedge.kernels import ops
from schema_models import Spec, single_op_model

SHAPES = [((), ()), ((2, 3, 4), (1, 3, 1)), ((5,), (1,)), ((2, 1, 3, 4), (4,))]
EXTREMES = np.array([-2**31, 2**31 - 1, -1, 0, 1], np.int32)


def _inputs(rng, shape1, shape2):
    """Random pairs, a pair of equal values, and the extremes."""
    pairs = [(rng.integers(-9, 10, shape1, np.int32), rng.integers(-9, 10, shape2, np.int32))
             for _ in range(3)]
    pairs.append((np.full(shape1, 7, np.int32), np.full(shape2, 7, np.int32)))
    pairs.append((rng.choice(EXTREMES, shape1).astype(np.int32),
                  rng.choice(EXTREMES, shape2).astype(np.int32)))
    return pairs


@pytest.mark.parametrize("shapes", SHAPES, ids=[str(i) for i in range(len(SHAPES))])
def test_add_int32_matches_tflm(shapes, lib, rng):
    a, b = shapes
    out = np.broadcast_shapes(a, b)
    tflm = Tflm(single_op_model("ADD", [Spec(a, np.int32), Spec(b, np.int32)],
                                [Spec(out, np.int32)]))
    kernel = ops.AddInt32(a, b, lib=lib)
    assert kernel.output_shape == out
    for xa, xb in _inputs(rng, a, b):
        assert_bytes_equal(tflm(xa, xb)[0], kernel(xa, xb), "ADD int32")


@pytest.mark.parametrize("name", ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER",
                                  "GREATER_EQUAL"])
@pytest.mark.parametrize("shapes", SHAPES, ids=[str(i) for i in range(len(SHAPES))])
def test_compare_int32_matches_tflm(name, shapes, lib, rng):
    a, b = shapes
    out = np.broadcast_shapes(a, b)
    tflm = Tflm(single_op_model(name, [Spec(a, np.int32), Spec(b, np.int32)],
                                [Spec(out, np.bool_)]))
    kernel = ops.CompareInt32(name, a, b, lib=lib)
    for xa, xb in _inputs(rng, a, b):
        got = kernel(xa, xb)
        assert got.dtype == np.bool_
        assert_bytes_equal(tflm(xa, xb)[0], got, name)


def test_compare_int32_against_a_constant(lib):
    """`i < 5` with the limit a constant, as the converter writes a loop condition."""
    model = single_op_model("LESS", [Spec((), np.int32), Spec((), np.int32,
                                                              data=np.array(5, np.int32))],
                            [Spec((), np.bool_)])
    tflm = Tflm(model)
    kernel = ops.CompareInt32("LESS", (), (), lib=lib)
    for i in (-1, 4, 5, 6):
        x = np.array(i, np.int32)
        assert bool(tflm(x)[0]) == (i < 5)
        assert_bytes_equal(tflm(x)[0], kernel(x, np.array(5, np.int32)), "LESS")
