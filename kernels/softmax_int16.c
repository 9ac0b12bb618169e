/* SOFTMAX, int16 -> int16: TFLM's reference_ops::SoftmaxInt16.  Per row: the
 * difference to the row maximum is rescaled so that [-65535, 0] spans
 * [-10, 0], recentred to int16 and looked up in the exp LUT (513 entries,
 * linear interpolation between them); the sum of the exps is normalised
 * (its headroom counted), looked up in the 1/(1 + x) LUT, and every exp is
 * multiplied by that reciprocal with a rounding right shift; the output
 * (scale 1/32768, zero point 0) is clamped to [0, 32767].  The LUTs are
 * TFLM's gen_lut tables, built by the caller (rnnedge.kernels.params). */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

/* TFLM's lut_lookup for an int16 input: 512 segments of 128 values. */
static int16_t rn_int16_lut_lookup(int16_t value, const int16_t *lut) {
  const int32_t index = 256 + (value >> 7);
  const int32_t offset = value & 0x7f;
  const int16_t base = lut[index];
  const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
  const int16_t delta = (int16_t)(((int32_t)slope * offset + 64) >> 7);
  return (int16_t)(base + delta);
}

int rn_softmax_int16(const rn_softmax_int16_params *p, const int16_t *input,
                     int16_t *output) {
  int32_t i, c;
  if (p->outer_size < 0 || p->depth <= 0 || p->input_left_shift > 30 ||
      p->input_left_shift < -31 || !p->exp_lut || !p->one_over_one_plus_x_lut) {
    return RN_BAD_PARAMS;
  }
  for (i = 0; i < p->outer_size; ++i) {
    const int16_t *in = input + i * p->depth;
    int16_t *out = output + i * p->depth;
    int16_t max_in_row = INT16_MIN;
    int32_t sum_of_exps = 0, shifted_sum;
    int headroom_plus_one, right_shift;
    int16_t reciprocal;
    for (c = 0; c < p->depth; ++c) {
      if (in[c] > max_in_row) max_in_row = in[c];
    }
    for (c = 0; c < p->depth; ++c) {
      const int32_t scaled = rn_MultiplyByQuantizedMultiplier(
          (int32_t)in[c] - max_in_row, p->input_multiplier, p->input_left_shift);
      const int32_t centred = rn_clamp(rn_add_wrap(scaled, 32767), -32768, 32767);
      out[c] = rn_int16_lut_lookup((int16_t)centred, p->exp_lut);
      sum_of_exps = rn_add_wrap(sum_of_exps, out[c]);
    }
    if (sum_of_exps <= 0) return RN_BAD_INPUT; /* TFLM's maths is undefined there */
    headroom_plus_one = rn_CountLeadingZeros((uint32_t)sum_of_exps);
    shifted_sum = (int32_t)((((int64_t)sum_of_exps << (headroom_plus_one - 1)) +
                             (1 << 13)) >> 14);
    reciprocal = rn_int16_lut_lookup(
        (int16_t)rn_clamp(shifted_sum - ((1 << 15) + (1 << 16)), -32768, 32767),
        p->one_over_one_plus_x_lut);
    right_shift = 31 - headroom_plus_one;
    for (c = 0; c < p->depth; ++c) {
      const int64_t product = (int64_t)out[c] * (int64_t)reciprocal +
                              ((int64_t)1 << (right_shift - 1));
      out[c] = (int16_t)rn_clamp((int32_t)(product >> right_shift), 0, 32767);
    }
  }
  return RN_OK;
}
