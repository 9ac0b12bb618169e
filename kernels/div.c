/* DIV, int8: TFLM's DivElementwise / BroadcastDivSlowQuantized: the divisor's
 * fixed-point reciprocal times the dividend at full headroom, rescaled by
 * in1 / (in2 * out). A divisor equal to its zero point (TFLM DCHECKs) or a
 * quotient needing a left shift the rescale cannot apply is RN_BAD_INPUT.
 * A small dividend can ask gemmlowp's RoundingDivideByPOT for a shift of 32
 * or more (beyond its documented range); rn_div_by_pot_wide gives what TFLM's
 * x86 and Arm builds compute there (an all-ones mask, the shift taken modulo
 * 32), without C's undefined shift. */
#include "include/rnnedge_elementwise.h"
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

static int32_t rn_div_by_pot_wide(int32_t x, int exponent) {
  const int32_t threshold = -1 + (x < 0 ? 1 : 0);
  if (exponent <= 31) return rn_RoundingDivideByPOT(x, exponent);
  return (x >> (exponent & 31)) + (x > threshold ? 1 : 0);
}

int rn_div(const rn_div_params *p, const int8_t *input1, const int8_t *input2,
           int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i, pass;
  const int32_t size = rn_flat_size(p->shape.dims);
  if (size < 0 || p->activation_min > p->activation_max) return RN_BAD_PARAMS;
  for (pass = 0; pass < 2; ++pass) { /* pass 0 checks every element, pass 1 writes */
    for (i = 0; i < size; ++i) {
      int32_t x = p->input1_offset + input1[off1];
      int32_t y = p->input2_offset + input2[off2];
      int recip_shift, headroom, total_shift;
      int32_t inv, quotient;
      rn_odometer_next(p->shape.dims, p->shape.strides1, p->shape.strides2, idx, &off1, &off2);
      if (y == 0) return RN_BAD_INPUT;
      if (y < 0) {
        x = -x;
        y = -y;
      }
      inv = rn_GetReciprocal(y, 31, &recip_shift);
      headroom = rn_CountLeadingSignBits(x);
      total_shift = p->output_shift - recip_shift - headroom;
      if (total_shift > 0 || total_shift < -63) return RN_BAD_INPUT;
      if (pass == 0) continue;
      quotient = rn_MultiplyByQuantizedMultiplierGreaterThanOne(x, inv, headroom);
      output[i] = (int8_t)rn_clamp(
          p->output_offset +
              rn_div_by_pot_wide(rn_SaturatingRoundingDoublingHighMul(quotient, p->output_multiplier),
                                 -total_shift),
          p->activation_min, p->activation_max);
    }
  }
  return RN_OK;
}
