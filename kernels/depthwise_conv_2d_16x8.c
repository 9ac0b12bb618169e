/* DEPTHWISE_CONV_2D, int16x8: TFLM's reference_integer_ops::DepthwiseConvPerChannel
 * for int16 input, int8 filter [1, H, W, out_depth] and an int64 bias: an int64
 * accumulator without input offset, the int64 MultiplyByQuantizedMultiplier,
 * the activation clamp, no output offset. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_int16.h"
#include "include/rnnedge_kernels.h"

int rn_depthwise_conv_2d_16x8(const rn_depthwise_conv_2d_params *p, const int16_t *input,
                              const int8_t *filter, const int64_t *bias, int16_t *output) {
  int32_t b, oy, ox, ic, m, fy, fx, oc;
  if (p->depth_multiplier <= 0 || p->output_depth != p->input_depth * p->depth_multiplier ||
      p->stride_height <= 0 || p->stride_width <= 0 || p->dilation_height <= 0 ||
      p->dilation_width <= 0 || p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  for (oc = 0; oc < p->output_depth; ++oc) {
    if (!rn_shift64_ok(p->output_shift[oc]) || p->output_multiplier[oc] < 0) {
      return RN_BAD_PARAMS;
    }
  }
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->output_height; ++oy) {
      const int32_t in_y_origin = oy * p->stride_height - p->pad_height;
      for (ox = 0; ox < p->output_width; ++ox) {
        const int32_t in_x_origin = ox * p->stride_width - p->pad_width;
        for (ic = 0; ic < p->input_depth; ++ic) {
          for (m = 0; m < p->depth_multiplier; ++m) {
            int64_t acc = 0;
            int32_t scaled;
            oc = ic * p->depth_multiplier + m;
            for (fy = 0; fy < p->filter_height; ++fy) {
              const int32_t in_y = in_y_origin + p->dilation_height * fy;
              if (in_y < 0 || in_y >= p->input_height) continue;
              for (fx = 0; fx < p->filter_width; ++fx) {
                const int32_t in_x = in_x_origin + p->dilation_width * fx;
                if (in_x < 0 || in_x >= p->input_width) continue;
                const int32_t f = filter[(fy * p->filter_width + fx) * p->output_depth + oc];
                const int32_t v = input[((b * p->input_height + in_y) * p->input_width + in_x) *
                                            p->input_depth + ic];
                acc += (int64_t)(f * v);
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
  }
  return RN_OK;
}
