/* The Cortex-M inner products of the optimised kernels (rnnedge_optimized.h
 * includes this file on Arm and takes these definitions in place of its
 * portable loops): Helium (MVE) where the CPU has it (Cortex-M55, -mcpu=
 * cortex-m55: __ARM_FEATURE_MVE), else the DSP extension's SMLAD on packed
 * 16-bit pairs (Cortex-M4/M7: __ARM_FEATURE_DSP), with ACLE intrinsics
 * (arm_mve.h, arm_acle.h).
 *
 * rn_dot4_narrow, rn_dot1_narrow and (Helium) rn_dw_mac keep the contracts of
 * the portable versions; rn_column_order, rn_dot4x4_col_f8 and rn_dot1_col_f8
 * serve CONV_2D's Cortex-M column path (kernels/optimized/conv_2d.c).
 * Same bits as the portable code: each product is
 * (int8 + offset) * (int8 + offset) widened to 16 bits (offsets narrow, see
 * rn_offset_is_narrow), VMLADAVA.S16 / SMLAD add the products into a 32-bit
 * accumulator that wraps modulo 2^32 in hardware, and the sum of any order
 * of the products modulo 2^32 is the reference's wrapping sum; so no chunking
 * is needed here.  Helium, as CMSIS-NN's arm_nn_mat_mult_s8 widened: eight
 * 16-bit lanes per VMLADAVA, one filter row per accumulator (VMLADAVA's
 * accumulator is an even-numbered core register: four of them stay in
 * registers), the tail under a VCTP predicate.  DSP: SXTAB16 widens the even
 * and the odd bytes of a word and adds the offset to both halves at once
 * (CMSIS-NN's read_and_pad), SMLAD multiplies and adds two pairs.
 */
#ifndef RNNEDGE_OPTIMIZED_ARM_H
#define RNNEDGE_OPTIMIZED_ARM_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define RN_ARM_MVE 1
#include <arm_mve.h>
#elif defined(__ARM_FEATURE_DSP)
#define RN_ARM_DSP 1
#include <arm_acle.h>
#endif

#if defined(RN_ARM_MVE)

/* acc[k] += sum_i (f[k * f_stride + i] + f_off) * (x[i] + x_off), k < 4. */
static inline void rn_dot4_narrow(const int8_t *x, const int8_t *f,
                                  int32_t f_stride, int32_t n, int32_t x_off,
                                  int32_t f_off, uint32_t *acc) {
  const int16_t xo = (int16_t)x_off, fo = (int16_t)f_off;
  const int8_t *f0 = f, *f1 = f + f_stride, *f2 = f1 + f_stride,
               *f3 = f2 + f_stride;
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;
  for (i = 0; i + 8 <= n; i += 8) {
    const int16x8_t xv = vaddq_n_s16(vldrbq_s16(x + i), xo);
    s0 = vmladavaq_s16(s0, vaddq_n_s16(vldrbq_s16(f0 + i), fo), xv);
    s1 = vmladavaq_s16(s1, vaddq_n_s16(vldrbq_s16(f1 + i), fo), xv);
    s2 = vmladavaq_s16(s2, vaddq_n_s16(vldrbq_s16(f2 + i), fo), xv);
    s3 = vmladavaq_s16(s3, vaddq_n_s16(vldrbq_s16(f3 + i), fo), xv);
  }
  if (i < n) {
    const mve_pred16_t p = vctp16q((uint32_t)(n - i));
    const int16x8_t xv = vaddq_n_s16(vldrbq_z_s16(x + i, p), xo);
    s0 = vmladavaq_p_s16(s0, vaddq_n_s16(vldrbq_z_s16(f0 + i, p), fo), xv, p);
    s1 = vmladavaq_p_s16(s1, vaddq_n_s16(vldrbq_z_s16(f1 + i, p), fo), xv, p);
    s2 = vmladavaq_p_s16(s2, vaddq_n_s16(vldrbq_z_s16(f2 + i, p), fo), xv, p);
    s3 = vmladavaq_p_s16(s3, vaddq_n_s16(vldrbq_z_s16(f3 + i, p), fo), xv, p);
  }
  acc[0] += (uint32_t)s0;
  acc[1] += (uint32_t)s1;
  acc[2] += (uint32_t)s2;
  acc[3] += (uint32_t)s3;
}

/* One row of rn_dot4_narrow. */
static inline uint32_t rn_dot1_narrow(const int8_t *x, const int8_t *f,
                                      int32_t n, int32_t x_off,
                                      int32_t f_off) {
  const int16_t xo = (int16_t)x_off, fo = (int16_t)f_off;
  int32_t s = 0, i;
  for (i = 0; i + 8 <= n; i += 8) {
    s = vmladavaq_s16(s, vaddq_n_s16(vldrbq_s16(f + i), fo),
                      vaddq_n_s16(vldrbq_s16(x + i), xo));
  }
  if (i < n) {
    const mve_pred16_t p = vctp16q((uint32_t)(n - i));
    s = vmladavaq_p_s16(s, vaddq_n_s16(vldrbq_z_s16(f + i, p), fo),
                        vaddq_n_s16(vldrbq_z_s16(x + i, p), xo), p);
  }
  return (uint32_t)s;
}

/* sum_i f[i] * x[i] over 16-bit vectors. */
static inline uint32_t rn_dot1_col(const int16_t *x, const int16_t *f,
                                   int32_t n) {
  int32_t s = 0, i;
  for (i = 0; i + 8 <= n; i += 8) {
    s = vmladavaq_s16(s, vldrhq_s16(f + i), vldrhq_s16(x + i));
  }
  if (i < n) {
    const mve_pred16_t p = vctp16q((uint32_t)(n - i));
    s = vmladavaq_p_s16(s, vldrhq_z_s16(f + i, p), vldrhq_z_s16(x + i, p), p);
  }
  return (uint32_t)s;
}

/* acc[4 * j + k] += sum_i f[k * f_stride + i] * x[j * x_stride + i]: per
 * column, one load of it serves the four filter rows. */
static inline void rn_dot4x4_col(const int16_t *x, int32_t x_stride,
                                 const int16_t *f, int32_t f_stride, int32_t n,
                                 uint32_t *acc) {
  const int16_t *f0 = f, *f1 = f + f_stride, *f2 = f1 + f_stride,
                *f3 = f2 + f_stride;
  int32_t j;
  for (j = 0; j < 4; ++j) {
    const int16_t *xj = x + j * x_stride;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;
    for (i = 0; i + 8 <= n; i += 8) {
      const int16x8_t xv = vldrhq_s16(xj + i);
      s0 = vmladavaq_s16(s0, vldrhq_s16(f0 + i), xv);
      s1 = vmladavaq_s16(s1, vldrhq_s16(f1 + i), xv);
      s2 = vmladavaq_s16(s2, vldrhq_s16(f2 + i), xv);
      s3 = vmladavaq_s16(s3, vldrhq_s16(f3 + i), xv);
    }
    if (i < n) {
      const mve_pred16_t p = vctp16q((uint32_t)(n - i));
      const int16x8_t xv = vldrhq_z_s16(xj + i, p);
      s0 = vmladavaq_p_s16(s0, vldrhq_z_s16(f0 + i, p), xv, p);
      s1 = vmladavaq_p_s16(s1, vldrhq_z_s16(f1 + i, p), xv, p);
      s2 = vmladavaq_p_s16(s2, vldrhq_z_s16(f2 + i, p), xv, p);
      s3 = vmladavaq_p_s16(s3, vldrhq_z_s16(f3 + i, p), xv, p);
    }
    acc[4 * j] += (uint32_t)s0;
    acc[4 * j + 1] += (uint32_t)s1;
    acc[4 * j + 2] += (uint32_t)s2;
    acc[4 * j + 3] += (uint32_t)s3;
  }
}

/* acc[4 * j + k] += sum_i f[k * f_stride + i] * x[j * x_stride + i] with 16-bit
 * columns x and int8 filter rows f, widened as they load (VLDRB.S16): the
 * Cortex-M column path of CONV_2D reads the filters as they are stored. */
static inline void rn_dot4x4_col_f8(const int16_t *x, int32_t x_stride,
                                    const int8_t *f, int32_t f_stride,
                                    int32_t n, uint32_t *acc) {
  const int8_t *f0 = f, *f1 = f + f_stride, *f2 = f1 + f_stride,
               *f3 = f2 + f_stride;
  int32_t j;
  for (j = 0; j < 4; ++j) {
    const int16_t *xj = x + j * x_stride;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;
    for (i = 0; i + 8 <= n; i += 8) {
      const int16x8_t xv = vldrhq_s16(xj + i);
      s0 = vmladavaq_s16(s0, vldrbq_s16(f0 + i), xv);
      s1 = vmladavaq_s16(s1, vldrbq_s16(f1 + i), xv);
      s2 = vmladavaq_s16(s2, vldrbq_s16(f2 + i), xv);
      s3 = vmladavaq_s16(s3, vldrbq_s16(f3 + i), xv);
    }
    if (i < n) {
      const mve_pred16_t p = vctp16q((uint32_t)(n - i));
      const int16x8_t xv = vldrhq_z_s16(xj + i, p);
      s0 = vmladavaq_p_s16(s0, vldrbq_z_s16(f0 + i, p), xv, p);
      s1 = vmladavaq_p_s16(s1, vldrbq_z_s16(f1 + i, p), xv, p);
      s2 = vmladavaq_p_s16(s2, vldrbq_z_s16(f2 + i, p), xv, p);
      s3 = vmladavaq_p_s16(s3, vldrbq_z_s16(f3 + i, p), xv, p);
    }
    acc[4 * j] += (uint32_t)s0;
    acc[4 * j + 1] += (uint32_t)s1;
    acc[4 * j + 2] += (uint32_t)s2;
    acc[4 * j + 3] += (uint32_t)s3;
  }
}

/* One column and one int8 filter row of rn_dot4x4_col_f8. */
static inline uint32_t rn_dot1_col_f8(const int16_t *x, const int8_t *f,
                                      int32_t n) {
  int32_t s = 0, i;
  for (i = 0; i + 8 <= n; i += 8) {
    s = vmladavaq_s16(s, vldrbq_s16(f + i), vldrhq_s16(x + i));
  }
  if (i < n) {
    const mve_pred16_t p = vctp16q((uint32_t)(n - i));
    s = vmladavaq_p_s16(s, vldrbq_z_s16(f + i, p), vldrhq_z_s16(x + i, p), p);
  }
  return (uint32_t)s;
}

/* Helium reads the columns in their natural order. */
static inline void rn_column_order(int16_t *column, int32_t n) {
  (void)column;
  (void)n;
}

/* acc[c] += f[c] * (x[c] + off), c < n (depthwise, channels innermost):
 * four 32-bit lanes per VMUL + VADD (Helium's VMLA takes a scalar), wrapping
 * like the reference's uint32_t sums. */
static inline void rn_dw_mac(uint32_t *acc, const int8_t *f, const int8_t *x,
                             uint32_t off, int32_t n) {
  int32_t c;
  for (c = 0; c < n; c += 4) {
    const mve_pred16_t p = vctp32q((uint32_t)(n - c));
    const int32x4_t xv = vaddq_n_s32(vldrbq_z_s32(x + c, p), (int32_t)off);
    const int32x4_t a = vldrwq_z_s32((const int32_t *)(acc + c), p);
    vstrwq_p_s32((int32_t *)(acc + c),
                 vaddq_s32(a, vmulq_s32(vldrbq_z_s32(f + c, p), xv)), p);
  }
}

#elif defined(RN_ARM_DSP)

/* Four bytes of memory as one word (an unaligned LDR on Cortex-M4/M7). */
static inline uint32_t rn_read_word(const void *p) {
  uint32_t w;
  memcpy(&w, p, sizeof w);
  return w;
}

static inline uint32_t rn_ror8(uint32_t w) { return (w >> 8) | (w << 24); }

/* Both offsets in both halves of a word, for SXTAB16. */
static inline uint32_t rn_pair(int32_t offset) {
  const uint32_t h = (uint32_t)offset & 0xFFFFu;
  return h | (h << 16);
}

/* acc[k] += sum_i (f[k * f_stride + i] + f_off) * (x[i] + x_off), k < 4:
 * four bytes at a time, as two pairs of 16-bit lanes (even, odd bytes). */
static inline void rn_dot4_narrow(const int8_t *x, const int8_t *f,
                                  int32_t f_stride, int32_t n, int32_t x_off,
                                  int32_t f_off, uint32_t *acc) {
  const uint32_t xo = rn_pair(x_off), fo = rn_pair(f_off);
  int32_t s[4] = {0, 0, 0, 0};
  int32_t i, k;
  for (i = 0; i + 4 <= n; i += 4) {
    const uint32_t xw = rn_read_word(x + i);
    const int32_t xe = (int32_t)__sxtab16(xo, xw);
    const int32_t xd = (int32_t)__sxtab16(xo, rn_ror8(xw));
    for (k = 0; k < 4; ++k) {
      const uint32_t fw = rn_read_word(f + k * f_stride + i);
      s[k] = __smlad((int32_t)__sxtab16(fo, fw), xe, s[k]);
      s[k] = __smlad((int32_t)__sxtab16(fo, rn_ror8(fw)), xd, s[k]);
    }
  }
  for (k = 0; k < 4; ++k) {
    uint32_t t = (uint32_t)s[k];
    int32_t r;
    for (r = i; r < n; ++r) {
      t += (uint32_t)((f[k * f_stride + r] + f_off) * (x[r] + x_off));
    }
    acc[k] += t;
  }
}

/* One row of rn_dot4_narrow. */
static inline uint32_t rn_dot1_narrow(const int8_t *x, const int8_t *f,
                                      int32_t n, int32_t x_off,
                                      int32_t f_off) {
  const uint32_t xo = rn_pair(x_off), fo = rn_pair(f_off);
  int32_t s = 0, i;
  uint32_t t;
  for (i = 0; i + 4 <= n; i += 4) {
    const uint32_t xw = rn_read_word(x + i), fw = rn_read_word(f + i);
    s = __smlad((int32_t)__sxtab16(fo, fw), (int32_t)__sxtab16(xo, xw), s);
    s = __smlad((int32_t)__sxtab16(fo, rn_ror8(fw)),
                (int32_t)__sxtab16(xo, rn_ror8(xw)), s);
  }
  t = (uint32_t)s;
  for (; i < n; ++i) t += (uint32_t)((f[i] + f_off) * (x[i] + x_off));
  return t;
}

/* sum_i f[i] * x[i] over 16-bit values, two per SMLAD. */
static inline uint32_t rn_dot1_col(const int16_t *x, const int16_t *f,
                                   int32_t n) {
  int32_t s = 0, i;
  uint32_t t;
  for (i = 0; i + 2 <= n; i += 2) {
    s = __smlad((int32_t)rn_read_word(f + i), (int32_t)rn_read_word(x + i), s);
  }
  t = (uint32_t)s;
  if (i < n) t += (uint32_t)(f[i] * x[i]);
  return t;
}

/* acc[4 * j + k] += sum_i f[k * f_stride + i] * x[j * x_stride + i]: per
 * column, one load of a pair serves the four filter rows. */
static inline void rn_dot4x4_col(const int16_t *x, int32_t x_stride,
                                 const int16_t *f, int32_t f_stride, int32_t n,
                                 uint32_t *acc) {
  const int16_t *f0 = f, *f1 = f + f_stride, *f2 = f1 + f_stride,
                *f3 = f2 + f_stride;
  int32_t j;
  for (j = 0; j < 4; ++j) {
    const int16_t *xj = x + j * x_stride;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;
    for (i = 0; i + 2 <= n; i += 2) {
      const int32_t xv = (int32_t)rn_read_word(xj + i);
      s0 = __smlad((int32_t)rn_read_word(f0 + i), xv, s0);
      s1 = __smlad((int32_t)rn_read_word(f1 + i), xv, s1);
      s2 = __smlad((int32_t)rn_read_word(f2 + i), xv, s2);
      s3 = __smlad((int32_t)rn_read_word(f3 + i), xv, s3);
    }
    if (i < n) {
      s0 = (int32_t)((uint32_t)s0 + (uint32_t)(f0[i] * xj[i]));
      s1 = (int32_t)((uint32_t)s1 + (uint32_t)(f1[i] * xj[i]));
      s2 = (int32_t)((uint32_t)s2 + (uint32_t)(f2[i] * xj[i]));
      s3 = (int32_t)((uint32_t)s3 + (uint32_t)(f3[i] * xj[i]));
    }
    acc[4 * j] += (uint32_t)s0;
    acc[4 * j + 1] += (uint32_t)s1;
    acc[4 * j + 2] += (uint32_t)s2;
    acc[4 * j + 3] += (uint32_t)s3;
  }
}

/* The column layout rn_dot*_col_f8 read on DSP: in every whole group of four
 * values the middle two swap (x0 x2 x1 x3), so that the words (x0, x2) and
 * (x1, x3) pair with SXTB16's even (f0, f2) and odd (f1, f3) filter bytes
 * (CMSIS-NN's reordered im2col); the last n % 4 values stay in order. */
static inline void rn_column_order(int16_t *column, int32_t n) {
  int32_t i;
  for (i = 0; i + 4 <= n; i += 4) {
    const int16_t t = column[i + 1];
    column[i + 1] = column[i + 2];
    column[i + 2] = t;
  }
}

/* sum_i f[i] * x[i] of a reordered 16-bit column (rn_column_order) and an int8
 * filter row: four filter bytes widened by two SXTB16 feed two SMLAD. */
static inline uint32_t rn_dot1_col_f8(const int16_t *x, const int8_t *f,
                                      int32_t n) {
  int32_t s = 0, i;
  uint32_t t;
  for (i = 0; i + 4 <= n; i += 4) {
    const uint32_t fw = rn_read_word(f + i);
    s = __smlad((int32_t)__sxtb16(fw), (int32_t)rn_read_word(x + i), s);
    s = __smlad((int32_t)__sxtb16(rn_ror8(fw)), (int32_t)rn_read_word(x + i + 2), s);
  }
  t = (uint32_t)s;
  for (; i < n; ++i) t += (uint32_t)(f[i] * x[i]);
  return t;
}

/* acc[4 * j + k] += rn_dot1_col_f8(x + j * x_stride, f + k * f_stride, n) for
 * four columns and four filter rows; per column, its words serve four rows. */
static inline void rn_dot4x4_col_f8(const int16_t *x, int32_t x_stride,
                                    const int8_t *f, int32_t f_stride,
                                    int32_t n, uint32_t *acc) {
  int32_t j, k;
  for (j = 0; j < 4; ++j) {
    const int16_t *xj = x + j * x_stride;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i;
    for (i = 0; i + 4 <= n; i += 4) {
      const int32_t xe = (int32_t)rn_read_word(xj + i);
      const int32_t xd = (int32_t)rn_read_word(xj + i + 2);
      const uint32_t w0 = rn_read_word(f + i), w1 = rn_read_word(f + f_stride + i),
                     w2 = rn_read_word(f + 2 * f_stride + i),
                     w3 = rn_read_word(f + 3 * f_stride + i);
      s0 = __smlad((int32_t)__sxtb16(rn_ror8(w0)), xd,
                   __smlad((int32_t)__sxtb16(w0), xe, s0));
      s1 = __smlad((int32_t)__sxtb16(rn_ror8(w1)), xd,
                   __smlad((int32_t)__sxtb16(w1), xe, s1));
      s2 = __smlad((int32_t)__sxtb16(rn_ror8(w2)), xd,
                   __smlad((int32_t)__sxtb16(w2), xe, s2));
      s3 = __smlad((int32_t)__sxtb16(rn_ror8(w3)), xd,
                   __smlad((int32_t)__sxtb16(w3), xe, s3));
    }
    acc[4 * j] += (uint32_t)s0;
    acc[4 * j + 1] += (uint32_t)s1;
    acc[4 * j + 2] += (uint32_t)s2;
    acc[4 * j + 3] += (uint32_t)s3;
    for (k = 0; k < 4; ++k) {
      uint32_t t = 0;
      int32_t r;
      for (r = i; r < n; ++r) t += (uint32_t)(f[k * f_stride + r] * xj[r]);
      acc[4 * j + k] += t;
    }
  }
}

#endif

#endif /* RNNEDGE_OPTIMIZED_ARM_H */
