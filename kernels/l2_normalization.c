/* L2_NORMALIZATION, int8 (output scale 1/128, zero point 0): TFLM's
 * reference_integer_ops::L2Normalization.  Per row of `depth` values the sum
 * of squared (x - zp) gives an inverse square root as a multiplier/shift
 * (GetInvSqrtQuantizedMultiplierExp: five gemmlowp Newton-Raphson steps in
 * Q3.28), then each value is MultiplyByQuantizedMultiplier(x - zp, m, s + 7)
 * clamped to int8. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

/* gemmlowp FixedPoint product: raw SaturatingRoundingDoublingHighMul. */
#define RN_FX_MUL(a, b) rn_SaturatingRoundingDoublingHighMul((a), (b))

static void rn_inv_sqrt_multiplier(int32_t input, int32_t *multiplier, int *shift) {
  int32_t x, half_input;
  unsigned pairs;
  int i;
  const int32_t half_three = (1 << 28) + (1 << 27); /* 1.5 in Q3.28 */
  if (input <= 1) {
    *multiplier = INT32_MAX;
    *shift = 0;
    return;
  }
  *shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    ++*shift;
  }
  pairs = (unsigned)(rn_CountLeadingZeros((uint32_t)input) - 1) / 2 - 1;
  *shift -= (int)pairs;
  input = rn_shl(input, (int)(2 * pairs));
  half_input = rn_SaturatingRoundingMultiplyByPOT(input >> 1, -1);
  x = 1 << 28; /* 1.0 in Q3.28 */
  for (i = 0; i < 5; ++i) {
    /* x^3 (Q9) back to Q3, then 1.5 x - x^3 input / 2 (Q6) back to Q3 */
    const int32_t x3 = rn_SaturatingRoundingMultiplyByPOT(RN_FX_MUL(RN_FX_MUL(x, x), x), 6);
    const int32_t a = RN_FX_MUL(half_three, x), b = RN_FX_MUL(half_input, x3);
    x = rn_SaturatingRoundingMultiplyByPOT((int32_t)((uint32_t)a - (uint32_t)b), 3);
  }
  x = RN_FX_MUL(x, 1518500250); /* * sqrt(2) / 2 in Q0.31 */
  if (*shift < 0) {
    x = rn_shl(x, -*shift);
    *shift = 0;
  }
  *multiplier = x;
  *shift = -*shift; /* TFLM's kReverseShift: a right shift becomes a negative exponent */
}

int rn_l2_normalization(const rn_l2_normalization_params *p, const int8_t *input,
                        int8_t *output) {
  int32_t o, c;
  if (p->outer_size < 0 || p->depth < 0 || p->depth > (1 << 15)) return RN_BAD_PARAMS;
  for (o = 0; o < p->outer_size; ++o) {
    const int8_t *row = input + (int64_t)o * p->depth;
    int32_t acc = 0, multiplier;
    int shift;
    for (c = 0; c < p->depth; ++c) {
      const int32_t v = (int32_t)row[c] - p->input_zero_point;
      acc += v * v;
    }
    rn_inv_sqrt_multiplier(acc, &multiplier, &shift);
    if (shift + 7 < -31 || shift + 7 > 30) return RN_BAD_INPUT;
    for (c = 0; c < p->depth; ++c) {
      const int32_t v = (int32_t)row[c] - p->input_zero_point;
      output[(int64_t)o * p->depth + c] =
          (int8_t)rn_clamp(rn_MultiplyByQuantizedMultiplier(v, multiplier, shift + 7), -128, 127);
    }
  }
  return RN_OK;
}
