"""BATCH_MATMUL against TFLM: adj_x / adj_y, broadcast batch dims, ranks 2 to 5, random
calibration ranges, a constant right-hand side, saturated inputs."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs, random_range
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops
from rnnedge.kernels.params import Quant

# (lhs shape, rhs shape, adj_x, adj_y)
CASES = [((2, 4, 5), (2, 5, 3), False, False),
         ((2, 3, 5, 4), (3, 5, 6), True, False),
         ((1, 4, 5), (3, 6, 5), False, True),
         ((3, 1, 7, 2), (1, 4, 2, 7), True, True),
         ((2, 1, 2, 3, 4), (3, 1, 4, 2), False, False),
         ((9, 16), (16, 11), False, False)]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_batch_matmul_matches_tflm(case, lib, rng):
    a, b, adj_x, adj_y = case
    model = convert(f"bmm-{case}", lambda x, y: tf.matmul(x, y, adjoint_a=adj_x,
                                                          adjoint_b=adj_y),
                    [a, b], float_samples(rng, [a, b], *random_range(rng)))
    opts, (x, y), (out,) = SingleOp(model).only("BATCH_MATMUL")
    kernel = ops.BatchMatmul(x.shape, y.shape, x.quant, y.quant, out.quant, adj_x=opts.adjX,
                             adj_y=opts.adjY, lib=lib)
    assert kernel.output_shape == out.shape
    tflm = Tflm(model)
    for xa, xb in zip(int8_inputs(rng, x.shape, count=3), int8_inputs(rng, y.shape, count=3)):
        assert_bytes_equal(tflm(xa, xb)[0], kernel(xa, xb), "BATCH_MATMUL")


def test_batch_matmul_hand_values(lib):
    """scales 0.5 * 0.5 / 0.25 = 1: out = sum((a - 1) * (b + 2)) + 3, clamped."""
    kernel = ops.BatchMatmul((1, 2), (2, 2), Quant(0.5, 1), Quant(0.5, -2), Quant(0.25, 3),
                             lib=lib)
    a = np.array([[3, 2]], np.int8)
    b = np.array([[1, 0], [100, -2]], np.int8)
    # (2 * 3 + 1 * 102) + 3 = 111, (2 * 2 + 1 * 0) + 3 = 7
    assert kernel(a, b).tolist() == [[111, 7]]


def test_batch_matmul_shape_errors(lib):
    q = Quant(0.1, 0)
    with pytest.raises(RnnedgeError, match="inner dim"):
        ops.BatchMatmul((2, 3), (4, 2), q, q, q, lib=lib)
    with pytest.raises(RnnedgeError, match="do not broadcast"):
        ops.BatchMatmul((2, 2, 3), (3, 3, 2), q, q, q, lib=lib)
