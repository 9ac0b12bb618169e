/* Building blocks of the optimised kernels (kernels/optimized/): int8 dot
 * products written so that GCC/Clang vectorise them at -O3 (16-bit widening,
 * int32 partial sums: pmaddwd / vpdpwssd on x86, SMLAD / VMLADAV on Arm) and
 * valid-tap ranges that take the bounds checks out of the inner loops.  On
 * Cortex-M the inner products come from rnnedge_optimized_arm.h instead
 * (Helium / SMLAD intrinsics, the same contracts and bits).
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
#include "rnnedge_optimized_arm.h" /* Helium / DSP inner products on Cortex-M */

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

#if !defined(RN_ARM_MVE) && !defined(RN_ARM_DSP) /* else rnnedge_optimized_arm.h */
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

#endif

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

#if !defined(RN_ARM_MVE) && !defined(RN_ARM_DSP) /* else rnnedge_optimized_arm.h */
/* acc[4 * j + k] += sum_i f[k * f_stride + i] * x[j * x_stride + i] for four
 * columns j and four filter rows k, both widened to 16 bits (|x|, |f| <= 256,
 * n <= RN_DOT_CHUNK): each loaded vector serves four products. */
static inline void rn_dot4x4_col(const int16_t *x, int32_t x_stride,
                                 const int16_t *f, int32_t f_stride, int32_t n,
                                 uint32_t *acc) {
  const int16_t *f0 = f, *f1 = f + f_stride, *f2 = f1 + f_stride,
                *f3 = f2 + f_stride;
  const int16_t *x0 = x, *x1 = x + x_stride, *x2 = x1 + x_stride,
                *x3 = x2 + x_stride;
  int32_t start;
  for (start = 0; start < n; start += RN_DOT_CHUNK) {
    const int32_t end = n - start > RN_DOT_CHUNK ? start + RN_DOT_CHUNK : n;
    int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0,
            s13 = 0, s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0,
            s32 = 0, s33 = 0, i;
    for (i = start; i < end; ++i) {
      const int16_t w0 = f0[i], w1 = f1[i], w2 = f2[i], w3 = f3[i];
      s00 += w0 * x0[i];
      s01 += w1 * x0[i];
      s02 += w2 * x0[i];
      s03 += w3 * x0[i];
      s10 += w0 * x1[i];
      s11 += w1 * x1[i];
      s12 += w2 * x1[i];
      s13 += w3 * x1[i];
      s20 += w0 * x2[i];
      s21 += w1 * x2[i];
      s22 += w2 * x2[i];
      s23 += w3 * x2[i];
      s30 += w0 * x3[i];
      s31 += w1 * x3[i];
      s32 += w2 * x3[i];
      s33 += w3 * x3[i];
    }
    acc[0] += (uint32_t)s00;
    acc[1] += (uint32_t)s01;
    acc[2] += (uint32_t)s02;
    acc[3] += (uint32_t)s03;
    acc[4] += (uint32_t)s10;
    acc[5] += (uint32_t)s11;
    acc[6] += (uint32_t)s12;
    acc[7] += (uint32_t)s13;
    acc[8] += (uint32_t)s20;
    acc[9] += (uint32_t)s21;
    acc[10] += (uint32_t)s22;
    acc[11] += (uint32_t)s23;
    acc[12] += (uint32_t)s30;
    acc[13] += (uint32_t)s31;
    acc[14] += (uint32_t)s32;
    acc[15] += (uint32_t)s33;
  }
}

/* One column and one 16-bit filter row of rn_dot4x4_col. */
static inline uint32_t rn_dot1_col(const int16_t *x, const int16_t *f,
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

#endif

#if !defined(RN_ARM_MVE) /* else rnnedge_optimized_arm.h */
/* acc[c] += f[c] * (x[c] + off), c < n: one tap of a depthwise block, channels
 * innermost, wrapping in uint32_t like the reference. */
static inline void rn_dw_mac(uint32_t *acc, const int8_t *f, const int8_t *x,
                             uint32_t off, int32_t n) {
  int32_t c;
  for (c = 0; c < n; ++c) {
    acc[c] += (uint32_t)(int32_t)f[c] * ((uint32_t)(int32_t)x[c] + off);
  }
}
#endif

/* Bias, requantisation and clamp of an accumulator, as the reference does. */
static inline int8_t rn_requantize_acc(uint32_t acc, const int32_t *bias,
                                       int32_t oc, int32_t multiplier,
                                       int32_t shift, int32_t output_offset,
                                       int32_t act_min, int32_t act_max) {
  int32_t v;
  if (bias) acc += (uint32_t)bias[oc];
  v = rn_add_wrap(rn_MultiplyByQuantizedMultiplier((int32_t)acc, multiplier, shift), output_offset);
  return (int8_t)rn_clamp(v, act_min, act_max);
}

/* rn_SaturatingRoundingDoublingHighMul and rn_RoundingDivideByPOT without branches, so that loops over them vectorise
 * (same results: SRDHM saturates INT32_MIN * INT32_MIN and its division by
 * 2^31 truncates toward zero; the rounding shift breaks ties away from 0). */
static inline int32_t rn_SaturatingRoundingDoublingHighMulLane(int32_t a, int32_t b) {
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t t = ab + (ab >= 0 ? (1 << 30) : (1 - (1 << 30)));
  const int64_t q = (t + (t < 0 ? (((int64_t)1 << 31) - 1) : 0)) >> 31;
  return (a == INT32_MIN && b == INT32_MIN) ? INT32_MAX : (int32_t)q;
}

static inline int32_t rn_RoundingDivideByPOTLane(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u); /* 0..31 */
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + ((x & mask) > threshold ? 1 : 0);
}

/* rn_requantize_acc for n lanes at once, vectorisable: lane i takes acc[i] +
 * bias[i * bias_step] (bias may be NULL), multiplier/shift[i * q_step] (0:
 * one for all lanes) and writes out[i * out_step]. */
static inline void rn_requantize_lanes(const uint32_t *acc, int32_t n,
                                       const int32_t *bias, int32_t bias_step,
                                       const int32_t *multiplier,
                                       const int32_t *shift, int32_t q_step,
                                       int32_t output_offset, int32_t act_min,
                                       int32_t act_max, int8_t *out,
                                       int32_t out_step) {
  int32_t c;
  for (c = 0; c < n; ++c) {
    const int32_t m = multiplier[c * q_step], sh = shift[c * q_step];
    const int32_t left = sh > 0 ? sh : 0, right = sh > 0 ? 0 : -sh;
    const uint32_t a = acc[c] + (bias ? (uint32_t)bias[c * bias_step] : 0u);
    int32_t v = rn_add_wrap(
        rn_RoundingDivideByPOTLane(rn_SaturatingRoundingDoublingHighMulLane((int32_t)(a << left), m), right),
        output_offset);
    v = v < act_min ? act_min : v;
    v = v > act_max ? act_max : v;
    out[c * out_step] = (int8_t)v;
  }
}

/* Per-channel lanes: n channels of one pixel. */
static inline void rn_requantize_block(const uint32_t *acc, const int32_t *bias,
                                       int32_t n, const int32_t *multiplier,
                                       const int32_t *shift, int32_t q_step,
                                       int32_t output_offset, int32_t act_min,
                                       int32_t act_max, int8_t *out) {
  rn_requantize_lanes(acc, n, bias, 1, multiplier, shift, q_step,
                      output_offset, act_min, act_max, out, 1);
}

#endif /* RNNEDGE_OPTIMIZED_H */
