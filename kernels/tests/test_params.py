"""Derived quantisation parameters against independent computations."""

import math

import numpy as np
import pytest

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params
from rnnedge.kernels.params import Quant


@pytest.mark.parametrize("real", [0.5, 0.75, 1e-3, 0.0071, 3.3, 1234.5, 2.0**-30])
def test_quantize_multiplier_represents_the_real_value(real):
    m, shift = params.quantize_multiplier(real)
    assert 2**30 <= m < 2**31
    assert abs(m * 2.0 ** (shift - 31) - real) <= real * 2.0**-31


def test_quantize_multiplier_matches_tflm_by_hand():
    """TFLM's QuantizeMultiplier: frexp(real) = q * 2^shift, multiplier = TfLiteRound(q * 2^31),
    worked out by hand: 0.5 = 0.5 * 2^0, 0.001 = 0.512 * 2^-9 (0.512 * 2^31 =
    1099511627.776), 3.3 = 0.825 * 2^2 (1771674009.6)."""
    assert params.quantize_multiplier(0.5) == (1 << 30, 0)
    assert params.quantize_multiplier(0.75) == (3 << 29, 0)
    assert params.quantize_multiplier(0.001) == (1099511628, -9)
    assert params.quantize_multiplier(3.3) == (1771674010, 2)


def test_tanh_params_match_tflm_by_hand():
    """TFLM's int8 TANH Prepare for input scale float32(0.05): input_real_multiplier =
    0.0500000007450580597 * 2^27 = 6710886.5 = 0.80000001 * 2^23, so multiplier
    round(6710886.5 * 2^8) = 1717986944, left shift 23, and CalculateInputRadius(4, 23) =
    floor(15 * 2^27 / 2^23) = 240."""
    assert params.tanh_params(Quant(0.05, 2), Quant(1 / 128, 0)) == {
        "input_zero_point": 2, "input_range_radius": 240, "input_multiplier": 1717986944,
        "input_left_shift": 23}


def test_quantize_multiplier_edge_cases():
    assert params.quantize_multiplier(0.0) == (0, 0)
    # A significand rounding up to 2^31 is halved and the exponent bumped.
    assert params.quantize_multiplier(1.0 - 2.0**-40) == (2**30, 1)
    # Below 2^-32 the multiplier is flushed to zero.
    assert params.quantize_multiplier(2.0**-33) == (0, 0)
    # TfLiteRound rounds the half-way significand away from zero.
    assert params.quantize_multiplier(0.5 + 2.0**-32)[0] == 2**30 + 1


def test_activation_ranges_use_float32_division_and_half_away_rounding():
    out = Quant(np.float32(6.0 / 255), -128)
    assert params.activation_range("RELU", out) == (-128, 127)
    assert params.activation_range("RELU6", out) == (-128, 127)
    out = Quant(0.05, 10)
    assert params.activation_range("RELU6", out) == (10, 127)
    assert params.activation_range(3, Quant(0.1, -20)) == (-20, 40)
    assert params.activation_range("RELU_N1_TO_1", Quant(0.1, 0)) == (-10, 10)
    assert params.tflite_round(2.5) == 3 and params.tflite_round(-2.5) == -3
    with pytest.raises(RnnedgeError):
        params.activation_range("SIGN_BIT", out)


def test_padding_and_output_size_follow_tflm():
    assert params.output_size("SAME", 10, 3, 2) == 5
    assert params.output_size("VALID", 10, 3, 2) == 4
    assert params.output_size("VALID", 10, 3, 1, dilation=2) == 6
    assert params.compute_padding(2, 1, 10, 3, 5) == 0   # total 1 -> 0 before
    assert params.compute_padding(1, 1, 10, 3, 10) == 1
    assert params.compute_padding(1, 2, 10, 3, 10) == 2


def test_fc_per_tensor_product_is_float32():
    a, b, c = 0.1, 0.3, 0.07
    m, s = params.fc_per_tensor_multiplier(a, b, c)
    product = float(np.float32(a) * np.float32(b))
    assert (m, s) == params.quantize_multiplier(product / float(np.float32(c)))


def test_add_and_sub_multipliers_recombine_to_the_scale_ratios():
    q1, q2, qo = Quant(0.02, 3), Quant(0.05, -7), Quant(0.06, 1)
    for fields in (params.add_params(q1, q2, qo), params.sub_params(q1, q2, qo)):
        r1 = fields["input1_multiplier"] * 2.0 ** (fields["input1_shift"] - 31)
        ro = fields["output_multiplier"] * 2.0 ** (fields["output_shift"] - 31)
        assert math.isclose(r1 * ro * 2**20, 0.02 / 0.06, rel_tol=1e-6)
        assert fields["left_shift"] == 20 and fields["input2_offset"] == 7


def test_tanh_logistic_softmax_parameters():
    p = params.tanh_params(Quant(0.05, 2), Quant(1 / 128, 0))
    assert p["input_multiplier"] * 2.0 ** (p["input_left_shift"] - 31) == \
        pytest.approx(0.05 * 2**27, rel=1e-7)
    assert p["input_range_radius"] == math.floor(15 * 2**27 / 2 ** p["input_left_shift"])
    with pytest.raises(RnnedgeError):
        params.logistic_params(Quant(0.05, 0), Quant(1 / 256, 0))
    s = params.softmax_params(Quant(0.1, 0), Quant(1 / 256, -128))
    assert s["input_multiplier"] * 2.0 ** (s["input_left_shift"] - 31) == \
        pytest.approx(float(np.float32(0.1)) * 2**26, rel=1e-7)
    assert s["diff_min"] == -math.floor(31 * 2**26 / 2 ** s["input_left_shift"])


def test_broadcast_strides():
    b = params.broadcast((2, 1, 3), (4, 1))
    assert b["dims"] == [1, 1, 1, 2, 4, 3]
    assert b["strides1"] == [6, 6, 6, 3, 0, 1]
    assert b["strides2"] == [4, 4, 4, 0, 1, 0]


def test_strided_slice_resolution_matches_numpy():
    x = np.arange(5 * 7).reshape(5, 7)
    for begin, end, strides, bm, em, sm in [((1, -2), (4, 0), (2, -1), 0, 0, 0),
                                            ((0, 1), (0, 6), (1, 3), 1, 0, 0),
                                            ((3, 0), (4, 7), (1, 1), 0, 2, 1)]:
        r = params.strided_slice(x.shape, begin, end, strides, bm, em, sm)
        sl = []
        for ax in range(2):
            b = None if bm & (1 << ax) else begin[ax]
            e = None if em & (1 << ax) else end[ax]
            sl.append(begin[ax] if sm & (1 << ax) else slice(b, e, strides[ax]))
        want = np.atleast_2d(x[tuple(sl)]) if sm else x[tuple(sl)]
        got_shape = r["output_dims"][-2:]
        assert int(np.prod(got_shape)) == want.size
        idx = [r["begin"][-2] + i * r["stride"][-2] for i in range(got_shape[0])]
        jdx = [r["begin"][-1] + j * r["stride"][-1] for j in range(got_shape[1])]
        assert np.array_equal(x[np.ix_(idx, jdx)].reshape(-1), want.reshape(-1))
