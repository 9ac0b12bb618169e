/* TANH, int8: TFLM's reference_integer_ops::Tanh.  The input (minus its zero
 * point) is rescaled to Q4.27, run through gemmlowp's fixed-point tanh, and
 * rounded to the fixed output scale 1/128 (zero point 0).  Inputs beyond
 * input_range_radius saturate to -128 / 127 directly. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_tanh(const rn_tanh_params *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0 || p->input_left_shift > 31 || p->input_left_shift < -31) {
    return RN_BAD_PARAMS;
  }
  for (i = 0; i < p->size; ++i) {
    const int32_t x = (int32_t)input[i] - p->input_zero_point;
    if (x <= -p->input_range_radius) {
      output[i] = -128;
    } else if (x >= p->input_range_radius) {
      output[i] = 127;
    } else {
      const int32_t x_q4 =
          rn_MultiplyByQuantizedMultiplier(x, p->input_multiplier, p->input_left_shift);
      const int32_t y_q0 = rn_fixed_tanh(x_q4, 4);
      output[i] = (int8_t)rn_clamp(rn_RoundingDivideByPOT(y_q0, 31 - 7), -128, 127);
    }
  }
  return RN_OK;
}
