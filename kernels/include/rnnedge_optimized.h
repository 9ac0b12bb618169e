/* Building blocks of the optimised kernels (kernels/optimized/): int8 dot
 * products written so that GCC/Clang vectorise them at -O3 (16-bit widening,
 * int32 partial sums: pmaddwd / vpdpwssd on x86, SMLAD / VMLADAV on Arm) and
 * valid-tap ranges that take the bounds checks out of the inner loops.
 *
 * Bit-exactness: the reference kernels accumulate sum(f * (x + offset)) in a
 * 32-bit accumulator that wraps; every sum here is reduced modulo 2^32 too
 * (partial sums are bounded below 2^31 by RN_DOT_CHUNK, totals are uint32_t),
 * so any order of the additions gives the reference's bits, without signed
 * overflow.  The 16-bit path needs offsets in [-128, 128] (every int8 zero
 * point gives one); other offsets take the 32-bit wrapping path.
 */
#ifndef RNNEDGE_OPTIMIZED_H
#define RNNEDGE_OPTIMIZED_H

#include <stdint.h>

#include "rnnedge_fixedpoint.h"

/* Terms per int32 partial sum: 16384 * 256 * 256 = 2^30 < 2^31. */
#define RN_DOT_CHUNK 16384

/* 1 when (int8 + offset) and (int8 + offset) * (int8 + offset) stay in the
 * 16-bit x 16-bit -> 32-bit range the fast path uses. */
static inline int rn_offset_is_narrow(int32_t offset) {
  return offset >= -128 && offset <= 128;
}

/* [lo, hi): the taps k in [0, taps) with 0 <= origin + dilation * k < size. */
static inline void rn_valid_taps(int32_t origin, int32_t dilation,
                                 int32_t taps, int32_t size, int32_t *lo,
                                 int32_t *hi) {
  int32_t l = origin >= 0 ? 0 : (dilation - 1 - origin) / dilation;
  int32_t h = origin >= size ? 0 : (size - origin + dilation - 1) / dilation;
  if (h > taps) h = taps;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

/* acc[k] += sum_i (f[k * f_stride + i] + f_off) * (x[i] + x_off), k < 4,
 * offsets narrow (rn_offset_is_narrow). */
static inline void rn_dot4_narrow(const int8_t *x, const int8_t *f,
                                  int32_t f_stride, int32_t n, int32_t x_off,
                                  int32_t f_off, uint32_t *acc) {
  const int16_t xo = (int16_t)x_off, fo = (int16_t)f_off;
  const int8_t *f0 = f, *f1 = f + f_stride, *f2 = f1 + f_stride,
               *f3 = f2 + f_stride;
  int32_t start;
  for (start = 0; start < n; start += RN_DOT_CHUNK) {
    const int32_t end = n - start > RN_DOT_CHUNK ? start + RN_DOT_CHUNK : n;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;
    for (i = start; i < end; ++i) {
      const int16_t xv = (int16_t)(x[i] + xo);
      s0 += (int16_t)(f0[i] + fo) * xv;
      s1 += (int16_t)(f1[i] + fo) * xv;
      s2 += (int16_t)(f2[i] + fo) * xv;
      s3 += (int16_t)(f3[i] + fo) * xv;
    }
    acc[0] += (uint32_t)s0;
    acc[1] += (uint32_t)s1;
    acc[2] += (uint32_t)s2;
    acc[3] += (uint32_t)s3;
  }
}

/* One row of rn_dot4_narrow. */
static inline uint32_t rn_dot1_narrow(const int8_t *x, const int8_t *f,
                                      int32_t n, int32_t x_off,
                                      int32_t f_off) {
  const int16_t xo = (int16_t)x_off, fo = (int16_t)f_off;
  uint32_t acc = 0;
  int32_t start;
  for (start = 0; start < n; start += RN_DOT_CHUNK) {
    const int32_t end = n - start > RN_DOT_CHUNK ? start + RN_DOT_CHUNK : n;
    int32_t s = 0, i;
    for (i = start; i < end; ++i) {
      s += (int16_t)(f[i] + fo) * (int16_t)(x[i] + xo);
    }
    acc += (uint32_t)s;
  }
  return acc;
}

/* The same sum for any offsets, wrapping in uint32_t like the reference. */
static inline uint32_t rn_dot1_wide(const int8_t *x, const int8_t *f,
                                    int32_t n, int32_t x_off, int32_t f_off) {
  uint32_t acc = 0;
  int32_t i;
  for (i = 0; i < n; ++i) {
    acc += ((uint32_t)(int32_t)f[i] + (uint32_t)f_off) *
           ((uint32_t)(int32_t)x[i] + (uint32_t)x_off);
  }
  return acc;
}

/* acc[k] += dot of filter row k (k < rows <= 4) with x, choosing the path. */
static inline void rn_dot_rows(const int8_t *x, const int8_t *f,
                               int32_t f_stride, int32_t rows, int32_t n,
                               int32_t x_off, int32_t f_off, int narrow,
                               uint32_t *acc) {
  int32_t k;
  if (narrow && rows == 4) {
    rn_dot4_narrow(x, f, f_stride, n, x_off, f_off, acc);
    return;
  }
  for (k = 0; k < rows; ++k) {
    acc[k] += narrow ? rn_dot1_narrow(x, f + k * f_stride, n, x_off, f_off)
                     : rn_dot1_wide(x, f + k * f_stride, n, x_off, f_off);
  }
}

/* acc[k] += sum_i f[k * f_stride + i] * x[i], k < 4, for a column x already
 * widened to 16 bits with its offset added (|x| <= 256). */
static inline void rn_dot4_col(const int16_t *x, const int8_t *f,
                               int32_t f_stride, int32_t n, uint32_t *acc) {
  const int8_t *f0 = f, *f1 = f + f_stride, *f2 = f1 + f_stride,
               *f3 = f2 + f_stride;
  int32_t start;
  for (start = 0; start < n; start += RN_DOT_CHUNK) {
    const int32_t end = n - start > RN_DOT_CHUNK ? start + RN_DOT_CHUNK : n;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;
    for (i = start; i < end; ++i) {
      s0 += f0[i] * x[i];
      s1 += f1[i] * x[i];
      s2 += f2[i] * x[i];
      s3 += f3[i] * x[i];
    }
    acc[0] += (uint32_t)s0;
    acc[1] += (uint32_t)s1;
    acc[2] += (uint32_t)s2;
    acc[3] += (uint32_t)s3;
  }
}

/* One row of rn_dot4_col. */
static inline uint32_t rn_dot1_col(const int16_t *x, const int8_t *f,
                                   int32_t n) {
  uint32_t acc = 0;
  int32_t start;
  for (start = 0; start < n; start += RN_DOT_CHUNK) {
    const int32_t end = n - start > RN_DOT_CHUNK ? start + RN_DOT_CHUNK : n;
    int32_t s = 0, i;
    for (i = start; i < end; ++i) s += f[i] * x[i];
    acc += (uint32_t)s;
  }
  return acc;
}

/* Bias, requantisation and clamp of an accumulator, as the reference does. */
static inline int8_t rn_requantize_acc(uint32_t acc, const int32_t *bias,
                                       int32_t oc, int32_t multiplier,
                                       int32_t shift, int32_t output_offset,
                                       int32_t act_min, int32_t act_max) {
  int32_t v;
  if (bias) acc += (uint32_t)bias[oc];
  v = rn_mbqm((int32_t)acc, multiplier, shift) + output_offset;
  return (int8_t)rn_clamp(v, act_min, act_max);
}

/* rn_requantize_acc for n channels at once, written without branches so the
 * compiler vectorises it over channels: out[c] from acc[c], bias[c] (bias may
 * be NULL) and multiplier/shift[c * q_step] (q_step 0: one per tensor).  Each
 * step is rn_mbqm's: the left shift wraps through uint32, SRDHM saturates
 * INT32_MIN * INT32_MIN, the division by 2^31 truncates toward zero, and the
 * rounding right shift breaks ties away from zero. */
static inline void rn_requantize_block(const uint32_t *acc, const int32_t *bias,
                                       int32_t n, const int32_t *multiplier,
                                       const int32_t *shift, int32_t q_step,
                                       int32_t output_offset, int32_t act_min,
                                       int32_t act_max, int8_t *out) {
  int32_t c;
  for (c = 0; c < n; ++c) {
    const int32_t m = multiplier[c * q_step], sh = shift[c * q_step];
    const int32_t left = sh > 0 ? sh : 0, right = sh > 0 ? 0 : -sh;
    const uint32_t a = acc[c] + (bias ? (uint32_t)bias[c] : 0u);
    const int32_t x = (int32_t)(a << left);
    const int64_t ab = (int64_t)x * (int64_t)m;
    const int64_t t = ab + (ab >= 0 ? (1 << 30) : (1 - (1 << 30)));
    const int64_t q = (t + (t < 0 ? (((int64_t)1 << 31) - 1) : 0)) >> 31;
    const int32_t high = (x == INT32_MIN && m == INT32_MIN) ? INT32_MAX
                                                             : (int32_t)q;
    const int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
    const int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    int32_t v = (high >> right) + ((high & mask) > threshold ? 1 : 0);
    v += output_offset;
    v = v < act_min ? act_min : v;
    v = v > act_max ? act_max : v;
    out[c] = (int8_t)v;
  }
}

#endif /* RNNEDGE_OPTIMIZED_H */
