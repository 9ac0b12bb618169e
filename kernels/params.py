"""Derived quantisation parameters, computed exactly as TFLite Micro's Prepare does.

Why: bit-exactness depends as much on the integer multipliers, shifts and activation
ranges as on the kernels.  TFLM computes them from float32 scales, sometimes in
double (``QuantizeMultiplier`` from a double), sometimes in float32 (the FC
per-tensor input*filter product, SUB's divisions, activation ranges, AffineQuantize);
each function below names the TFLM routine it mirrors and reproduces its precision
(numpy float32 for float32 steps, Python floats for doubles, and TFLM's
round-half-away-from-zero ``TfLiteRound``).

These are computed once per op (at prepare / code-generation time); the C kernels
only see the resulting integers.

May import: numpy, the standard library (ctypes for the C library's float functions) and
rnnedge.errors. The int16 activations' parameters are in params_int16, the math ops' in
params_math.
"""

import math
from typing import NamedTuple

import numpy as np

from rnnedge.errors import RnnedgeError

INT8_MIN, INT8_MAX = -128, 127
MAX_DIMS = 6

# TFLite's ActivationFunctionType enum values, for callers holding raw option codes.
ACTIVATION_CODES = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}


class Quant(NamedTuple):
    """Affine quantisation of a tensor: real = scale * (q - zero_point).

    `scale` is a float (per-tensor) or a 1-D array (per-channel, filters only).
    """

    scale: float | np.ndarray
    zero_point: int = 0


def f32(x) -> np.float32:
    """`x` rounded to float32 (TFLite stores every scale as float32)."""
    return np.float32(x)


def tflite_round(x: float) -> float:
    """TfLiteRound / std::round: round half away from zero (exact for float32 and
    for doubles below 2^52)."""
    return math.copysign(math.floor(abs(float(x)) + 0.5), x)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLM QuantizeMultiplier(double): (q31 multiplier, shift), real ~= m * 2^(shift-31)."""
    real = float(real)
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(tflite_round(q * (1 << 31)))
    if q_fixed > (1 << 31):
        raise RnnedgeError(f"cannot quantise multiplier {real!r}")
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    if q_fixed > 2**31 - 1:
        raise RnnedgeError(f"cannot quantise multiplier {real!r}")
    return q_fixed, shift


def quantize_multiplier_smaller_than_one_exp(real: float) -> tuple[int, int]:
    """TFLM QuantizeMultiplierSmallerThanOneExp: requires 0 < real < 1, shift <= 0."""
    if not 0.0 < real < 1.0:
        raise RnnedgeError(f"multiplier {real!r} must lie in (0, 1): check the tensor scales")
    m, shift = quantize_multiplier(real)
    if shift > 0:
        raise RnnedgeError(f"multiplier {real!r} must be below 1: check the tensor scales")
    return m, shift


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    """TFLM QuantizeMultiplierGreaterThanOne: requires real > 1, shift >= 0."""
    if not real > 1.0:
        raise RnnedgeError(f"multiplier {real!r} must exceed 1: check the tensor scales")
    m, shift = quantize_multiplier(real)
    if shift < 0:
        raise RnnedgeError(f"multiplier {real!r} must exceed 1: check the tensor scales")
    return m, shift


def calculate_input_radius(integer_bits: int, left_shift: int, total_bits: int = 31) -> int:
    """TFLM CalculateInputRadius: largest input magnitude that does not saturate."""
    max_rescaled = (1.0 * ((1 << integer_bits) - 1) * (1 << (total_bits - integer_bits))
                    / (1 << left_shift))
    return int(math.floor(max_rescaled))


def _quantize_value(value: float, q: Quant) -> int:
    """kernel_util Quantize(): zp + (int)TfLiteRound(f / scale), float32 division."""
    return int(q.zero_point) + int(tflite_round(f32(value) / f32(q.scale)))


def activation_range(activation, out: Quant, bits: int = 8) -> tuple[int, int]:
    """TFLM CalculateActivationRangeQuantized for an int8 output (`bits` 16: an int16 one).

    `activation` is a name (NONE, RELU, RELU6, RELU_N1_TO_1) or TFLite's enum code.
    """
    name = ACTIVATION_CODES.get(activation, activation) if isinstance(activation, int) \
        else str(activation).upper()
    qmin, qmax = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if name == "NONE":
        return qmin, qmax
    if name == "RELU":
        return max(qmin, _quantize_value(0.0, out)), qmax
    if name == "RELU6":
        return (max(qmin, _quantize_value(0.0, out)),
                min(qmax, _quantize_value(6.0, out)))
    if name == "RELU_N1_TO_1":
        return (max(qmin, _quantize_value(-1.0, out)),
                min(qmax, _quantize_value(1.0, out)))
    raise RnnedgeError(f"fused activation {activation!r} is not supported on quantised ops "
                       "(NONE, RELU, RELU6, RELU_N1_TO_1 are)")


def compute_padding(stride: int, dilation: int, in_size: int, filter_size: int,
                    out_size: int) -> int:
    """TFLM ComputePaddingWithOffset: leading padding for the given output size."""
    effective = (filter_size - 1) * dilation + 1
    total = max(0, (out_size - 1) * stride + effective - in_size)
    return total // 2


def output_size(padding: str, in_size: int, filter_size: int, stride: int,
                dilation: int = 1) -> int:
    """TFLM ComputeOutSize for SAME / VALID padding."""
    effective = (filter_size - 1) * dilation + 1
    if str(padding).upper() == "SAME":
        return (in_size + stride - 1) // stride
    if str(padding).upper() == "VALID":
        return (in_size + stride - effective) // stride
    raise RnnedgeError(f"padding {padding!r} is not supported (SAME or VALID)")


def per_channel_multipliers(input_scale: float, filter_scales, output_scale: float,
                            channels: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLM PopulateConvolutionQuantizationParams / FC per-channel: one
    QuantizeMultiplier(double(in) * double(filter[c]) / double(out)) per channel;
    a single filter scale is broadcast over the channels."""
    scales = np.atleast_1d(np.asarray(filter_scales, dtype=np.float32))
    if scales.size not in (1, channels):
        raise RnnedgeError(f"filter has {scales.size} scales for {channels} output channels")
    mults = np.empty(channels, dtype=np.int32)
    shifts = np.empty(channels, dtype=np.int32)
    for c in range(channels):
        s = scales[c] if scales.size > 1 else scales[0]
        real = float(f32(input_scale)) * float(s) / float(f32(output_scale))
        mults[c], shifts[c] = quantize_multiplier(real)
    return mults, shifts


def fc_per_tensor_multiplier(input_scale: float, filter_scale: float,
                             output_scale: float) -> tuple[int, int]:
    """TFLM GetQuantizedConvolutionMultipler: the input*filter product is float32."""
    product = float(f32(input_scale) * f32(filter_scale))
    return quantize_multiplier(product / float(f32(output_scale)))


ADD_SUB_LEFT_SHIFT = 20  # TFLM's int8 ADD/SUB input left shift


ADD_SUB_LEFT_SHIFT_INT16 = 15  # TFLM's int16 ADD/SUB input left shift


def _add_sub_params(in1: Quant, in2: Quant, out: Quant, activation, m1, s1, m2, s2, mo,
                    so, bits=8) -> dict:
    """The ADD/SUB params dict from the three (multiplier, shift) pairs."""
    lo, hi = activation_range(activation, out, bits)
    return dict(input1_offset=-int(in1.zero_point), input2_offset=-int(in2.zero_point),
                output_offset=int(out.zero_point),
                left_shift=ADD_SUB_LEFT_SHIFT if bits == 8 else ADD_SUB_LEFT_SHIFT_INT16,
                input1_multiplier=m1, input1_shift=s1, input2_multiplier=m2,
                input2_shift=s2, output_multiplier=mo, output_shift=so,
                activation_min=lo, activation_max=hi)


def add_params(in1: Quant, in2: Quant, out: Quant, activation="NONE", bits: int = 8) -> dict:
    """TFLM CalculateOpDataAdd (int8: left_shift 20, int16: 15), multipliers in double."""
    shift = ADD_SUB_LEFT_SHIFT if bits == 8 else ADD_SUB_LEFT_SHIFT_INT16
    twice_max = 2.0 * float(max(f32(in1.scale), f32(in2.scale)))
    m1, s1 = quantize_multiplier_smaller_than_one_exp(float(f32(in1.scale)) / twice_max)
    m2, s2 = quantize_multiplier_smaller_than_one_exp(float(f32(in2.scale)) / twice_max)
    mo, so = quantize_multiplier_smaller_than_one_exp(
        twice_max / ((1 << shift) * float(f32(out.scale))))
    return _add_sub_params(in1, in2, out, activation, m1, s1, m2, s2, mo, so, bits)


def sub_params(in1: Quant, in2: Quant, out: Quant, activation="NONE", bits: int = 8) -> dict:
    """TFLM CalculateOpDataSub: like ADD but the ratios are float32 divisions."""
    shift = ADD_SUB_LEFT_SHIFT if bits == 8 else ADD_SUB_LEFT_SHIFT_INT16
    twice_max = f32(2) * max(f32(in1.scale), f32(in2.scale))
    m1, s1 = quantize_multiplier_smaller_than_one_exp(float(f32(in1.scale) / twice_max))
    m2, s2 = quantize_multiplier_smaller_than_one_exp(float(f32(in2.scale) / twice_max))
    mo, so = quantize_multiplier_smaller_than_one_exp(
        float(twice_max / (f32(1 << shift) * f32(out.scale))))
    return _add_sub_params(in1, in2, out, activation, m1, s1, m2, s2, mo, so, bits)


def mul_params(in1: Quant, in2: Quant, out: Quant, activation="NONE", bits: int = 8) -> dict:
    """TFLM CalculateOpDataMul: double(in1) * double(in2) / double(out)."""
    real = float(f32(in1.scale)) * float(f32(in2.scale)) / float(f32(out.scale))
    m, s = quantize_multiplier(real)
    lo, hi = activation_range(activation, out, bits)
    return dict(input1_offset=-int(in1.zero_point), input2_offset=-int(in2.zero_point),
                output_offset=int(out.zero_point), output_multiplier=m, output_shift=s,
                activation_min=lo, activation_max=hi)


def _q4_input_params(inp: Quant) -> dict:
    """TFLM Tanh/Logistic Prepare for int8: frexp(scale * 2^27), radius for Q4.27."""
    real = float(f32(inp.scale)) * float(1 << (31 - 4))
    q, left_shift = math.frexp(real)
    if left_shift < 0:
        raise RnnedgeError(f"input scale {inp.scale!r} is too small for TFLM's Q4.27 tanh/logistic")
    mult = int(tflite_round(q * (1 << 31)))
    return dict(input_zero_point=int(inp.zero_point),
                input_range_radius=calculate_input_radius(4, left_shift, 31),
                input_multiplier=mult, input_left_shift=left_shift)


def tanh_params(inp: Quant, out: Quant) -> dict:
    """TANH int8 parameters; TFLM's kernel writes scale 1/128, zero point 0."""
    if not (float(f32(out.scale)) == 1.0 / 128 and int(out.zero_point) == 0):
        raise RnnedgeError("int8 TANH needs output scale 1/128 and zero point 0")
    return _q4_input_params(inp)


def logistic_params(inp: Quant, out: Quant) -> dict:
    """LOGISTIC int8 parameters; TFLM requires output zero point -128 (scale 1/256)."""
    if int(out.zero_point) != -128 or float(f32(out.scale)) != 1.0 / 256:
        raise RnnedgeError("int8 LOGISTIC needs output scale 1/256 and zero point -128")
    return _q4_input_params(inp)


def softmax_params(inp: Quant, out: Quant, beta: float = 1.0) -> dict:
    """TFLM CalculateSoftmaxParams (int8 -> int8): PreprocessSoftmaxScaling with 5
    integer bits and diff_min from CalculateInputRadius."""
    if int(out.zero_point) != -128 or float(f32(out.scale)) != 1.0 / 256:
        raise RnnedgeError("int8 SOFTMAX needs output scale 1/256 and zero point -128")
    real = min(float(f32(beta)) * float(f32(inp.scale)) * (1 << (31 - 5)),
               float((1 << 31) - 1))
    mult, left_shift = quantize_multiplier_greater_than_one(real)
    diff_min = int(-1.0 * calculate_input_radius(5, left_shift, 31))
    return dict(input_multiplier=mult, input_left_shift=left_shift, diff_min=diff_min)


def libm_function(name: str):
    """The C library's float function `name` (what C++'s std::name(float) calls, e.g. the
    expf of TFLM's lookup tables), through ctypes."""
    import ctypes
    import ctypes.util
    fn = getattr(ctypes.CDLL(ctypes.util.find_library("m") or None), name)
    fn.argtypes, fn.restype = [ctypes.c_float], ctypes.c_float
    return lambda x: f32(fn(float(x)))


def relu_params(inp: Quant, out: Quant, act_min: float = 0.0,
                act_max: float = math.inf) -> dict:
    """TFLM CalculateReluOpData (int8): requantise in->out, clamp to
    [zp + round(act_min/scale), zp + round(act_max/scale)] (float32)."""
    m, s = quantize_multiplier(float(f32(inp.scale)) / float(f32(out.scale)))
    lo = max(INT8_MIN, int(out.zero_point) + int(tflite_round(f32(act_min) / f32(out.scale))))
    hi = INT8_MAX if math.isinf(act_max) else min(
        INT8_MAX, int(out.zero_point) + int(tflite_round(f32(act_max) / f32(out.scale))))
    return dict(input_zero_point=int(inp.zero_point), output_zero_point=int(out.zero_point),
                output_multiplier=m, output_shift=s, activation_min=lo, activation_max=hi)


def relu6_params(inp: Quant) -> dict:
    """TFLM Relu6Prepare (int8): 0 and 6 quantised with the input's parameters."""
    six = int(tflite_round(f32(6.0) / f32(inp.scale))) + int(inp.zero_point)
    return dict(zero=int(inp.zero_point), six=min(INT8_MAX, max(INT8_MIN, six)))


def requantize_params(inp: Quant, out: Quant) -> dict:
    """TFLM quantize Prepare for int8 -> int8: QuantizeMultiplier(in / out)."""
    m, s = quantize_multiplier(float(f32(inp.scale)) / float(f32(out.scale)))
    return dict(input_zero_point=int(inp.zero_point), output_zero_point=int(out.zero_point),
                multiplier=m, shift=s)


def mean_params(inp: Quant, out: Quant) -> dict:
    """TFLM PrepareMeanOrSum (int8): QuantizeMultiplier(double(in) / double(out)); the
    kernel folds 1/count into it as QuantizedMeanOrSum does."""
    m, s = quantize_multiplier(float(f32(inp.scale)) / float(f32(out.scale)))
    return dict(output_multiplier=m, output_shift=s)


def pad_shape(shape, fill: int = 1) -> list[int]:
    """`shape` padded at the front to MAX_DIMS entries."""
    shape = [int(d) for d in shape]
    if len(shape) > MAX_DIMS:
        raise RnnedgeError(f"tensors of rank {len(shape)} are not supported (at most {MAX_DIMS})")
    return [fill] * (MAX_DIMS - len(shape)) + shape


def row_major_strides(shape) -> list[int]:
    """Element strides of a dense row-major tensor."""
    strides, acc = [], 1
    for d in reversed(list(shape)):
        strides.append(acc)
        acc *= int(d)
    return strides[::-1]


def broadcast(shape1, shape2, max_rank: int = MAX_DIMS) -> dict:
    """Numpy/TFLite broadcasting of two shapes: output dims and per-input strides
    (0 on broadcast axes), padded to MAX_DIMS.  `max_rank` is the largest rank the
    TFLM kernel can broadcast (4 for int8 MUL)."""
    s1, s2 = [int(d) for d in shape1], [int(d) for d in shape2]
    rank = max(len(s1), len(s2))
    if rank > max_rank and list(s1) != list(s2):
        raise RnnedgeError(f"broadcasting rank-{rank} tensors is not supported here "
                           f"(TFLM broadcasts at most {max_rank} dimensions)")
    p1, p2 = pad_shape(s1), pad_shape(s2)
    dims = []
    for a, b in zip(p1, p2):
        if a != b and a != 1 and b != 1:
            raise RnnedgeError(f"shapes {s1} and {s2} cannot be broadcast together")
        dims.append(b if a == 1 else a)
    st1 = [0 if a == 1 and d != 1 else s for a, d, s in zip(p1, dims, row_major_strides(p1))]
    st2 = [0 if b == 1 and d != 1 else s for b, d, s in zip(p2, dims, row_major_strides(p2))]
    return dict(dims=dims, strides1=st1, strides2=st2)


def strided_slice(input_shape, begin, end, strides, begin_mask: int = 0, end_mask: int = 0,
                  shrink_axis_mask: int = 0, offset: bool = False) -> dict:
    """Resolve TFLite STRIDED_SLICE arguments as TFLM's reference StridedSlice does
    (StridedSliceStartForAxis / StridedSliceEndForAxis: negative indices, clamping,
    begin/end masks, shrink, `offset` = end relative to begin).

    Returns per-dimension begin, stride and output dims, padded to MAX_DIMS.
    Ellipsis and new-axis masks are not supported by TFLM and not here.
    """
    shape = [int(d) for d in input_shape]
    n = len(shape)
    begin, end, strides = ([int(v) for v in a] for a in (begin, end, strides))
    if not len(begin) == len(end) == len(strides) == n:
        raise RnnedgeError("STRIDED_SLICE begin/end/strides must have one entry per input dim")
    starts, steps, outs = [], [], []
    for ax in range(n):
        size, stride = shape[ax], strides[ax]
        if stride == 0:
            raise RnnedgeError("STRIDED_SLICE stride of 0 is invalid")
        lo, hi = (0, size) if stride > 0 else (-1, size - 1)
        start = begin[ax] + size if begin[ax] < 0 else begin[ax]
        start = min(max(start, lo), hi)
        if begin_mask & (1 << ax):
            start = 0 if stride > 0 else size - 1
        if shrink_axis_mask & (1 << ax):
            stop = start if start >= size else start + 1
        else:
            stop = end[ax] + (start if offset else 0)
            stop = stop + size if stop < 0 else stop
            stop = min(max(stop, lo), hi)
            if end_mask & (1 << ax):
                stop = size if stride > 0 else -1
        span = stop - start if stride > 0 else start - stop
        count = max(0, -(-span // abs(stride)))
        starts.append(start if count else 0)
        steps.append(stride)
        outs.append(count)
    return dict(begin=pad_shape(starts, 0), stride=pad_shape(steps, 1),
                output_dims=pad_shape(outs), input_dims=pad_shape(shape))
