/* RESIZE_BILINEAR, int8: TFLM's reference_ops::ResizeBilinearInteger.  Source
 * coordinates are Q10 fixed point: scale_10 = round(2^10 * in / out) (or
 * (in - 1) / (out - 1) with align_corners), half_pixel_centers shifts them by
 * half a pixel; the four neighbours are weighted in int64 (Q20) and rounded
 * half away from zero (TFLM's default double-rounding build). */
#include "include/rnnedge_kernels.h"

static void rn_interpolation(int32_t value, int32_t scale_10, int32_t half_pixel,
                             int32_t input_size, int32_t *scaled, int32_t *lower,
                             int32_t *upper) {
  *scaled = half_pixel ? value * scale_10 + scale_10 / 2 - (1 << 9) : value * scale_10;
  *lower = *scaled / (1 << 10);
  if (*lower < 0) *lower = 0;
  *upper = (*scaled + (1 << 10) - 1) / (1 << 10);
  if (*upper > input_size - 1) *upper = input_size - 1;
}

int rn_resize_bilinear(const rn_resize_bilinear_params *p, const int8_t *input,
                       int8_t *output) {
  int32_t hs, ws, b, y, x, c;
  const int32_t H = p->input_height, W = p->input_width, D = p->depth;
  if (p->batches < 0 || H <= 0 || W <= 0 || D < 0 || p->output_height <= 0 ||
      p->output_width <= 0 || (p->align_corners && p->half_pixel_centers) ||
      H > (1 << 20) || W > (1 << 20) || p->output_height > (1 << 20) ||
      p->output_width > (1 << 20)) {
    return RN_BAD_PARAMS;
  }
  hs = ((1 << 10) * H + p->output_height / 2) / p->output_height;
  ws = ((1 << 10) * W + p->output_width / 2) / p->output_width;
  if (p->align_corners && p->output_height > 1) {
    hs = ((1 << 10) * (H - 1) + (p->output_height - 1) / 2) / (p->output_height - 1);
  }
  if (p->align_corners && p->output_width > 1) {
    ws = ((1 << 10) * (W - 1) + (p->output_width - 1) / 2) / (p->output_width - 1);
  }
  for (b = 0; b < p->batches; ++b) {
    const int8_t *img = input + (int64_t)b * H * W * D;
    for (y = 0; y < p->output_height; ++y) {
      int32_t iy, y0, y1;
      rn_interpolation(y, hs, p->half_pixel_centers, H, &iy, &y0, &y1);
      for (x = 0; x < p->output_width; ++x) {
        int32_t ix, x0, x1;
        int64_t fy, fx;
        rn_interpolation(x, ws, p->half_pixel_centers, W, &ix, &x0, &x1);
        fy = iy - (1 << 10) * y0;
        fx = ix - (1 << 10) * x0;
        for (c = 0; c < D; ++c) {
          const int64_t ll = (int64_t)img[((int64_t)y0 * W + x0) * D + c] * ((1 << 10) - fy) *
                             ((1 << 10) - fx);
          const int64_t lu = (int64_t)img[((int64_t)y1 * W + x0) * D + c] * fy * ((1 << 10) - fx);
          const int64_t rl = (int64_t)img[((int64_t)y0 * W + x1) * D + c] * ((1 << 10) - fy) * fx;
          const int64_t ru = (int64_t)img[((int64_t)y1 * W + x1) * D + c] * fy * fx;
          const int64_t sum = ll + lu + rl + ru;
          const int64_t round = sum > 0 ? (1 << 19) : -(1 << 19);
          *output++ = (int8_t)((sum + round) / (1 << 20));
        }
      }
    }
  }
  return RN_OK;
}
