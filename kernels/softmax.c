/* SOFTMAX, int8 -> int8: TFLM's reference_ops::Softmax (quantised template).
 * Per row: differences to the row maximum are scaled by beta * input_scale
 * into Q5.26, exponentiated with gemmlowp's exp_on_negative_values, summed in
 * Q12.19, inverted with one_over_one_plus_x_for_x_in_0_1, and each output is
 * exp * (1 / sum) rounded to the fixed output scale 1/256, zero point -128.
 * Differences below diff_min contribute nothing and output -128.
 * A row whose sum of exponentials reaches 2^28 (over ~512 logits at the row
 * maximum) needs a rounding shift beyond 31 bits, where TFLM's gemmlowp
 * RoundingDivideByPOT asserts (the TFLM host build aborts): such rows return
 * RN_BAD_INPUT before any output of the row is written. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_softmax(const rn_softmax_params *p, const int8_t *input,
               int8_t *output) {
  int32_t i, c;
  if (p->outer_size < 0 || p->depth <= 0 || p->input_left_shift < 0 ||
      p->input_left_shift > 31) {
    return RN_BAD_PARAMS;
  }
  for (i = 0; i < p->outer_size; ++i) {
    const int8_t *in = input + i * p->depth;
    int8_t *out = output + i * p->depth;
    int32_t max_in_row = -128, sum_of_exps;
    int32_t headroom_plus_one, num_bits_over_unit, shifted_scale, exponent;
    int64_t sum = 0;
    for (c = 0; c < p->depth; ++c) {
      if (in[c] > max_in_row) max_in_row = in[c];
    }
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)in[c] - max_in_row;
      if (diff >= p->diff_min) {
        const int32_t scaled = rn_MultiplyByQuantizedMultiplierGreaterThanOne(
            diff, p->input_multiplier, p->input_left_shift);
        sum += rn_RoundingDivideByPOT(rn_exp_on_negative_values(scaled, 5), 12);
      }
    }
    if (sum >= ((int64_t)1 << 28)) return RN_BAD_INPUT;
    sum_of_exps = (int32_t)sum;
    headroom_plus_one = rn_CountLeadingZeros((uint32_t)sum_of_exps);
    num_bits_over_unit = 12 - headroom_plus_one;
    shifted_scale = rn_one_over_one_plus_x_for_x_in_0_1((int32_t)(
        ((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31)));
    exponent = num_bits_over_unit + 31 - 8;
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)in[c] - max_in_row;
      if (diff >= p->diff_min) {
        const int32_t scaled = rn_MultiplyByQuantizedMultiplierGreaterThanOne(
            diff, p->input_multiplier, p->input_left_shift);
        const int32_t exp_in_0 = rn_exp_on_negative_values(scaled, 5);
        const int32_t unsat =
            rn_RoundingDivideByPOT(rn_SaturatingRoundingDoublingHighMul(shifted_scale, exp_in_0), exponent);
        out[c] = (int8_t)rn_clamp(unsat - 128, -128, 127);
      } else {
        out[c] = -128;
      }
    }
  }
  return RN_OK;
}
