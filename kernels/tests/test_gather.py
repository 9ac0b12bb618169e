"""GATHER (constant and run-time int32 indices, axis, batch_dims), EMBEDDING_LOOKUP (int8 ->
int8, schema-written) and GATHER_ND against TFLM;
out-of-range run-time indices are refused as TFLM refuses them."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs
from mixed_inputs import convert_mixed
from schema_models import Spec, single_op_model
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops

CONST_CASES = [((5, 4), [3, 0, 3, 1], 0), ((2, 6, 3), [[5, 1], [0, 2]], 1),
               ((3, 4, 7), [6, 0, 2, 2, 1], -1)]


@pytest.mark.slow
@pytest.mark.parametrize("case", CONST_CASES, ids=["axis0", "axis1-2d", "last"])
def test_gather_constant_indices_matches_tflm(case, lib, rng):
    shape, indices, axis = case
    model = convert(f"gather-{case}", lambda x: tf.gather(x, indices, axis=axis), [shape],
                    float_samples(rng, [shape]))
    opts, (x, idx), (out,) = SingleOp(model).only("GATHER")
    kernel = ops.Gather(x.shape, idx.shape, opts.axis, opts.batchDims, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=2):
        assert_bytes_equal(tflm(xin)[0], kernel(xin, idx.data.astype(np.int32)), "GATHER")


TENSOR_CASES = [((6, 5), (4,), 0, 0), ((3, 7, 2), (3, 4), 1, 1), ((2, 3, 5), (2, 2, 2), 2, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("case", TENSOR_CASES, ids=["plain", "batch_dims", "batch_dims-3d"])
def test_gather_tensor_indices_matches_tflm(case, lib, rng):
    shape, ishape, axis, batch_dims = case
    bound = shape[axis]
    rep = [[rng.uniform(-1, 1, shape).astype(np.float32),
            rng.integers(0, bound, ishape).astype(np.int32)] for _ in range(16)]
    model = convert_mixed(f"gather-t-{case}",
                          lambda x, i: tf.gather(x, i, axis=axis, batch_dims=batch_dims),
                          [(shape, "float32"), (ishape, "int32")], rep)
    opts, (x, idx), (out,) = SingleOp(model).only("GATHER")
    kernel = ops.Gather(x.shape, idx.shape, opts.axis, opts.batchDims, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=3):
        ind = rng.integers(0, bound, idx.shape).astype(np.int32)
        ind.reshape(-1)[0] = bound - 1  # the last valid index
        assert_bytes_equal(tflm(xin, ind)[0], kernel(xin, ind), "GATHER")


def test_gather_out_of_range_index_is_refused(lib):
    kernel = ops.Gather((4, 3), (2,), 0, lib=lib)
    x = np.arange(12, dtype=np.int8).reshape(4, 3)
    assert kernel(x, np.array([3, 0], np.int32)).tolist() == [[9, 10, 11], [0, 1, 2]]
    for bad in (4, -1):
        with pytest.raises(RnnedgeError, match="outside the range"):
            kernel(x, np.array([0, bad], np.int32))


ND_CASES = [((4, 5, 3), (2, 2)), ((3, 4), (5, 2)), ((2, 3, 4), (2, 2, 1))]


@pytest.mark.slow
@pytest.mark.parametrize("case", ND_CASES, ids=["slices", "elements", "depth1"])
def test_gather_nd_matches_tflm(case, lib, rng):
    shape, ishape = case
    bounds = np.array(shape[:ishape[-1]])
    rep = [[rng.uniform(-1, 1, shape).astype(np.float32),
            (rng.integers(0, 1 << 20, ishape) % bounds).astype(np.int32)] for _ in range(16)]
    model = convert_mixed(f"gather_nd-{case}", tf.gather_nd,
                          [(shape, "float32"), (ishape, "int32")], rep)
    _, (x, idx), (out,) = SingleOp(model).only("GATHER_ND")
    kernel = ops.GatherNd(x.shape, idx.shape, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    for xin in int8_inputs(rng, x.shape, count=3):
        ind = (rng.integers(0, 1 << 20, idx.shape) % bounds).astype(np.int32)
        assert_bytes_equal(tflm(xin, ind)[0], kernel(xin, ind), "GATHER_ND")


def test_gather_nd_hand_values_and_bounds(lib):
    kernel = ops.GatherNd((2, 3), (2, 2), lib=lib)
    x = np.arange(6, dtype=np.int8).reshape(2, 3)
    assert kernel(x, np.array([[1, 2], [0, 1]], np.int32)).tolist() == [5, 1]
    with pytest.raises(RnnedgeError, match="outside the range"):
        kernel(x, np.array([[1, 3], [0, 0]], np.int32))


def test_embedding_lookup_matches_tflm(lib, rng):
    table = rng.integers(-128, 128, (6, 2, 3)).astype(np.int8)
    model = single_op_model("EMBEDDING_LOOKUP", [Spec((4,), np.int32),
                                                 Spec(table.shape, np.int8, (0.1, 2), table)],
                            [Spec((4, 2, 3), np.int8, (0.1, 2))])
    kernel = ops.EmbeddingLookup(table.shape, (4,), lib=lib)
    tflm = Tflm(model)
    for ids in ([5, 0, 5, 2], [1, 1, 1, 1], [0, 3, 4, 5]):
        ids = np.array(ids, np.int32)
        assert_bytes_equal(tflm(ids)[0], kernel(table, ids), "EMBEDDING_LOOKUP")
    with pytest.raises(RnnedgeError, match="outside the range"):
        kernel(table, np.array([6, 0, 0, 0], np.int32))
