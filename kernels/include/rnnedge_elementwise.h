/* Helpers shared by the elementwise math kernels (issue 17): TFLM's int16
 * gemmlowp fixed point of HARD_SWISH, a three-way broadcasting odometer, and
 * the inverse square root / reciprocal / log of TFLM's internal/common.h.
 * Everything is `static inline`, as in rnnedge_fixedpoint.h. */
#ifndef RNNEDGE_ELEMENTWISE_H
#define RNNEDGE_ELEMENTWISE_H

#include <stdint.h>

#include "rnnedge_fixedpoint.h"
#include "rnnedge_kernels.h"

/* The int16 value of the low 16 bits of x (what a C++ int -> int16_t
 * assignment gives on two's-complement hardware), without implementation-
 * defined conversions. */
static inline int32_t rn_wrap16(int32_t x) {
  const int32_t low = (int32_t)((uint32_t)x & 0xFFFFu);
  return low >= 32768 ? low - 65536 : low;
}

/* a - b wrapping modulo 2^32 (gemmlowp's raw fixed-point subtraction). */
static inline int32_t rn_sub_wrap(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* gemmlowp SaturatingRoundingDoublingHighMul on int16 values. */
static inline int32_t rn_SaturatingRoundingDoublingHighMul16(int32_t a, int32_t b) {
  int32_t ab, nudge;
  if (a == b && a == INT16_MIN) return INT16_MAX;
  ab = a * b;
  nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return (ab + nudge) / (1 << 15);
}

/* TFLM SaturatingDoublingHighMul (int16, rounding toward zero). */
static inline int32_t rn_SaturatingDoublingHighMul16(int32_t a, int32_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  return (a * b) / (1 << 15);
}

/* TFLM SaturatingLeftShift on an int16 value, 0 <= amount <= 30. */
static inline int32_t rn_SaturatingLeftShift16(int32_t value, int amount) {
  const int64_t result = (int64_t)value * ((int64_t)1 << amount);
  return result > INT16_MAX ? INT16_MAX : (result < INT16_MIN ? INT16_MIN : (int32_t)result);
}

/* TFLM CountLeadingSignBits for int32 (GCC's __builtin_clrsb: the leading
 * bits equal to the sign bit, less one; 31 for 0 and -1). */
static inline int rn_CountLeadingSignBits(int32_t x) {
  if (x >= 0) return rn_CountLeadingZeros((uint32_t)x) - 1;
  if (x == INT32_MIN) return 0;
  return rn_CountLeadingZeros(2u * (uint32_t)(-x) - 1u);
}

/* TFLM GetReciprocal(x, x_integer_digits) for x > 0: a Q0.31 reciprocal of
 * x's normalised mantissa and the number of bits over unit. */
static inline int32_t rn_GetReciprocal(int32_t x, int x_integer_digits,
                                       int *num_bits_over_unit) {
  const int headroom_plus_one = rn_CountLeadingZeros((uint32_t)x);
  const int32_t shifted_sum_minus_one =
      (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
  *num_bits_over_unit = x_integer_digits - headroom_plus_one;
  return rn_one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

/* TFLM GetInvSqrtQuantizedMultiplierExp(input, reverse_shift = -1): a
 * multiplier and left shift for 1/sqrt(input), input >= 0. */
static inline void rn_GetInvSqrtQuantizedMultiplierExp(int32_t input,
                                                       int32_t *inv_sqrt,
                                                       int *shift) {
  const int32_t half_three = (1 << 28) + (1 << 27); /* 1.5 in Q3.28 */
  int32_t half_input, x;
  int max_left_shift_bits, left_shift_bit_pairs, i;
  if (input <= 1) {
    *inv_sqrt = INT32_MAX;
    *shift = 0;
    return;
  }
  *shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    ++*shift;
  }
  max_left_shift_bits = rn_CountLeadingZeros((uint32_t)input) - 1;
  left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
  *shift -= left_shift_bit_pairs;
  input = rn_shl(input, 2 * left_shift_bit_pairs);
  half_input = rn_RoundingDivideByPOT(input >> 1, 1);
  x = 1 << 28; /* 1.0 in Q3.28 */
  for (i = 0; i < 5; ++i) {
    const int32_t x3 = rn_SaturatingRoundingMultiplyByPOT(
        rn_SaturatingRoundingDoublingHighMul(rn_SaturatingRoundingDoublingHighMul(x, x), x), 6);
    x = rn_SaturatingRoundingMultiplyByPOT(
        rn_sub_wrap(rn_SaturatingRoundingDoublingHighMul(half_three, x),
                    rn_SaturatingRoundingDoublingHighMul(half_input, x3)), 3);
  }
  x = rn_SaturatingRoundingDoublingHighMul(x, 1518500250); /* * sqrt(2)/2 */
  if (*shift < 0) {
    x = rn_shl(x, -*shift);
    *shift = 0;
  }
  *inv_sqrt = x;
  *shift = -*shift;
}

/* Advances a row-major index over dims by one, keeping three strided offsets
 * (SELECT_V2's condition, x and y) up to date. */
static inline void rn_odometer3_next(const int32_t *dims, const int32_t *s1,
                                     const int32_t *s2, const int32_t *s3,
                                     int32_t *idx, int32_t *o1, int32_t *o2,
                                     int32_t *o3) {
  int d;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    ++idx[d];
    *o1 += s1[d];
    *o2 += s2[d];
    *o3 += s3[d];
    if (idx[d] < dims[d]) return;
    *o1 -= s1[d] * dims[d];
    *o2 -= s2[d] * dims[d];
    *o3 -= s3[d] * dims[d];
    idx[d] = 0;
  }
}

#endif /* RNNEDGE_ELEMENTWISE_H */
