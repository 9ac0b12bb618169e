/* HARD_SWISH, int8: TFLM's reference HardSwish in int16 fixed point. The
 * input goes to a "hires" scale (x 128), is multiplied onto the pre-shift
 * output scale, and by a "relu-ish" factor in [0, 1] that rescales [-3, 3]
 * with saturation; SaturatingDoublingHighMul (rounding toward zero) combines
 * the two, then the output exponent and zero point are applied. */
#include "include/rnnedge_elementwise.h"
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_hard_swish(const rn_hard_swish_params *p, const int8_t *input,
                  int8_t *output) {
  int32_t i;
  const int32_t reluish_exp = p->reluish_multiplier_exponent;
  if (p->size < 0 || p->output_multiplier_exponent > 0 ||
      p->output_multiplier_exponent < -15 || reluish_exp < -15 || reluish_exp > 16)
    return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    const int32_t value = rn_wrap16((int32_t)input[i] - p->input_zero_point);
    const int32_t hires = rn_wrap16(value * (1 << 7));
    const int32_t preshift_output_scale =
        rn_SaturatingRoundingDoublingHighMul16(hires, p->output_multiplier_fixedpoint_int16);
    int32_t reluish = hires, out;
    if (reluish_exp > 0) reluish = rn_SaturatingLeftShift16(reluish, reluish_exp - 1);
    reluish = rn_SaturatingRoundingDoublingHighMul16(reluish,
                                                     p->reluish_multiplier_fixedpoint_int16);
    if (reluish_exp > 0) reluish = rn_SaturatingLeftShift16(reluish, 1);
    if (reluish_exp < 0) reluish = rn_RoundingDivideByPOT(reluish, -reluish_exp);
    reluish = (reluish + (1 << 15)) >> 1;
    out = rn_SaturatingDoublingHighMul16(reluish, preshift_output_scale);
    out = rn_RoundingDivideByPOT(out, -p->output_multiplier_exponent);
    out = rn_wrap16(out + p->output_zero_point);
    output[i] = (int8_t)rn_clamp(out, INT8_MIN, INT8_MAX);
  }
  return RN_OK;
}
