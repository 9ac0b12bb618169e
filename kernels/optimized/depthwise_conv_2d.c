/* DEPTHWISE_CONV_2D, optimised: the bytes of ../depthwise_conv_2d.c (TFLM's
 * reference_integer_ops::DepthwiseConvPerChannel).
 *
 * Channels are the innermost loop: for a block of RN_DW_BLOCK output channels
 * of one pixel, every valid tap adds filter[tap][c] * (input[tap][c] + offset)
 * to a uint32 accumulator per channel, wrapping like the reference (both are
 * contiguous in the NHWC input and the [1, H, W, C] filter, so the loop
 * vectorises; rn_dw_mac, Helium on Cortex-M55; on Cortex-M4/M7 with depth
 * multiplier 1 and a narrow offset, rn_dsp_depthwise_acc: two taps per
 * SMLAD), then the block is requantised per channel in one vectorised pass.  With depth_multiplier > 1
 * output channel oc reads input channel oc / depth_multiplier (counted, not
 * divided). */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_optimized.h"
#include "include/rnnedge_optimized_vnni_depthwise.h" /* AVX-512 hosts */
#include "include/rnnedge_optimized_arm_depthwise.h" /* Cortex-M4/M7 DSP */

#define RN_DW_BLOCK 64

int rn_depthwise_conv_2d(const rn_depthwise_conv_2d_params *p,
                         const int8_t *input, const int8_t *filter,
                         const int32_t *bias, int8_t *output) {
  int32_t b, oy, ox, c0, fy, fx, c;
  const int32_t dm = p->depth_multiplier;
  const uint32_t off = (uint32_t)p->input_offset; /* wrapping, as the reference */
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
      int32_t fy_lo, fy_hi;
      rn_valid_taps(in_y_origin, p->dilation_height, p->filter_height,
                    p->input_height, &fy_lo, &fy_hi);
      for (ox = 0; ox < p->output_width; ++ox) {
        const int32_t in_x_origin = ox * p->stride_width - p->pad_width;
        int8_t *out_px =
            output + ((b * p->output_height + oy) * p->output_width + ox) *
                         p->output_depth;
        int32_t fx_lo, fx_hi;
        rn_valid_taps(in_x_origin, p->dilation_width, p->filter_width,
                      p->input_width, &fx_lo, &fx_hi);
        for (c0 = 0; c0 < p->output_depth; c0 += RN_DW_BLOCK) {
          const int32_t n = p->output_depth - c0 < RN_DW_BLOCK
                                ? p->output_depth - c0
                                : RN_DW_BLOCK;
          uint32_t acc[RN_DW_BLOCK];
#if defined(RN_X86_VNNI)
          if (dm == 1) {
            const int32_t taps[4] = {fy_lo, fy_hi, fx_lo, fx_hi};
            rn_vnni_depthwise_pixel(
                p, input + b * p->input_height * p->input_width * p->input_depth,
                filter, bias, in_y_origin, in_x_origin, taps, c0, n, out_px);
            continue;
          }
#endif
#if defined(RN_ARM_DSP)
          if (dm == 1 && rn_offset_is_narrow(p->input_offset) &&
              fy_lo < fy_hi && fx_lo < fx_hi) { /* no valid tap: below */
            const int32_t row = p->input_width * p->input_depth;
            rn_dsp_depthwise_acc(
                input + ((b * p->input_height + in_y_origin +
                          p->dilation_height * fy_lo) * p->input_width +
                         in_x_origin + p->dilation_width * fx_lo) *
                            p->input_depth + c0,
                filter + (fy_lo * p->filter_width + fx_lo) * p->output_depth + c0,
                p->dilation_width * p->input_depth, p->dilation_height * row,
                p->output_depth, p->filter_width * p->output_depth,
                fx_hi - fx_lo, fy_hi - fy_lo, p->input_offset, n, acc);
            rn_requantize_block(acc, bias ? bias + c0 : bias, n,
                                p->output_multiplier + c0, p->output_shift + c0,
                                1, p->output_offset, p->activation_min,
                                p->activation_max, out_px + c0);
            continue;
          }
#endif
          for (c = 0; c < n; ++c) acc[c] = 0;
          for (fy = fy_lo; fy < fy_hi; ++fy) {
            const int32_t in_y = in_y_origin + p->dilation_height * fy;
            for (fx = fx_lo; fx < fx_hi; ++fx) {
              const int32_t in_x = in_x_origin + p->dilation_width * fx;
              const int8_t *x =
                  input + ((b * p->input_height + in_y) * p->input_width +
                           in_x) * p->input_depth;
              const int8_t *f =
                  filter + (fy * p->filter_width + fx) * p->output_depth + c0;
              if (dm == 1) {
                rn_dw_mac(acc, f, x + c0, off, n);
              } else {
                int32_t ic = c0 / dm, m = c0 % dm;
                for (c = 0; c < n; ++c) {
                  acc[c] += (uint32_t)(int32_t)f[c] * ((uint32_t)(int32_t)x[ic] + off);
                  if (++m == dm) {
                    m = 0;
                    ++ic;
                  }
                }
              }
            }
          }
          rn_requantize_block(acc, bias ? bias + c0 : bias, n,
                              p->output_multiplier + c0, p->output_shift + c0,
                              1, p->output_offset, p->activation_min,
                              p->activation_max, out_px + c0);
        }
      }
    }
  }
  return RN_OK;
}
