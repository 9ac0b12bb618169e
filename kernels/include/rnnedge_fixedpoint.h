/* Fixed-point helpers shared by the int8 kernels, bit-exact with TFLM's
 * "double rounding" requantisation (TFLITE_SINGLE_ROUNDING unset, the default
 * of TFLM builds) and gemmlowp's fixed-point exp/tanh/logistic as TFLM's
 * reference kernels use them.
 *
 * Everything is `static inline`: no globals, no state, usable from every
 * kernel translation unit and from generated firmware.  Signed right shifts
 * are assumed arithmetic (true on GCC/Clang for x86 and Arm, as TFLM assumes).
 * Left shifts go through uint32_t so that the wrap-around TFLM gets on real
 * hardware is reproduced without signed-overflow undefined behaviour.
 */
#ifndef RNNEDGE_FIXEDPOINT_H
#define RNNEDGE_FIXEDPOINT_H

#include <stdint.h>

/* x * 2^shift for 0 <= shift <= 31, wrapping like the hardware does. */
static inline int32_t rn_shl(int32_t x, int shift) {
  return (int32_t)((uint32_t)x << shift);
}

/* a + b wrapping modulo 2^32, as TFLM's int32 accumulators do on real hardware
 * (a signed overflow would be undefined behaviour in C). */
static inline int32_t rn_add_wrap(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* gemmlowp SaturatingRoundingDoublingHighMul (ARM VQRDMULH): round(a*b / 2^31),
 * saturating INT32_MIN * INT32_MIN to INT32_MAX. */
static inline int32_t rn_srdhm(int32_t a, int32_t b) {
  int64_t ab;
  int32_t nudge;
  if (a == b && a == INT32_MIN) return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away
 * from zero, for 0 <= exponent <= 31. */
static inline int32_t rn_rdbpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLM MultiplyByQuantizedMultiplier(int32 x, multiplier, shift): shift > 0 is
 * a left shift applied before the high multiply, shift < 0 a rounding right
 * shift applied after it. */
static inline int32_t rn_mbqm(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return rn_rdbpot(rn_srdhm(rn_shl(x, left), multiplier), right);
}

/* TFLM MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0). */
static inline int32_t rn_mbqm_smaller_than_one(int32_t x, int32_t multiplier,
                                               int left_shift) {
  return rn_rdbpot(rn_srdhm(x, multiplier), -left_shift);
}

/* TFLM MultiplyByQuantizedMultiplierGreaterThanOne (left_shift >= 0). */
static inline int32_t rn_mbqm_greater_than_one(int32_t x, int32_t multiplier,
                                               int left_shift) {
  return rn_srdhm(rn_shl(x, left_shift), multiplier);
}

static inline int32_t rn_clamp(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent> on a raw int32. */
static inline int32_t rn_sat_mul_pot(int32_t x, int exponent) {
  int32_t threshold;
  if (exponent == 0) return x;
  if (exponent < 0) return rn_rdbpot(x, -exponent);
  threshold = (int32_t)((((int64_t)1) << (31 - exponent)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return rn_shl(x, exponent);
}

/* gemmlowp RoundingHalfSum: (a + b) / 2 rounded half away from zero. */
static inline int32_t rn_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  const int64_t sign = sum >= 0 ? 1 : -1;
  return (int32_t)((sum + sign) / 2);
}

/* Count of leading zero bits of a uint32 (32 for 0). */
static inline int rn_clz32(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
}

/* The functions below work on gemmlowp FixedPoint<int32_t, IB> raw values:
 * a raw value r with `IB` integer bits represents r / 2^(31 - IB). */

/* exp(a) for a in [-1/4, 0), a in Q0.31, result in Q0.31. */
static inline int32_t rn_exp_on_interval_between_negative_one_quarter_and_0_excl(
    int32_t a) {
  const int32_t constant_term = 1895147668;   /* exp(-1/8) */
  const int32_t constant_1_over_3 = 715827883; /* 1/3 */
  const int32_t x = a + (1 << 28);             /* a + 1/8 */
  const int32_t x2 = rn_srdhm(x, x);
  const int32_t x3 = rn_srdhm(x2, x);
  const int32_t x4 = rn_srdhm(x2, x2);
  const int32_t x4_over_4 = rn_rdbpot(x4, 2);
  const int32_t poly =
      rn_rdbpot(rn_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
  return constant_term + rn_srdhm(constant_term, x + poly);
}

/* exp(a) for a <= 0 with `integer_bits` integer bits; result in Q0.31. */
static inline int32_t rn_exp_on_negative_values(int32_t a, int integer_bits) {
  static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084,
                                         290630308,  39332535,   720401,
                                         242};
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
  int32_t result = rn_exp_on_interval_between_negative_one_quarter_and_0_excl(
      rn_sat_mul_pot(a_mod_quarter_minus_one_quarter, integer_bits));
  const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
  int exponent;
  for (exponent = -2; exponent <= 4; ++exponent) {
    if (integer_bits > exponent) {
      const int shift = fractional_bits + exponent;
      if (remainder & ((int32_t)1 << shift)) {
        result = rn_srdhm(result, multipliers[exponent + 2]);
      }
    }
  }
  if (integer_bits > 5) {
    const int32_t clamp = -((int32_t)1 << (36 - integer_bits)); /* -32.0 */
    if (a < clamp) result = 0;
  }
  if (a == 0) result = INT32_MAX;
  return result;
}

/* Newton-Raphson iterations shared by 1/(1+x) and (1-x)/(1+x), x in (0, 1)
 * as Q0.31; returns the reciprocal of (1+x)/2 in Q2.29. */
static inline int32_t rn_newton_reciprocal_of_half_denominator(int32_t a) {
  const int32_t half_denominator = rn_rounding_half_sum(a, INT32_MAX);
  const int32_t constant_48_over_17 = 1515870810;
  const int32_t constant_neg_32_over_17 = -1010580540;
  const int32_t one_q2 = (int32_t)1 << 29;
  int32_t x = constant_48_over_17 +
              rn_srdhm(half_denominator, constant_neg_32_over_17);
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = rn_srdhm(half_denominator, x);
    const int32_t one_minus = one_q2 - half_denominator_times_x;
    x = x + rn_sat_mul_pot(rn_srdhm(x, one_minus), 2);
  }
  return x;
}

/* 1 / (1 + a) for a in (0, 1), Q0.31 in and out. */
static inline int32_t rn_one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  return rn_sat_mul_pot(rn_newton_reciprocal_of_half_denominator(a), 1);
}

/* (1 - a) / (1 + a) for a in (0, 1), Q0.31 in and out. */
static inline int32_t rn_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a) {
  return rn_sat_mul_pot(
      rn_newton_reciprocal_of_half_denominator(a) - ((int32_t)1 << 29), 2);
}

/* gemmlowp tanh on a value with `integer_bits` integer bits; Q0.31 result. */
static inline int32_t rn_fixed_tanh(int32_t a, int integer_bits) {
  int32_t n, t;
  if (a == 0) return 0;
  n = a < 0 ? a : -a;
  t = rn_one_minus_x_over_one_plus_x_for_x_in_0_1(
      rn_exp_on_negative_values(n, integer_bits + 1));
  return a < 0 ? -t : t;
}

/* gemmlowp logistic on a value with `integer_bits` integer bits; Q0.31. */
static inline int32_t rn_fixed_logistic(int32_t a, int integer_bits) {
  int32_t abs_a, positive;
  if (a == 0) return (int32_t)1 << 30;
  abs_a = a > 0 ? a : -a;
  positive = rn_one_over_one_plus_x_for_x_in_0_1(
      rn_exp_on_negative_values(-abs_a, integer_bits));
  return a > 0 ? positive : INT32_MAX - positive;
}

#endif /* RNNEDGE_FIXEDPOINT_H */
