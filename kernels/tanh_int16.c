/* TANH, int16: TFLM's reference_integer_ops::Tanh for int16 (zero points 0,
 * output scale 2^-15).  tanh(x) = 2 * sigmoid(2x) - 1 read from the 256-entry
 * Q0.16 sigmoid table with 8 fractional interpolation bits; the input is
 * rescaled to 1 / (3 * 4096) per unit (x * multiplier, rounding shift), or, for a
 * power-of-two input scale (multiplier 0), multiplied by 3 << shift.  Products
 * wrap modulo 2^32 where TFLM's int32 maths would overflow. */
#include "include/rnnedge_kernels.h"

int rn_tanh_int16(const rn_sigmoid_int16_params *p, const int16_t *input, int16_t *output) {
  int32_t i, multiplier = p->input_multiplier, shift = p->input_left_shift, round;
  if (p->size < 0 || shift < 0 || shift > 31 || !p->sigmoid_lut) return RN_BAD_PARAMS;
  if (multiplier == 0) {
    if (shift > 29) return RN_BAD_PARAMS;
    multiplier = 3 << shift;
    shift = 0;
  }
  round = shift > 0 ? (int32_t)(1u << (shift - 1)) : 0;
  for (i = 0; i < p->size; ++i) {
    const int32_t x = (int32_t)((uint32_t)input[i] * (uint32_t)multiplier + (uint32_t)round) >>
                      shift;
    const uint32_t magnitude = x < 0 ? 0u - (uint32_t)x : (uint32_t)x;
    const uint32_t uh = magnitude >> 8;
    int32_t result;
    if (uh >= 255) {
      result = 0xFFFF << 8;
    } else {
      const int32_t ua = p->sigmoid_lut[uh], ub = p->sigmoid_lut[uh + 1];
      result = (ua << 8) + (int32_t)(magnitude & 0xFF) * (ub - ua);
    }
    result = x >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
    output[i] = (int16_t)(result >> 8);
  }
  return RN_OK;
}
