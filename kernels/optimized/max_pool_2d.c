/* MAX_POOL_2D, optimised: the bytes of ../max_pool_2d.c (TFLM's
 * reference_integer_ops::MaxPool).  Channels are the innermost loop: the
 * output pixel's channels start at -128 and take the running maximum of each
 * valid tap's contiguous channel vector (vectorised), then the clamp. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_optimized.h"

int rn_max_pool_2d(const rn_pool_2d_params *p, const int8_t *input,
                   int8_t *output) {
  int32_t b, oy, ox, c, fy, fx;
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
        int32_t fx_lo, fx_hi;
        rn_valid_taps(in_x0, 1, p->filter_width, p->input_width, &fx_lo, &fx_hi);
        for (c = 0; c < p->depth; ++c) out[c] = -128;
        for (fy = fy_lo; fy < fy_hi; ++fy) {
          for (fx = fx_lo; fx < fx_hi; ++fx) {
            const int8_t *x = input + ((b * p->input_height + in_y0 + fy) *
                                           p->input_width + in_x0 + fx) *
                                          p->depth;
            for (c = 0; c < p->depth; ++c) out[c] = x[c] > out[c] ? x[c] : out[c];
          }
        }
        for (c = 0; c < p->depth; ++c) {
          out[c] = (int8_t)rn_clamp(out[c], p->activation_min, p->activation_max);
        }
      }
    }
  }
  return RN_OK;
}
