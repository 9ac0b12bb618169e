/* CONV_2D, int8 with per-output-channel requantisation: TFLM's
 * reference_integer_ops::ConvPerChannel.  Grouped convolution is supported
 * the way TFLM does it (input_depth a multiple of filter_input_depth).
 * Accumulation: sum((input + input_offset) * filter) + bias, then
 * MultiplyByQuantizedMultiplier, + output_offset, clamp to the activation. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_conv_2d(const rn_conv_2d_params *p, const int8_t *input,
               const int8_t *filter, const int32_t *bias, int8_t *output) {
  int32_t b, oy, ox, oc, fy, fx, ic;
  int32_t groups, filters_per_group;
  if (p->filter_input_depth <= 0 || p->output_depth <= 0 ||
      p->input_depth % p->filter_input_depth != 0 || p->stride_height <= 0 ||
      p->stride_width <= 0 || p->dilation_height <= 0 ||
      p->dilation_width <= 0 || p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  groups = p->input_depth / p->filter_input_depth;
  if (p->output_depth % groups != 0) return RN_BAD_PARAMS;
  filters_per_group = p->output_depth / groups;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->output_height; ++oy) {
      const int32_t in_y_origin = oy * p->stride_height - p->pad_height;
      for (ox = 0; ox < p->output_width; ++ox) {
        const int32_t in_x_origin = ox * p->stride_width - p->pad_width;
        for (oc = 0; oc < p->output_depth; ++oc) {
          const int32_t group = oc / filters_per_group;
          int32_t acc = 0;
          for (fy = 0; fy < p->filter_height; ++fy) {
            const int32_t in_y = in_y_origin + p->dilation_height * fy;
            if (in_y < 0 || in_y >= p->input_height) continue;
            for (fx = 0; fx < p->filter_width; ++fx) {
              const int32_t in_x = in_x_origin + p->dilation_width * fx;
              const int8_t *in_px;
              const int8_t *f_px;
              if (in_x < 0 || in_x >= p->input_width) continue;
              in_px = input +
                      (((b * p->input_height + in_y) * p->input_width + in_x) *
                           p->input_depth +
                       group * p->filter_input_depth);
              f_px = filter + ((oc * p->filter_height + fy) * p->filter_width +
                               fx) * p->filter_input_depth;
              for (ic = 0; ic < p->filter_input_depth; ++ic) {
                acc = rn_add_wrap(acc, (int32_t)f_px[ic] *
                                             ((int32_t)in_px[ic] + p->input_offset));
              }
            }
          }
          if (bias) acc = rn_add_wrap(acc, bias[oc]);
          acc = rn_mbqm(acc, p->output_multiplier[oc], p->output_shift[oc]);
          acc = rn_add_wrap(acc, p->output_offset);
          output[((b * p->output_height + oy) * p->output_width + ox) *
                     p->output_depth + oc] =
              (int8_t)rn_clamp(acc, p->activation_min, p->activation_max);
        }
      }
    }
  }
  return RN_OK;
}
