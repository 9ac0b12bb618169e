"""L2_NORMALIZATION (converted by TF), CUMSUM and ADD_N (written with the schema: TF converts
them as float) against TFLM: random quantisation, exclusive / reverse, every axis, saturation."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs, random_range
from schema_models import Spec, options, single_op_model
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops
from rnnedge.kernels.params import Quant


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(2, 3, 8), (5, 1), (1, 300), (4, 7)])
def test_l2_normalization_matches_tflm(shape, lib, rng):
    model = convert(f"l2n-{shape}", lambda x: tf.math.l2_normalize(x, axis=-1), [shape],
                    float_samples(rng, [shape], *random_range(rng)))
    _, (x,), (out,) = SingleOp(model).only("L2_NORMALIZATION")
    kernel = ops.L2Normalization(x.shape, x.quant, out.quant, lib=lib)
    tflm = Tflm(model)
    inputs = int8_inputs(rng, x.shape, count=4)
    inputs.append(np.full(x.shape, x.quant.zero_point, np.int8))  # all-zero rows
    for xin in inputs:
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "L2_NORMALIZATION")


def test_l2_normalization_needs_tflm_output_scale(lib):
    with pytest.raises(RnnedgeError, match="1/128"):
        ops.L2Normalization((2, 4), Quant(0.1, 0), Quant(1 / 64, 0), lib=lib)


def _cumsum_cases():
    rng = np.random.default_rng(811)
    cases = []
    for shape, axis in [((2, 5, 3), 1), ((7,), 0), ((3, 4, 2, 2), -1), ((4, 6), 0)]:
        for exclusive in (False, True):
            for reverse in (False, True):
                qi = (float(rng.uniform(0.005, 0.2)), int(rng.integers(-128, 128)))
                qo = (float(rng.uniform(0.02, 1.0)), int(rng.integers(-128, 128)))
                cases.append((shape, axis, exclusive, reverse, qi, qo))
    return cases


@pytest.mark.parametrize("case", _cumsum_cases(), ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-{c[3]}")
def test_cumsum_matches_tflm(case, lib, rng):
    shape, axis, exclusive, reverse, qi, qo = case
    model = single_op_model(
        "CUMSUM", [Spec(shape, np.int8, qi), Spec((), np.int32, None, np.array(axis, np.int32))],
        [Spec(shape, np.int8, qo)], options("CumsumOptions", exclusive=exclusive,
                                            reverse=reverse), "CumsumOptions")
    kernel = ops.Cumsum(shape, axis, Quant(*qi), Quant(*qo), exclusive=exclusive,
                        reverse=reverse, lib=lib)
    tflm = Tflm(model)
    for xin in int8_inputs(rng, shape, count=3):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), "CUMSUM")


@pytest.mark.parametrize("count", [2, 3, 5])
def test_add_n_matches_tflm(count, lib, rng):
    """ADD_N's int8 path (TF converts add_n as float, so the model is schema-written)."""
    qi = (float(rng.uniform(0.005, 0.2)), int(rng.integers(-128, 128)))
    qo = (float(rng.uniform(0.02, 1.0)), int(rng.integers(-128, 128)))
    shape = (2, 3, 5)
    model = single_op_model("ADD_N", [Spec(shape, np.int8, qi)] * count,
                            [Spec(shape, np.int8, qo)])
    kernel = ops.AddN(shape, count, Quant(*qi), Quant(*qo), lib=lib)
    tflm = Tflm(model)
    trials = [int8_inputs(rng, shape, count=2) for _ in range(count)]
    for xs in zip(*trials):
        assert_bytes_equal(tflm(*xs)[0], kernel(list(xs)), "ADD_N")
