"""PACK and UNPACK against TFLM on every axis, including negative axes and rank 1 pieces."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops

PACK_CASES = [((3, 4), 3, 0), ((2, 5, 3), 2, 1), ((2, 3), 4, -1), ((6,), 2, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("case", PACK_CASES, ids=[str(i) for i in range(len(PACK_CASES))])
def test_pack_matches_tflm(case, lib, rng):
    shape, count, axis = case
    shapes = [shape] * count
    model = convert(f"pack-{case}", lambda *ts: tf.stack(ts, axis=axis), shapes,
                    float_samples(rng, shapes, -1.0, 1.0))
    opts, ins, (out,) = SingleOp(model).only("PACK")
    kernel = ops.Pack(ins[0].shape, len(ins), opts.axis, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    xs = [int8_inputs(rng, shape, count=2) for _ in range(count)]
    for trial in zip(*xs):
        assert_bytes_equal(tflm(*trial)[0], kernel(list(trial)), "PACK")


UNPACK_CASES = [((3, 4), 0), ((2, 5, 3), 1), ((2, 3, 4), -1)]


@pytest.mark.slow
@pytest.mark.parametrize("case", UNPACK_CASES, ids=[str(i) for i in range(len(UNPACK_CASES))])
def test_unpack_matches_tflm(case, lib, rng):
    shape, axis = case
    model = convert(f"unpack-{case}", lambda t: tuple(tf.unstack(t, axis=axis)), [shape],
                    float_samples(rng, [shape], -1.0, 1.0))
    opts, (x,), outs = SingleOp(model).only("UNPACK")
    kernel = ops.Unpack(x.shape, opts.axis, opts.num, lib=lib)
    assert kernel.output_shapes == [o.shape for o in outs]
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=2):
        expected = tflm(xin)
        for e, g in zip(expected, kernel(xin)):
            assert_bytes_equal(e, g, "UNPACK")


def test_pack_unpack_round_trip_and_errors(lib):
    x = np.arange(24, dtype=np.int8).reshape(2, 3, 4)
    pieces = ops.Unpack(x.shape, 1, lib=lib)(x)
    assert [p.tolist() for p in pieces] == [x[:, i].tolist() for i in range(3)]
    back = ops.Pack((2, 4), 3, 1, lib=lib)([p.copy() for p in pieces])
    assert back.tolist() == x.tolist()
    with pytest.raises(RnnedgeError, match="num 2 differs"):
        ops.Unpack(x.shape, 1, 2, lib=lib)
    with pytest.raises(RnnedgeError, match="axis 4 out of range"):
        ops.Pack((2, 4), 3, 4, lib=lib)
