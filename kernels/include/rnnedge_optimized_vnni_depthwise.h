/* The AVX-512 path of the optimised DEPTHWISE_CONV_2D
 * (kernels/optimized/depthwise_conv_2d.c), on the hosts where
 * rnnedge_optimized_vnni.h defines RN_X86_VNNI: depth multiplier 1, 16
 * channels per vector widened to int32 and multiplied with wrapping vpmulld
 * (the reference's uint32 arithmetic, so any input offset), masked tails,
 * requantised by rn_vnni_requantize.
 * May include: the kernel headers.
 */
#ifndef RNNEDGE_OPTIMIZED_VNNI_DEPTHWISE_H
#define RNNEDGE_OPTIMIZED_VNNI_DEPTHWISE_H

#include "rnnedge_optimized_vnni.h"

#if defined(RN_X86_VNNI)

/* DEPTHWISE_CONV_2D with depth multiplier 1, one output pixel's channels
 * [c0, c0 + n) (n <= 16 * vectors, vectors <= 4 a constant after inlining)
 * over its valid taps [fy_lo, fy_hi) x [fx_lo, fx_hi): 16 channels per
 * vector, f * (x + offset) widened to int32 and multiplied with wrapping
 * (vpmulld, as the reference's uint32 arithmetic: any offset), masked
 * tails, then rn_vnni_requantize. */
static inline __attribute__((always_inline)) void rn_vnni_depthwise_block(
    const rn_depthwise_conv_2d_params *p, const int8_t *in_b,
    const int8_t *filter, const int32_t *bias, int32_t in_y_origin,
    int32_t in_x_origin, const int32_t *taps, int32_t c0, int32_t n,
    int32_t vectors, int8_t *out_px) {
  const __m512i off = _mm512_set1_epi32(p->input_offset);
  __m512i acc[4];
  __mmask16 lanes[4];
  int32_t v, fy, fx;
  for (v = 0; v < vectors; ++v) {
    const int32_t left = n - 16 * v;
    lanes[v] = (__mmask16)(left >= 16 ? 0xFFFF : (1u << left) - 1u);
    acc[v] = _mm512_setzero_si512();
  }
  for (fy = taps[0]; fy < taps[1]; ++fy) {
    const int32_t in_y = in_y_origin + p->dilation_height * fy;
    for (fx = taps[2]; fx < taps[3]; ++fx) {
      const int32_t in_x = in_x_origin + p->dilation_width * fx;
      const int8_t *x = in_b + (in_y * p->input_width + in_x) * p->input_depth + c0;
      const int8_t *f = filter + (fy * p->filter_width + fx) * p->output_depth + c0;
      for (v = 0; v < vectors; ++v) {
        const __m512i xv = _mm512_add_epi32(
            _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes[v], x + 16 * v)), off);
        const __m512i fv = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes[v], f + 16 * v));
        acc[v] = _mm512_add_epi32(acc[v], _mm512_mullo_epi32(xv, fv));
      }
    }
  }
  for (v = 0; v < vectors; ++v) {
    const int32_t c = c0 + 16 * v;
    const rn_vnni_rescale r = rn_vnni_rescale_of(
        bias ? bias + c : bias, p->output_multiplier + c, p->output_shift + c, n - 16 * v);
    rn_vnni_requantize(acc[v], &r, p->output_offset, p->activation_min,
                       p->activation_max, out_px + c);
  }
}

/* rn_vnni_depthwise_block for n <= 64 channels; taps: fy_lo, fy_hi, fx_lo,
 * fx_hi. */
static inline void rn_vnni_depthwise_pixel(
    const rn_depthwise_conv_2d_params *p, const int8_t *in_b,
    const int8_t *filter, const int32_t *bias, int32_t in_y_origin,
    int32_t in_x_origin, const int32_t *taps, int32_t c0, int32_t n,
    int8_t *out_px) {
  switch ((n + 15) / 16) { /* constant counts: accumulators in registers */
    case 1: rn_vnni_depthwise_block(p, in_b, filter, bias, in_y_origin, in_x_origin, taps, c0, n, 1, out_px); break;
    case 2: rn_vnni_depthwise_block(p, in_b, filter, bias, in_y_origin, in_x_origin, taps, c0, n, 2, out_px); break;
    case 3: rn_vnni_depthwise_block(p, in_b, filter, bias, in_y_origin, in_x_origin, taps, c0, n, 3, out_px); break;
    default: rn_vnni_depthwise_block(p, in_b, filter, bias, in_y_origin, in_x_origin, taps, c0, n, 4, out_px); break;
  }
}

#endif /* RN_X86_VNNI */
#endif /* RNNEDGE_OPTIMIZED_VNNI_DEPTHWISE_H */
