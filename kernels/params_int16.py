"""Derived parameters of the int16 activation kernels (TFLite's 16x8 mode), computed exactly
as TFLite Micro's Prepare does, in its precision (float32 steps in numpy float32, doubles as
Python floats): the gen_lut tables of SOFTMAX, the sigmoid table TANH / LOGISTIC interpolate
in, and their input multipliers.

May import: numpy, the standard library, rnnedge.errors and rnnedge.kernels.params.
"""

import math

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels.params import Quant, f32, libm_function, quantize_multiplier, tflite_round


def int16_lut(func, input_min: float, input_max: float, output_min: float = -1.0,
              output_max: float = 1.0) -> np.ndarray:
    """TFLM gen_lut<float, int16_t, int16_t>: 512 segments over [input_min, input_max] plus the
    end value (513 int16), each sample biased by half its midpoint interpolation error; all in
    float32 like TFLM (`func` maps a float32 to a float32)."""
    lo, hi = f32(input_min), f32(input_max)
    steps = 512
    step = f32((hi - lo) / f32(steps))
    half = f32(step / f32(2))
    scale = f32(f32(65536) / f32(f32(output_max) - f32(output_min)))
    rnd = lambda v: f32(tflite_round(f32(v)))  # noqa: E731
    table = np.empty(steps + 1, np.int16)
    for i in range(steps):
        x = f32(lo + f32(f32(i) * step))
        val, mid = f32(func(x)), f32(func(f32(x + half)))
        nxt = f32(func(f32(lo + f32(f32(i + 1) * step))))
        sample = rnd(val * scale)
        interp = rnd(f32(f32(nxt * scale) + rnd(val * scale)) / f32(2))
        bias = rnd(f32(interp - rnd(mid * scale)) / f32(2))
        table[i] = int(min(max(f32(sample - bias), -32768.0), 32767.0))
    table[steps] = int(min(max(rnd(f32(func(hi)) * scale), -32768.0), 32767.0))
    return table


def softmax_int16_params(inp: Quant, out: Quant, beta: float = 1.0) -> dict:
    """TFLM SoftmaxPrepare / CalculateSoftmaxParams for int16 -> int16: output zero point 0
    and scale 1/32768 (within 0.1%); QuantizeMultiplier(double(in) * double(beta) /
    (10 / 65535)); the exp LUT over [-10, 0] and the 1 / (1 + x) LUT over [0, 1]."""
    if int(out.zero_point) != 0 or abs(float(f32(out.scale)) - 1.0 / 32768) > 0.001 / 32768:
        raise RnnedgeError("int16 SOFTMAX needs output scale 1/32768 and zero point 0")
    mult, shift = quantize_multiplier(float(f32(inp.scale)) * float(f32(beta))
                                      / (10.0 / 65535.0))
    expf = libm_function("expf")
    return dict(input_multiplier=mult, input_left_shift=shift,
                exp_lut=int16_lut(expf, -10.0, 0.0),
                one_over_one_plus_x_lut=int16_lut(lambda v: f32(f32(1) / f32(f32(1) + v)),
                                                  0.0, 1.0))


def sigmoid_table_uint16() -> np.ndarray:
    """TFLM's sigmoid_table_uint16: sigmoid(i / 24) in Q0.16 for i < 256, each entry lowered
    by half the error of interpolating its segment at the midpoint (so that the linear
    interpolation the kernels do is centred), rounded; the last entry is the saturated 65535.
    (Derived here; it equals TFLM's table entry for entry, and kernels/tests/test_int16.py
    runs every int16 input through TFLM's TANH and LOGISTIC.)"""
    sig = lambda x: 65536.0 / (1.0 + math.exp(-x / 24.0))  # noqa: E731
    table = [tflite_round(sig(i) - ((sig(i) + sig(i + 1)) / 2 - sig(i + 0.5)) / 2)
             for i in range(255)]
    return np.array([*table, 65535], dtype=np.uint16)


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLM CheckedLog2 (float32): (whether x is a power of two within 1e-3 in log2, the
    rounded log2)."""
    log2 = f32(f32(np.log(f32(x))) * f32(f32(1.0) / f32(np.log(f32(2.0)))))
    rounded = f32(tflite_round(log2))
    return bool(abs(f32(log2 - rounded)) < f32(1e-3)), int(rounded)


def sigmoid_int16_params(inp: Quant, out: Quant, tanh: bool) -> dict:
    """TFLM TanhPrepare / LogisticPrepare for int16: zero points 0, output scale 2^-15; a
    power-of-two input scale 2^(shift - 12) with shift 0 (TANH: 0 or 1) gives multiplier 0,
    otherwise the multiplier of double(scale) * 4096 * 3 doubled until above 32767 / 2."""
    if int(inp.zero_point) != 0 or int(out.zero_point) != 0:
        raise RnnedgeError("int16 TANH/LOGISTIC need zero points 0")
    out_pot, out_log2 = checked_log2(out.scale)
    if not out_pot or out_log2 != -15:
        raise RnnedgeError("int16 TANH/LOGISTIC need output scale 1/32768")
    pot, log2 = checked_log2(inp.scale)
    shift = (15 - 3) + log2
    if pot and (shift == 0 or (tanh and shift == 1)):
        return dict(input_multiplier=0, input_left_shift=shift)
    multiplier, shift = float(f32(inp.scale)) * 4096.0 * 3.0, 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    if multiplier >= 2**31:
        raise RnnedgeError("the int16 TANH/LOGISTIC input scale is too large")
    return dict(input_multiplier=int(multiplier), input_left_shift=shift)
