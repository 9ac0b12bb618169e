/* AVERAGE_POOL_2D, optimised: the bytes of ../average_pool_2d.c (TFLM's
 * reference_integer_ops::AveragePool).  Channels are the innermost loop: a
 * block of int32 channel sums takes each valid tap's contiguous channel
 * vector (vectorised), then each sum is divided by the tap count rounding
 * half away from zero, and clamped. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_optimized.h"

#define RN_POOL_BLOCK 256

int rn_average_pool_2d(const rn_pool_2d_params *p, const int8_t *input,
                       int8_t *output) {
  int32_t b, oy, ox, c0, c, fy, fx;
  if (p->stride_height <= 0 || p->stride_width <= 0 ||
      p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->output_height; ++oy) {
      const int32_t in_y0 = oy * p->stride_height - p->pad_height;
      int32_t fy_lo, fy_hi;
      rn_valid_taps(in_y0, 1, p->filter_height, p->input_height, &fy_lo, &fy_hi);
      for (ox = 0; ox < p->output_width; ++ox) {
        const int32_t in_x0 = ox * p->stride_width - p->pad_width;
        int8_t *out =
            output + ((b * p->output_height + oy) * p->output_width + ox) *
                         p->depth;
        int32_t fx_lo, fx_hi, count;
        rn_valid_taps(in_x0, 1, p->filter_width, p->input_width, &fx_lo, &fx_hi);
        count = (fy_hi - fy_lo) * (fx_hi - fx_lo);
        if (count == 0) {
          if (p->depth > 0) return RN_BAD_PARAMS;
          continue;
        }
        for (c0 = 0; c0 < p->depth; c0 += RN_POOL_BLOCK) {
          const int32_t n =
              p->depth - c0 < RN_POOL_BLOCK ? p->depth - c0 : RN_POOL_BLOCK;
          int32_t acc[RN_POOL_BLOCK];
          for (c = 0; c < n; ++c) acc[c] = 0;
          for (fy = fy_lo; fy < fy_hi; ++fy) {
            for (fx = fx_lo; fx < fx_hi; ++fx) {
              const int8_t *x = input + ((b * p->input_height + in_y0 + fy) *
                                             p->input_width + in_x0 + fx) *
                                            p->depth + c0;
              for (c = 0; c < n; ++c) acc[c] = rn_add_wrap(acc[c], x[c]);
            }
          }
          for (c = 0; c < n; ++c) {
            const int32_t v = acc[c] > 0 ? rn_add_wrap(acc[c], count / 2) / count
                                         : rn_add_wrap(acc[c], -(count / 2)) / count;
            out[c0 + c] = (int8_t)rn_clamp(v, p->activation_min, p->activation_max);
          }
        }
      }
    }
  }
  return RN_OK;
}
