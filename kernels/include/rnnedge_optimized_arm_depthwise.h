/* The DSP-extension path of the optimised DEPTHWISE_CONV_2D
 * (kernels/optimized/depthwise_conv_2d.c) on Cortex-M4/M7, where
 * rnnedge_optimized_arm.h defines RN_ARM_DSP: depth multiplier 1 and a narrow
 * input offset (rn_offset_is_narrow).  Four channels at a time, their
 * accumulators in registers over all the pixel's valid taps; two taps per
 * SMLAD: SXTAB16 widens the even and the odd channels of a tap's word and adds
 * the offset, PKHBT / PKHTB pair one channel's values of two taps (CMSIS-NN's
 * arm_depthwise_conv_s8_opt does the same pairing).  Same bits as the
 * reference: with a narrow offset every (x + offset) and product fits 16 and
 * 32 bits, and SMLAD's sum wraps modulo 2^32 as the reference's uint32_t sum.
 * May include: the kernel headers.
 */
#ifndef RNNEDGE_OPTIMIZED_ARM_DEPTHWISE_H
#define RNNEDGE_OPTIMIZED_ARM_DEPTHWISE_H

#include "rnnedge_kernels.h"
#include "rnnedge_optimized.h"

#if defined(RN_ARM_DSP)

/* Low halves of a and b as one word (a low, b high): PKHBT. */
static inline uint32_t rn_pack_low(uint32_t a, uint32_t b) {
  return (a & 0xFFFFu) | (b << 16);
}

/* High halves of a and b as one word (a low, b high): PKHTB. */
static inline uint32_t rn_pack_high(uint32_t a, uint32_t b) {
  return (b & 0xFFFF0000u) | (a >> 16);
}

/* acc[c] = sum over the valid taps of f[tap][c0 + c] * (x[tap][c0 + c] + off),
 * c < n, for depth multiplier 1: x, f point at the first valid tap's channel
 * c0; x_step / f_step are the steps to the next tap in x, x_row / f_row to the
 * next row of taps; taps_x x taps_y taps. */
static inline void rn_dsp_depthwise_acc(const int8_t *x, const int8_t *f,
                                        int32_t x_step, int32_t x_row,
                                        int32_t f_step, int32_t f_row,
                                        int32_t taps_x, int32_t taps_y,
                                        int32_t off, int32_t n, uint32_t *acc) {
  const uint32_t xo = rn_pair(off);
  int32_t c, tx, ty;
  for (c = 0; c + 4 <= n; c += 4) {
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, pending = 0;
    uint32_t pxe = 0, pxd = 0, pfe = 0, pfd = 0;
    for (ty = 0; ty < taps_y; ++ty) {
      const int8_t *xr = x + ty * x_row + c, *fr = f + ty * f_row + c;
      for (tx = 0; tx < taps_x; ++tx, xr += x_step, fr += f_step) {
        const uint32_t xw = rn_read_word(xr), fw = rn_read_word(fr);
        const uint32_t xe = __sxtab16(xo, xw), xd = __sxtab16(xo, rn_ror8(xw));
        const uint32_t fe = __sxtb16(fw), fd = __sxtb16(rn_ror8(fw));
        if (pending) { /* channels c, c+2 from the even bytes; c+1, c+3 odd */
          s0 = __smlad((int32_t)rn_pack_low(pfe, fe), (int32_t)rn_pack_low(pxe, xe), s0);
          s2 = __smlad((int32_t)rn_pack_high(pfe, fe), (int32_t)rn_pack_high(pxe, xe), s2);
          s1 = __smlad((int32_t)rn_pack_low(pfd, fd), (int32_t)rn_pack_low(pxd, xd), s1);
          s3 = __smlad((int32_t)rn_pack_high(pfd, fd), (int32_t)rn_pack_high(pxd, xd), s3);
        } else {
          pxe = xe, pxd = xd, pfe = fe, pfd = fd;
        }
        pending = !pending;
      }
    }
    if (pending) { /* an odd tap count: the last tap against a zero partner */
      s0 = __smlad((int32_t)(pfe & 0xFFFFu), (int32_t)pxe, s0);
      s2 = __smlad((int32_t)(pfe >> 16), (int32_t)(pxe >> 16), s2);
      s1 = __smlad((int32_t)(pfd & 0xFFFFu), (int32_t)pxd, s1);
      s3 = __smlad((int32_t)(pfd >> 16), (int32_t)(pxd >> 16), s3);
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
