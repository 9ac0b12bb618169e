/* LOG_SOFTMAX, int8 -> int8 (output scale 16/256, zero point 127): TFLM's
 * reference LogSoftmaxQuantized. Per row: differences to the row maximum in
 * Q5.26, the sum of their fixed-point exps in Q12.19, its fixed-point log
 * (TFLM's log_x_for_x_greater_than_or_equal_to_1, Q5.26), then each output
 * is diff - log(sum) in Q4 steps plus 127; differences at or below the
 * adjusted minimum give -128. */
#include "include/rnnedge_elementwise.h"
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

/* TFLM's log_x_for_x_greater_than_or_equal_to_1<5>(FixedPoint<int32, 12>):
 * log(x) in Q5.26 from x in Q12.19 (a raw int32). */
static int32_t rn_log_q12_to_q5(int32_t z_a) {
  const int input_bits = 12, accum_bits = 6; /* accumulate with OutputIntegerBits + 1 */
  const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
  const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769,
                alpha_f = 638450708;
  const int32_t shifted_quarter = rn_RoundingDivideByPOT(536870912, accum_bits);
  const int z_a_headroom_plus_1 = rn_CountLeadingZeros((uint32_t)z_a);
  const int32_t r_a_tmp = rn_SaturatingRoundingMultiplyByPOT(z_a, z_a_headroom_plus_1 - 1);
  const int32_t r_a_raw = rn_SaturatingRoundingMultiplyByPOT(
      rn_SaturatingRoundingDoublingHighMul(r_a_tmp, sqrt_half), 1);
  const int64_t za_adj = (int64_t)rn_SaturatingRoundingMultiplyByPOT(
                             input_bits - z_a_headroom_plus_1, 31 - accum_bits) +
                         shifted_quarter;
  const int32_t z_a_pow_2_adj =
      za_adj > INT32_MAX ? INT32_MAX : (za_adj < INT32_MIN ? INT32_MIN : (int32_t)za_adj);
  const int32_t z_b = rn_SaturatingRoundingDoublingHighMul(z_a, sqrt_half);
  const int z_b_headroom = rn_CountLeadingZeros((uint32_t)z_b) - 1;
  const int32_t r_b_raw = rn_SaturatingRoundingMultiplyByPOT(z_a, z_b_headroom);
  const int64_t zb_adj = (int64_t)rn_SaturatingRoundingMultiplyByPOT(input_bits - z_b_headroom,
                                                                     31 - accum_bits) -
                         shifted_quarter;
  const int32_t z_b_pow_2_adj =
      zb_adj > INT32_MAX ? INT32_MAX : (zb_adj < INT32_MIN ? INT32_MIN : (int32_t)zb_adj);
  const int32_t r = r_a_raw < r_b_raw ? r_a_raw : r_b_raw;
  const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;
  const int32_t p = rn_RoundingHalfSum(r, sqrt_sqrt_half);
  const int32_t q_half = rn_sub_wrap(r, sqrt_sqrt_half);
  const int32_t q = rn_add_wrap(q_half, q_half);
  const int32_t common_sq = rn_SaturatingRoundingDoublingHighMul(q, q);
  const int32_t num = rn_add_wrap(
      rn_SaturatingRoundingDoublingHighMul(q, r),
      rn_SaturatingRoundingDoublingHighMul(rn_SaturatingRoundingDoublingHighMul(q, common_sq),
                                           alpha_n));
  const int32_t inner = rn_add_wrap(rn_add_wrap(alpha_i, q),
                                    rn_SaturatingRoundingDoublingHighMul(alpha_d, common_sq));
  const int32_t denom_minus_one = rn_add_wrap(rn_SaturatingRoundingDoublingHighMul(p, inner),
                                              rn_SaturatingRoundingDoublingHighMul(alpha_f, q));
  const int32_t recip_denom = rn_one_over_one_plus_x_for_x_in_0_1(denom_minus_one);
  const int32_t num_scaled = rn_RoundingDivideByPOT(num, accum_bits);
  const int32_t sum = rn_add_wrap(rn_SaturatingRoundingDoublingHighMul(z_pow_2_adj, log_2),
                                  rn_SaturatingRoundingDoublingHighMul(num_scaled, recip_denom));
  return rn_SaturatingRoundingMultiplyByPOT(sum, 1); /* Rescale<5> from 6 integer bits */
}

int rn_log_softmax(const rn_log_softmax_params *p, const int8_t *input,
                   int8_t *output) {
  int32_t row, c;
  if (p->outer_size < 0 || p->depth < 0 || p->input_left_shift < 0 ||
      p->input_left_shift > 30 || p->reverse_scaling_right_shift < 0 ||
      p->reverse_scaling_right_shift > 31)
    return RN_BAD_PARAMS;
  for (row = 0; row < p->outer_size; ++row) {
    const int8_t *x = input + (int64_t)row * p->depth;
    int8_t *y = output + (int64_t)row * p->depth;
    int32_t max_in_row = INT8_MIN, sum_of_exps = 0, log_sum, adjusted_diff_min, reverse;
    for (c = 0; c < p->depth; ++c) max_in_row = x[c] > max_in_row ? x[c] : max_in_row;
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)x[c] - max_in_row;
      if (diff >= p->diff_min) {
        const int32_t diff_q5 =
            rn_MultiplyByQuantizedMultiplier(diff, p->input_multiplier, p->input_left_shift);
        sum_of_exps = rn_add_wrap(
            sum_of_exps, rn_RoundingDivideByPOT(rn_exp_on_negative_values(diff_q5, 5), 12));
      }
    }
    log_sum = rn_log_q12_to_q5(sum_of_exps);
    reverse = rn_MultiplyByQuantizedMultiplier(rn_add_wrap(log_sum, INT32_MIN),
                                               p->reverse_scaling_divisor,
                                               -p->reverse_scaling_right_shift);
    adjusted_diff_min = p->diff_min - 1 > reverse ? p->diff_min - 1 : reverse;
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)x[c] - max_in_row;
      if (diff > adjusted_diff_min) {
        const int32_t diff_q5 =
            rn_MultiplyByQuantizedMultiplier(diff, p->input_multiplier, p->input_left_shift);
        const int32_t out =
            rn_RoundingDivideByPOT(rn_sub_wrap(diff_q5, log_sum), 31 - 5 - 4) + INT8_MAX;
        y[c] = (int8_t)rn_clamp(out, INT8_MIN, INT8_MAX);
      } else {
        y[c] = INT8_MIN;
      }
    }
  }
  return RN_OK;
}
