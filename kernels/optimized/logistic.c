/* LOGISTIC, optimised: the bytes of ../logistic.c (TFLM's
 * reference_integer_ops::Logistic).  A tensor larger than 256 elements is
 * mapped through a 256-entry table built with the reference's arithmetic
 * (rn_logistic_value below is ../logistic.c's loop body); smaller ones are
 * computed directly.  The output may overlay the input exactly. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

static int8_t rn_logistic_value(const rn_logistic_params *p, int8_t q) {
  const int32_t x = (int32_t)q - p->input_zero_point;
  if (x <= -p->input_range_radius) return -128;
  if (x >= p->input_range_radius) return 127;
  return (int8_t)rn_clamp(
      rn_RoundingDivideByPOT(rn_fixed_logistic(rn_MultiplyByQuantizedMultiplier(x, p->input_multiplier,
                                          p->input_left_shift), 4),
                31 - 8) - 128,
      -128, 127);
}

int rn_logistic(const rn_logistic_params *p, const int8_t *input,
                int8_t *output) {
  int32_t i;
  int8_t table[256];
  if (p->size < 0 || p->input_left_shift > 31 || p->input_left_shift < -31) {
    return RN_BAD_PARAMS;
  }
  if (p->size <= 256) {
    for (i = 0; i < p->size; ++i) output[i] = rn_logistic_value(p, input[i]);
    return RN_OK;
  }
  for (i = 0; i < 256; ++i) table[i] = rn_logistic_value(p, (int8_t)(i - 128));
  for (i = 0; i < p->size; ++i) output[i] = table[(int32_t)input[i] + 128];
  return RN_OK;
}
