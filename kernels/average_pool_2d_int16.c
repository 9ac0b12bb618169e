/* AVERAGE_POOL_2D, int16: TFLM's reference_integer_ops::AveragePool for int16 data (the
 * arithmetic of average_pool_2d.c on int16).  The window is clipped to the image, the sum is
 * divided by the number of valid taps rounding half away from zero. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_average_pool_2d_int16(const rn_pool_2d_params *p, const int16_t *input,
                             int16_t *output) {
  int32_t b, oy, ox, c, fy, fx;
  if (p->stride_height <= 0 || p->stride_width <= 0 ||
      p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->output_height; ++oy) {
      const int32_t in_y0 = oy * p->stride_height - p->pad_height;
      const int32_t fy_start = in_y0 < 0 ? -in_y0 : 0;
      const int32_t fy_end = p->input_height - in_y0 < p->filter_height
                                 ? p->input_height - in_y0
                                 : p->filter_height;
      for (ox = 0; ox < p->output_width; ++ox) {
        const int32_t in_x0 = ox * p->stride_width - p->pad_width;
        const int32_t fx_start = in_x0 < 0 ? -in_x0 : 0;
        const int32_t fx_end = p->input_width - in_x0 < p->filter_width
                                   ? p->input_width - in_x0
                                   : p->filter_width;
        for (c = 0; c < p->depth; ++c) {
          int32_t acc = 0, count = 0;
          for (fy = fy_start; fy < fy_end; ++fy) {
            for (fx = fx_start; fx < fx_end; ++fx) {
              acc = rn_add_wrap(acc, input[((b * p->input_height + in_y0 + fy) *
                                            p->input_width + in_x0 + fx) * p->depth + c]);
              ++count;
            }
          }
          if (count == 0) return RN_BAD_PARAMS;
          acc = acc > 0 ? rn_add_wrap(acc, count / 2) / count
                        : rn_add_wrap(acc, -(count / 2)) / count;
          output[((b * p->output_height + oy) * p->output_width + ox) *
                     p->depth + c] =
              (int16_t)rn_clamp(acc, p->activation_min, p->activation_max);
        }
      }
    }
  }
  return RN_OK;
}
