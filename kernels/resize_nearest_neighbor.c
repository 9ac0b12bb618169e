/* RESIZE_NEAREST_NEIGHBOR, int8: TFLM's reference ResizeNearestNeighbor with
 * its float32 source-index computation (GetNearestNeighbor): scale is
 * in/out (or (in-1)/(out-1) with align_corners), the source index is
 * floor((i + offset) * scale), or round() with align_corners, clamped. */
#include <math.h>
#include <string.h>

#include "include/rnnedge_kernels.h"

static int32_t nearest(int32_t i, int32_t in_size, int32_t out_size,
                       int32_t align_corners, int32_t half_pixel_centers) {
  const float scale =
      (align_corners && out_size > 1)
          ? (float)(in_size - 1) / (float)(out_size - 1)
          : (float)in_size / (float)out_size;
  const float offset = half_pixel_centers ? 0.5f : 0.0f;
  const float pos = ((float)i + offset) * scale;
  int32_t v = align_corners ? (int32_t)roundf(pos) : (int32_t)floorf(pos);
  if (v > in_size - 1) v = in_size - 1;
  if (half_pixel_centers && v < 0) v = 0;
  return v;
}

int rn_resize_nearest_neighbor(const rn_resize_nearest_neighbor_params *p,
                               const int8_t *input, int8_t *output) {
  int32_t b, y, x;
  if (p->input_height <= 0 || p->input_width <= 0 || p->output_height < 0 ||
      p->output_width < 0 || p->depth < 0) {
    return RN_BAD_PARAMS;
  }
  for (b = 0; b < p->batches; ++b) {
    for (y = 0; y < p->output_height; ++y) {
      const int32_t in_y = nearest(y, p->input_height, p->output_height,
                                   p->align_corners, p->half_pixel_centers);
      for (x = 0; x < p->output_width; ++x) {
        const int32_t in_x = nearest(x, p->input_width, p->output_width,
                                     p->align_corners, p->half_pixel_centers);
        memcpy(output + ((b * p->output_height + y) * p->output_width + x) *
                            p->depth,
               input + ((b * p->input_height + in_y) * p->input_width + in_x) *
                           p->depth,
               (size_t)p->depth);
      }
    }
  }
  return RN_OK;
}
