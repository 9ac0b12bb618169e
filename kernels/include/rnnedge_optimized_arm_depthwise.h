/* The DSP-extension path of the optimised DEPTHWISE_CONV_2D
 * (kernels/optimized/depthwise_conv_2d.c) on Cortex-M4/M7, where
 * rnnedge_optimized_arm.h defines RN_ARM_DSP: depth multiplier 1 and a narrow
 * input offset (rn_offset_is_narrow).  Four channels at a time, their
 * accumulators in registers over all the pixel's valid taps: per tap one word
 * of input and one of filter; SXTAB16 widens the even and the odd channels of
 * the input word and adds the offset to both halves, SXTB16 the filter's, and
 * SMLABB / SMLATT multiply-accumulate the bottom / top halves, one channel each
 * (CMSIS-NN's arm_depthwise_conv_s8_opt does the same).  SMLAD would need the
 * same channel of two taps packed into one word first: measured under QEMU
 * that packing costs more instructions than it saves (ds_cnn on the M4: 14.4M
 * instructions against 12.3M for the portable loop).  Same bits as the
 * reference: with a narrow offset every (x + offset) and product fits 16 and
 * 32 bits, and the 32-bit accumulation wraps modulo 2^32 as the reference's
 * uint32_t sum.
 * May include: the kernel headers.
 */
#ifndef RNNEDGE_OPTIMIZED_ARM_DEPTHWISE_H
#define RNNEDGE_OPTIMIZED_ARM_DEPTHWISE_H

#include "rnnedge_kernels.h"
#include "rnnedge_optimized.h"

#if defined(RN_ARM_DSP)

/* acc[c] = sum over the valid taps of f[tap][c] * (x[tap][c] + off), c < n,
 * for depth multiplier 1: x, f point at the first valid tap's first channel;
 * x_step / f_step are the steps to the next tap in a row of taps, x_row /
 * f_row to the next row; taps_x x taps_y taps. */
static inline void rn_dsp_depthwise_acc(const int8_t *x, const int8_t *f,
                                        int32_t x_step, int32_t x_row,
                                        int32_t f_step, int32_t f_row,
                                        int32_t taps_x, int32_t taps_y,
                                        int32_t off, int32_t n, uint32_t *acc) {
  const uint32_t xo = rn_pair(off);
  int32_t c, tx, ty;
  for (c = 0; c + 4 <= n; c += 4) {
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (ty = 0; ty < taps_y; ++ty) {
      const int8_t *xr = x + ty * x_row + c, *fr = f + ty * f_row + c;
      for (tx = 0; tx < taps_x; ++tx, xr += x_step, fr += f_step) {
        const uint32_t xw = rn_read_word(xr), fw = rn_read_word(fr);
        const int32_t xe = (int32_t)__sxtab16(xo, xw);          /* c, c+2 */
        const int32_t xd = (int32_t)__sxtab16(xo, rn_ror8(xw)); /* c+1, c+3 */
        const int32_t fe = (int32_t)__sxtb16(fw), fd = (int32_t)__sxtb16(rn_ror8(fw));
        s0 = __smlabb(fe, xe, s0);
        s2 = __smlatt(fe, xe, s2);
        s1 = __smlabb(fd, xd, s1);
        s3 = __smlatt(fd, xd, s3);
      }
    }
    acc[c] = (uint32_t)s0;
    acc[c + 1] = (uint32_t)s1;
    acc[c + 2] = (uint32_t)s2;
    acc[c + 3] = (uint32_t)s3;
  }
  for (; c < n; ++c) { /* the last n % 4 channels */
    uint32_t t = 0;
    for (ty = 0; ty < taps_y; ++ty) {
      for (tx = 0; tx < taps_x; ++tx) {
        t += (uint32_t)(f[ty * f_row + tx * f_step + c] *
                        (x[ty * x_row + tx * x_step + c] + off));
      }
    }
    acc[c] = t;
  }
}

#endif /* RN_ARM_DSP */
#endif /* RNNEDGE_OPTIMIZED_ARM_DEPTHWISE_H */
