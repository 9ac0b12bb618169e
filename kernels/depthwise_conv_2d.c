/* DEPTHWISE_CONV_2D, int8 per-channel: TFLM's
 * reference_integer_ops::DepthwiseConvPerChannel.  Output channel
 * oc = ic * depth_multiplier + m reads input channel ic and filter column oc. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_depthwise_conv_2d(const rn_depthwise_conv_2d_params *p,
                         const int8_t *input, const int8_t *filter,
                         const int32_t *bias, int8_t *output) {
  int32_t b, oy, ox, ic, m, fy, fx;
  if (p->depth_multiplier <= 0 ||
      p->output_depth != p->input_depth * p->depth_multiplier ||
      p->stride_height <= 0 || p->stride_width <= 0 ||
      p->dilation_height <= 0 || p->dilation_width <= 0 ||
      p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->output_height; ++oy) {
      const int32_t in_y_origin = oy * p->stride_height - p->pad_height;
      for (ox = 0; ox < p->output_width; ++ox) {
        const int32_t in_x_origin = ox * p->stride_width - p->pad_width;
        for (ic = 0; ic < p->input_depth; ++ic) {
          for (m = 0; m < p->depth_multiplier; ++m) {
            const int32_t oc = ic * p->depth_multiplier + m;
            int32_t acc = 0;
            for (fy = 0; fy < p->filter_height; ++fy) {
              const int32_t in_y = in_y_origin + p->dilation_height * fy;
              if (in_y < 0 || in_y >= p->input_height) continue;
              for (fx = 0; fx < p->filter_width; ++fx) {
                const int32_t in_x = in_x_origin + p->dilation_width * fx;
                int32_t in_val, f_val;
                if (in_x < 0 || in_x >= p->input_width) continue;
                in_val = input[((b * p->input_height + in_y) * p->input_width +
                                in_x) * p->input_depth + ic];
                f_val = filter[(fy * p->filter_width + fx) * p->output_depth +
                               oc];
                acc = rn_add_wrap(acc, f_val * (in_val + p->input_offset));
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
  }
  return RN_OK;
}
