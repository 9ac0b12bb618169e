"""Derived parameters of the elementwise math ops (issue 17), computed exactly as TFLite
Micro's Prepare does: each function names the TFLM routine it mirrors and keeps its precision
(float32 steps in numpy float32, doubles as Python floats), as rnnedge.kernels.params does for
the older ops.

ELU's int8 lookup table is filled as TFLM's PopulateLookupTable fills it, in float32 with the
C library's `expf` (the function TFLM's std::exp(float) calls, params.libm_function); GELU's
as TFLite's LUTPopulate fills it (TFLM does not register GELU), with `erff` / `tanhf`.

May import: numpy, the standard library, rnnedge.errors and rnnedge.kernels.params.
"""

import math

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels.params import (INT8_MAX, INT8_MIN, Quant, calculate_input_radius, f32,
                                    libm_function, quantize_multiplier,
                                    quantize_multiplier_greater_than_one,
                                    quantize_multiplier_smaller_than_one_exp, tflite_round)

INT16_MAX = 2**15 - 1
HARD_SWISH_RELUISH_SCALE = np.float32(3.0) / np.float32(32768.0)
COMPARISON_LEFT_SHIFT = 8  # TFLM ComparisonsPrepare's kLeftShift for int8
SQUARED_DIFFERENCE_LEFT_SHIFT = 7  # TFLM SquaredDifferencePrepare for int8
LOG_SOFTMAX_OUTPUT = Quant(16.0 / 256.0, 127)  # TFLM's fixed int8 LOG_SOFTMAX output


def leaky_relu_params(inp: Quant, out: Quant, alpha: float) -> dict:
    """TFLM CalculateOpDataLeakyRelu: QuantizeMultiplier of the float32 products
    in * alpha / out and in / out."""
    alpha_real = float(f32(f32(inp.scale) * f32(alpha)) / f32(out.scale))
    ma, sa = quantize_multiplier(alpha_real)
    mi, si = quantize_multiplier(float(f32(inp.scale) / f32(out.scale)))
    return dict(input_zero_point=int(inp.zero_point), output_zero_point=int(out.zero_point),
                output_multiplier_alpha=ma, output_shift_alpha=sa,
                output_multiplier_identity=mi, output_shift_identity=si)


def downscale_int32_to_int16_multiplier(multiplier: int) -> int:
    """TFLM DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15."""
    rounding = 1 << 15
    if multiplier >= 2**31 - 1 - rounding:
        return INT16_MAX
    return (multiplier + rounding) >> 16


def hard_swish_params(inp: Quant, out: Quant) -> dict:
    """TFLM HardSwishPrepare (int8): the hires input scale (in / 128), the output and
    "relu-ish" multipliers in float32, each QuantizeMultiplier'd and cut to int16."""
    hires = f32(1.0 / 128.0) * f32(inp.scale)
    m_out, e_out = quantize_multiplier(float(hires / f32(out.scale)))
    m_rel, e_rel = quantize_multiplier(float(hires / HARD_SWISH_RELUISH_SCALE))
    if e_out > 0:
        raise RnnedgeError("HARD_SWISH needs an output scale at least the input scale / 128 "
                           "(TFLM requires output_multiplier_exponent <= 0)")
    if e_out < -15 or not -15 <= e_rel <= 16:
        raise RnnedgeError("HARD_SWISH: the input and output scales need an int16 rescale "
                           "shift outside the range TFLM's int16 fixed point is defined on")
    return dict(input_zero_point=int(inp.zero_point), output_zero_point=int(out.zero_point),
                reluish_multiplier_fixedpoint_int16=downscale_int32_to_int16_multiplier(m_rel),
                reluish_multiplier_exponent=e_rel,
                output_multiplier_fixedpoint_int16=downscale_int32_to_int16_multiplier(m_out),
                output_multiplier_exponent=e_out)


def abs_params(inp: Quant, out: Quant) -> dict:
    """TFLM PrepareAbsRsqrt for ABS: rescale by double(in) / double(out) only when the
    float32 scales differ."""
    rescale = f32(inp.scale) != f32(out.scale)
    m, s = quantize_multiplier(float(f32(inp.scale)) / float(f32(out.scale))) if rescale \
        else (0, 0)
    return dict(input_offset=int(inp.zero_point), output_offset=int(out.zero_point),
                needs_rescale=int(rescale), multiplier=m, shift=s)


def rsqrt_params(inp: Quant, out: Quant) -> dict:
    """TFLM SetRsqrtOutputMultiplier: 1 / (sqrt(double(in)) * double(out))."""
    m, s = quantize_multiplier(1.0 / (math.sqrt(float(f32(inp.scale))) * float(f32(out.scale))))
    return dict(input_offset=int(inp.zero_point), output_offset=int(out.zero_point),
                multiplier=m, shift=s)


def prelu_params(inp: Quant, alpha: Quant, out: Quant) -> dict:
    """TFLM CalculatePreluParams: double(in) / double(out) and
    double(in) * double(alpha) / double(out)."""
    s_in, s_alpha, s_out = (float(f32(q.scale)) for q in (inp, alpha, out))
    m1, s1 = quantize_multiplier(s_in / s_out)
    m2, s2 = quantize_multiplier(s_in * s_alpha / s_out)
    return dict(input_offset=-int(inp.zero_point), alpha_offset=-int(alpha.zero_point),
                output_offset=int(out.zero_point), output_multiplier_1=m1, output_shift_1=s1,
                output_multiplier_2=m2, output_shift_2=s2)


def squared_difference_params(in1: Quant, in2: Quant, out: Quant) -> dict:
    """TFLM SquaredDifference PrepareQuantized (int8, left shift 7): the input ratios to
    twice the larger scale in double, the output multiplier
    twice_max^2 / double(float32(2^14 * out))."""
    twice_max = 2.0 * float(max(f32(in1.scale), f32(in2.scale)))
    m1, s1 = quantize_multiplier_smaller_than_one_exp(float(f32(in1.scale)) / twice_max)
    m2, s2 = quantize_multiplier_smaller_than_one_exp(float(f32(in2.scale)) / twice_max)
    shifted_out = float(f32(1 << (2 * SQUARED_DIFFERENCE_LEFT_SHIFT)) * f32(out.scale))
    mo, so = quantize_multiplier(twice_max * twice_max / shifted_out)
    return dict(input1_offset=-int(in1.zero_point), input2_offset=-int(in2.zero_point),
                output_offset=int(out.zero_point), left_shift=SQUARED_DIFFERENCE_LEFT_SHIFT,
                input1_multiplier=m1, input1_shift=s1, input2_multiplier=m2, input2_shift=s2,
                output_multiplier=mo, output_shift=so,
                activation_min=INT8_MIN, activation_max=INT8_MAX)


def div_params(in1: Quant, in2: Quant, out: Quant, activation="NONE") -> dict:
    """TFLM CalculateOpDataDiv (int8): QuantizeMultiplier(float32 in1 / (in2 * out))."""
    from rnnedge.kernels.params import activation_range
    real = float(f32(in1.scale) / (f32(in2.scale) * f32(out.scale)))
    m, s = quantize_multiplier(real)
    lo, hi = activation_range(activation, out)
    return dict(input1_offset=-int(in1.zero_point), input2_offset=-int(in2.zero_point),
                output_offset=int(out.zero_point), output_multiplier=m, output_shift=s,
                activation_min=lo, activation_max=hi)


def comparison_params(in1: Quant | None, in2: Quant | None) -> dict:
    """TFLM ComparisonsPrepare (int8): each input's own scale as a Q31 multiplier below one
    (QuantizeMultiplierSmallerThanOneExp of double(scale)), left shift 8; None for bool
    inputs (compared raw)."""
    if in1 is None or in2 is None:
        return dict(rescale=0, left_shift=0, input1_offset=0, input1_multiplier=0,
                    input1_shift=0, input2_offset=0, input2_multiplier=0, input2_shift=0)
    fields = dict(rescale=1, left_shift=COMPARISON_LEFT_SHIFT)
    for n, q in ((1, in1), (2, in2)):
        if not float(f32(q.scale)) < 1.0:
            raise RnnedgeError(f"input{n} scale {q.scale!r} must be below 1: TFLM compares int8 "
                               "values rescaled by a multiplier smaller than one")
        m, s = quantize_multiplier_smaller_than_one_exp(float(f32(q.scale)))
        fields.update({f"input{n}_offset": -int(q.zero_point), f"input{n}_multiplier": m,
                       f"input{n}_shift": s})
    return fields


def log_softmax_params(inp: Quant, out: Quant) -> dict:
    """TFLM LOG_SOFTMAX CalculateOpData (int8): PreprocessLogSoftmaxScalingExp with beta 1 and
    5 integer bits, diff_min from CalculateInputRadius; the output is fixed at 16/256, 127."""
    if float(f32(out.scale)) != LOG_SOFTMAX_OUTPUT.scale or \
            int(out.zero_point) != LOG_SOFTMAX_OUTPUT.zero_point:
        raise RnnedgeError("int8 LOG_SOFTMAX needs output scale 16/256 and zero point 127")
    real = min(1.0 * float(f32(inp.scale)) * (1 << (31 - 5)), float((1 << 31) - 1))
    mult, left_shift = quantize_multiplier_greater_than_one(real)
    reverse, reverse_left_shift = quantize_multiplier_smaller_than_one_exp(
        (1 << (31 - left_shift)) / float(mult))
    return dict(input_multiplier=mult, input_left_shift=left_shift,
                reverse_scaling_divisor=reverse, reverse_scaling_right_shift=-reverse_left_shift,
                diff_min=-calculate_input_radius(5, left_shift, 31))


def _lookup_table(inp: Quant, out: Quant, transform) -> np.ndarray:
    """TFLM / TFLite PopulateLookupTable (LUTPopulate) for int8: for every int8 v, float32
    in * (v - zp_in) through `transform`, times 1/out, rounded half away from zero, plus zp_out
    (float32, truncated to int), saturated; entry v + 128."""
    inverse = f32(1.0) / f32(out.scale)
    table = np.empty(256, dtype=np.int8)
    for v in range(INT8_MIN, INT8_MAX + 1):
        y = transform(f32(inp.scale) * f32(v - int(inp.zero_point)))
        rescaled = f32(tflite_round(f32(y * inverse)))
        q = int(f32(rescaled + f32(int(out.zero_point))))
        table[v + 128] = min(INT8_MAX, max(INT8_MIN, q))
    return table


def elu_table(inp: Quant, out: Quant) -> np.ndarray:
    """TFLM elu's int8 table: exp(x) - 1 below 0, x above (float32)."""
    expf = libm_function("expf")
    return _lookup_table(inp, out, lambda x: expf(x) - f32(1.0) if x < 0 else x)


GELU_SQRT_2_OVER_PI = f32(math.sqrt(2.0 / math.pi))  # TFLite's kSqrt2dPi, M_2_SQRTPI * M_SQRT1_2
GELU_SQRT_HALF = f32(math.sqrt(0.5))  # M_SQRT1_2


def gelu_table(inp: Quant, out: Quant, approximate: bool) -> np.ndarray:
    """TFLite gelu's int8 table (float32): 0.5 x (1 + erf(x / sqrt 2)), or with `approximate`
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    if approximate:
        tanhf = libm_function("tanhf")
        return _lookup_table(inp, out, lambda x: f32(0.5) * x * (f32(1.0) + tanhf(
            GELU_SQRT_2_OVER_PI * (x + f32(0.044715) * x * x * x))))
    erff = libm_function("erff")
    return _lookup_table(inp, out, lambda x: f32(0.5) * x * (f32(1.0) + erff(
        x * GELU_SQRT_HALF)))
