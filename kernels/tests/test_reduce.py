"""SUM, REDUCE_MAX and REDUCE_MIN against TFLM: fixed and seeded random shapes / axis sets,
keep_dims, negative and repeated axes, random calibration ranges, saturated inputs."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs, random_range
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops
from rnnedge.kernels.params import Quant

# (input shape, axes, keep_dims)
FIXED = [
    ((1, 7, 7, 8), (1, 2), True),
    ((2, 5, 6, 3), (-1,), False),
    ((3, 10, 4), (0, 2), False),
    ((4, 6, 9), (1,), True),
    ((2, 3, 4, 5, 2), (1, 3, 4), False),
]


def _random_case(seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(2, 5))
    shape = tuple(int(d) for d in rng.integers(1, 9, size=rank))
    axes = tuple(sorted(int(a) for a in rng.choice(rank, size=int(rng.integers(1, rank + 1)),
                                                   replace=False)))
    return shape, axes, bool(rng.random() < 0.5)


CASES = FIXED + [_random_case(seed) for seed in range(700, 704)]
REDUCERS = {"SUM": (tf.reduce_sum, ops.Sum), "REDUCE_MAX": (tf.reduce_max, ops.ReduceMax),
            "REDUCE_MIN": (tf.reduce_min, ops.ReduceMin)}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REDUCERS))
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_reduce_matches_tflm(name, case, lib, rng):
    shape, axes, keep = case
    tf_fn, cls = REDUCERS[name]
    model = convert(f"{name}-{case}", lambda x: tf_fn(x, axis=axes, keepdims=keep), [shape],
                    float_samples(rng, [shape], *random_range(rng)))
    _, (x, axis), (out,) = SingleOp(model).only(name)
    if name == "SUM":
        kernel = cls(x.shape, axis.data, x.quant, out.quant, keep_dims=keep, lib=lib)
    else:
        assert x.quant == out.quant  # TFLM's requirement, which the converter meets
        kernel = cls(x.shape, axis.data, keep_dims=keep, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=4):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), name)


def test_sum_hand_values(lib):
    """in scale 0.5, out scale 1.0 (multiplier 2^30, shift 0 -> x0.5), zp 3 / -2:
    sum(5, 7, 1) - 3*3 = 4 -> 2 - 2 = 0; saturates at 127 for large sums."""
    kernel = ops.Sum((2, 3), (1,), Quant(0.5, 3), Quant(1.0, -2), lib=lib)
    x = np.array([[5, 7, 1], [127, 127, 127]], np.int8)
    assert kernel(x).tolist() == [0, 127]


def test_reduce_max_min_hand_values(lib):
    x = np.array([[-128, 5, 3], [7, -1, 127]], np.int8)
    assert ops.ReduceMax((2, 3), (0,), lib=lib)(x).tolist() == [7, 5, 127]
    assert ops.ReduceMin((2, 3), (-1, 1), keep_dims=True, lib=lib)(x).tolist() == [[-128], [-1]]


def test_reduce_axis_out_of_range(lib):
    with pytest.raises(RnnedgeError, match="axis 3 out of range"):
        ops.ReduceMax((2, 3, 4), (3,), lib=lib)


ARG_CASES = [((2, 5, 3), 1), ((7,), 0), ((3, 4, 6), -1), ((2, 3, 4, 5), 0)]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("case", ARG_CASES, ids=[str(i) for i in range(len(ARG_CASES))])
def test_arg_min_max_matches_tflm(name, case, lib, rng):
    shape, axis = case
    tf_fn = tf.argmax if name == "ARG_MAX" else tf.argmin
    model = convert(f"{name}-{case}", lambda x: tf_fn(x, axis=axis, output_type=tf.int32),
                    [shape], float_samples(rng, [shape]))
    _, (x, ax), (out,) = SingleOp(model).only(name)
    kernel = (ops.ArgMax if name == "ARG_MAX" else ops.ArgMin)(x.shape, ax.data, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    inputs = int8_inputs(rng, x.shape, count=3)
    inputs.append(rng.integers(-2, 2, size=x.shape, dtype=np.int8))  # many ties
    for xin in inputs:
        assert_bytes_equal(tflm(xin)[0], kernel(xin), name)


def test_arg_max_ties_keep_the_first_index(lib):
    x = np.array([[3, 7, 7, -1], [5, 5, 5, 5]], np.int8)
    assert ops.ArgMax((2, 4), 1, lib=lib)(x).tolist() == [1, 0]
    assert ops.ArgMin((2, 4), -1, lib=lib)(x).tolist() == [3, 0]
