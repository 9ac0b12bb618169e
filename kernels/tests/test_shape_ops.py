"""PAD, CONCATENATION, SPLIT, STRIDED_SLICE, SLICE, RESHAPE and TRANSPOSE against
TFLM (pure data movement: every byte must match)."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs
from rnnedge.kernels import ops


def _single(key, fn, shapes, rng, name):
    model = convert(key, fn, shapes, float_samples(rng, shapes, -1.0, 1.0))
    return model, SingleOp(model).only(name)


PAD_CASES = [((1, 5, 6, 3), [[0, 0], [1, 2], [2, 0], [0, 0]]),
             ((2, 7, 4), [[1, 0], [0, 3], [2, 2]])]


@pytest.mark.slow
@pytest.mark.parametrize("case", PAD_CASES, ids=["4d", "3d"])
def test_pad_matches_tflm(case, lib, rng):
    shape, pads = case
    model, (_, (x, paddings), (out,)) = _single(f"pad-{shape}", lambda t: tf.pad(t, pads),
                                                [shape], rng, "PAD")
    kernel = ops.Pad(x.shape, paddings.data, out.quant.zero_point, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=2):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "PAD")


CONCAT_CASES = [([(1, 4, 5, 2), (1, 4, 5, 3), (1, 4, 5, 1)], -1),
                ([(2, 3, 4), (2, 5, 4)], 1)]


@pytest.mark.slow
@pytest.mark.parametrize("case", CONCAT_CASES, ids=["last", "middle"])
def test_concatenation_matches_tflm(case, lib, rng):
    shapes, axis = case
    model, (opts, ins, (out,)) = _single(
        f"concat-{case}", lambda *ts: tf.concat(ts, axis), shapes, rng, "CONCATENATION")
    kernel = ops.Concatenation([t.shape for t in ins], opts.axis, lib=lib)
    tflm = Tflm(model)
    xs = [int8_inputs(rng, s, count=2) for s in shapes]
    for trial in zip(*xs):
        assert_bytes_equal(tflm(*trial)[0], kernel(list(trial)), "CONCATENATION")


@pytest.mark.slow
@pytest.mark.parametrize("shape, sizes", [((2, 9, 3), 3), ((2, 8, 3), [2, 5, 1])],
                         ids=["split", "split_v"])
def test_split_matches_tflm(shape, sizes, lib, rng):
    axis = 1
    name = "SPLIT" if isinstance(sizes, int) else "SPLIT_V"
    model, (_, ins, outs) = _single(f"split-{sizes}", lambda t: tuple(tf.split(t, sizes, axis)),
                                    [shape], rng, name)
    x = ins[1] if name == "SPLIT" else ins[0]  # SPLIT takes (axis, input)
    kernel = ops.Split(x.shape, axis, sizes, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=2):
        for want, got in zip(tflm(xin), kernel(xin)):
            assert_bytes_equal(want, got, name)


SLICE_CASES = [
    # (shape, begin, end, strides, begin_mask, end_mask, shrink_axis_mask)
    ((1, 8, 9, 4), (0, 1, 0, 1), (1, 7, 9, 4), (1, 2, 3, 1), 0, 0, 0),
    ((2, 10, 6), (0, -3, 5), (2, 0, 0), (1, -1, -2), 1, 0, 0),
    ((3, 7, 5), (1, 0, 0), (2, 7, 5), (1, 1, 1), 0, 6, 1),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", SLICE_CASES, ids=[str(i) for i in range(len(SLICE_CASES))])
def test_strided_slice_matches_tflm(case, lib, rng):
    shape, begin, end, strides, bm, em, sm = case
    model, (opts, (x, b, e, s), (out,)) = _single(
        f"sslice-{case}", lambda t: tf.strided_slice(t, begin, end, strides, begin_mask=bm,
                                                     end_mask=em, shrink_axis_mask=sm),
        [shape], rng, "STRIDED_SLICE")
    kernel = ops.StridedSlice(x.shape, b.data, e.data, s.data, begin_mask=opts.beginMask,
                              end_mask=opts.endMask, shrink_axis_mask=opts.shrinkAxisMask,
                              offset=opts.offset, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=2):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "STRIDED_SLICE")


@pytest.mark.slow
def test_slice_matches_tflm(lib, rng):
    shape = (2, 7, 6, 3)
    model, (_, (x, b, size), (out,)) = _single(
        "slice", lambda t: tf.slice(t, [1, 2, 0, 1], [1, 4, -1, 2]), [shape], rng, "SLICE")
    kernel = ops.Slice(x.shape, b.data, size.data, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=2):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "SLICE")


@pytest.mark.slow
def test_transpose_matches_tflm(lib, rng):
    shape, perm = (2, 3, 4, 5), (0, 3, 1, 2)
    model, (_, (x, p), (out,)) = _single(
        "transpose", lambda t: tf.transpose(t, perm), [shape], rng, "TRANSPOSE")
    kernel = ops.Transpose(x.shape, p.data, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=2):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "TRANSPOSE")


@pytest.mark.slow
def test_reshape_matches_tflm(lib, rng):
    shape = (1, 4, 6, 2)
    model, (_, ins, (out,)) = _single(
        "reshape", lambda t: tf.reshape(t, (1, 8, 6)), [shape], rng, "RESHAPE")
    kernel = ops.Reshape(ins[0].shape, out.shape, lib=lib)
    tflm = Tflm(model)
    xin = int8_inputs(rng, shape, count=1)[0]
    assert_bytes_equal(tflm(xin)[0], kernel(xin), "RESHAPE")
    assert kernel(xin, out=xin) is xin  # in place
    assert_bytes_equal(tflm(xin)[0], xin, "RESHAPE in place")


def test_transpose_of_rank_six_matches_numpy(lib, rng):
    x = rng.integers(-128, 128, size=(2, 1, 3, 2, 4, 2), dtype=np.int8)
    perm = (5, 0, 3, 1, 4, 2)
    assert np.array_equal(ops.Transpose(x.shape, perm, lib=lib)(x), x.transpose(perm))
