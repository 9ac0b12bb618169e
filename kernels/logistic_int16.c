/* LOGISTIC, int16: TFLM's reference_integer_ops::Logistic for int16 (zero
 * points 0, output scale 2^-15).  sigmoid(x) from the 256-entry Q0.16 sigmoid
 * table with 9 fractional interpolation bits, mirrored for negative inputs;
 * the input rescale is TANH's (see tanh_int16.c). */
#include "include/rnnedge_kernels.h"

int rn_logistic_int16(const rn_sigmoid_int16_params *p, const int16_t *input,
                      int16_t *output) {
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
    const uint32_t uh = magnitude >> 9;
    uint32_t result;
    if (uh >= 255) {
      result = 0x7FFFu << 10;
    } else {
      const uint32_t ua = p->sigmoid_lut[uh], ub = p->sigmoid_lut[uh + 1];
      result = (ua << 9) + (magnitude & 0x1FF) * (ub - ua);
    }
    result = x >= 0 ? result + (1u << 9) : (1u << (16 + 9)) - result + (1u << 9) - 1;
    output[i] = (int16_t)(result >> 10);
  }
  return RN_OK;
}
