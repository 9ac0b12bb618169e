/* CONV_2D, int16x8: TFLM's reference_integer_ops::ConvPerChannel for int16
 * input, int8 filter and an int64 bias (AccumScalar = int64_t).  The input
 * zero point is 0 (TFLM requires it), so no input offset is applied; the
 * int64 accumulator is requantised with the int64 MultiplyByQuantizedMultiplier
 * and clamped, with no output offset (TFLM adds none for 16x8). */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_int16.h"
#include "include/rnnedge_kernels.h"

int rn_conv_2d_16x8(const rn_conv_2d_params *p, const int16_t *input,
                    const int8_t *filter, const int64_t *bias, int16_t *output) {
  int32_t b, oy, ox, oc, fy, fx, ic, groups, filters_per_group;
  if (p->filter_input_depth <= 0 || p->output_depth <= 0 ||
      p->input_depth % p->filter_input_depth != 0 || p->stride_height <= 0 ||
      p->stride_width <= 0 || p->dilation_height <= 0 || p->dilation_width <= 0 ||
      p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  groups = p->input_depth / p->filter_input_depth;
  if (p->output_depth % groups != 0) return RN_BAD_PARAMS;
  for (oc = 0; oc < p->output_depth; ++oc) {
    if (!rn_shift64_ok(p->output_shift[oc]) || p->output_multiplier[oc] < 0) {
      return RN_BAD_PARAMS;
    }
  }
  filters_per_group = p->output_depth / groups;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->output_height; ++oy) {
      const int32_t in_y_origin = oy * p->stride_height - p->pad_height;
      for (ox = 0; ox < p->output_width; ++ox) {
        const int32_t in_x_origin = ox * p->stride_width - p->pad_width;
        for (oc = 0; oc < p->output_depth; ++oc) {
          const int32_t group = oc / filters_per_group;
          int64_t acc = 0;
          int32_t scaled;
          for (fy = 0; fy < p->filter_height; ++fy) {
            const int32_t in_y = in_y_origin + p->dilation_height * fy;
            if (in_y < 0 || in_y >= p->input_height) continue;
            for (fx = 0; fx < p->filter_width; ++fx) {
              const int32_t in_x = in_x_origin + p->dilation_width * fx;
              const int16_t *in_px;
              const int8_t *f_px;
              if (in_x < 0 || in_x >= p->input_width) continue;
              in_px = input + (((b * p->input_height + in_y) * p->input_width + in_x) *
                                   p->input_depth + group * p->filter_input_depth);
              f_px = filter + ((oc * p->filter_height + fy) * p->filter_width + fx) *
                                  p->filter_input_depth;
              for (ic = 0; ic < p->filter_input_depth; ++ic) {
                acc += (int64_t)((int32_t)f_px[ic] * (int32_t)in_px[ic]);
              }
            }
          }
          if (bias) acc += bias[oc];
          if (!rn_int64_in_range(acc)) return RN_BAD_INPUT;
          scaled = rn_MultiplyByQuantizedMultiplier64(acc, p->output_multiplier[oc],
                                                      p->output_shift[oc]);
          output[((b * p->output_height + oy) * p->output_width + ox) * p->output_depth + oc] =
              (int16_t)rn_clamp(scaled, p->activation_min, p->activation_max);
        }
      }
    }
  }
  return RN_OK;
}
