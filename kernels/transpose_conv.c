/* TRANSPOSE_CONV, int8 and int16x8: TFLM's reference_integer_ops::TransposeConv.
 * TFLM scatters every input element over the outputs it reaches into a zeroed
 * int32 (int8) or int64 (16x8) scratch buffer, then adds the bias,
 * requantises per channel and clamps.  Integer addition is associative, so
 * the same sums are gathered here per output element (the inputs that reach
 * it: out = in * stride - pad + f), which needs no scratch buffer and gives
 * the same bytes (int8 sums wrap modulo 2^32 exactly as TFLM's do).
 *   int8:  acc32 += (input + input_offset) * filter; + bias32; int32
 *          MultiplyByQuantizedMultiplier; + output_offset.
 *   16x8:  acc64 += input * filter (zero point 0); + bias64; int64
 *          MultiplyByQuantizedMultiplier; no output offset. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_int16.h"
#include "include/rnnedge_kernels.h"

static int rn_transpose_conv_bad(const rn_transpose_conv_params *p) {
  return p->stride_height <= 0 || p->stride_width <= 0 || p->output_depth <= 0 ||
         p->input_depth <= 0 || p->filter_height <= 0 || p->filter_width <= 0 ||
         p->activation_min > p->activation_max;
}

/* First filter tap and input index reaching output coordinate `o`:
 * o = i * stride - pad + f, so f = (o + pad) mod stride first, i = (o + pad - f) / stride. */
static void rn_first_tap(int32_t o, int32_t pad, int32_t stride, int32_t *f, int32_t *i) {
  const int32_t t = o + pad;
  *f = t % stride;
  *i = t / stride;
}

int rn_transpose_conv(const rn_transpose_conv_params *p, const int8_t *input,
                      const int8_t *filter, const int32_t *bias, int8_t *output) {
  int32_t b, oy, ox, oc, fy, fx, iy, ix, ic, fy0, fx0, iy0, ix0;
  if (rn_transpose_conv_bad(p)) return RN_BAD_PARAMS;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->output_height; ++oy) {
      rn_first_tap(oy, p->pad_height, p->stride_height, &fy0, &iy0);
      for (ox = 0; ox < p->output_width; ++ox) {
        rn_first_tap(ox, p->pad_width, p->stride_width, &fx0, &ix0);
        for (oc = 0; oc < p->output_depth; ++oc) {
          int32_t acc = 0;
          for (fy = fy0, iy = iy0; fy < p->filter_height; fy += p->stride_height, --iy) {
            if (iy < 0 || iy >= p->input_height) continue;
            for (fx = fx0, ix = ix0; fx < p->filter_width; fx += p->stride_width, --ix) {
              const int8_t *in_px, *f_px;
              if (ix < 0 || ix >= p->input_width) continue;
              in_px = input + ((b * p->input_height + iy) * p->input_width + ix) * p->input_depth;
              f_px = filter + ((oc * p->filter_height + fy) * p->filter_width + fx) *
                                  p->input_depth;
              for (ic = 0; ic < p->input_depth; ++ic) {
                acc = rn_add_wrap(acc, ((int32_t)in_px[ic] + p->input_offset) * f_px[ic]);
              }
            }
          }
          if (bias) acc = rn_add_wrap(acc, bias[oc]);
          acc = rn_MultiplyByQuantizedMultiplier(acc, p->output_multiplier[oc], p->output_shift[oc]);
          acc = rn_add_wrap(acc, p->output_offset);
          output[((b * p->output_height + oy) * p->output_width + ox) * p->output_depth + oc] =
              (int8_t)rn_clamp(acc, p->activation_min, p->activation_max);
        }
      }
    }
  }
  return RN_OK;
}

int rn_transpose_conv_16x8(const rn_transpose_conv_params *p, const int16_t *input,
                           const int8_t *filter, const int64_t *bias, int16_t *output) {
  int32_t b, oy, ox, oc, fy, fx, iy, ix, ic, fy0, fx0, iy0, ix0;
  if (rn_transpose_conv_bad(p)) return RN_BAD_PARAMS;
  for (oc = 0; oc < p->output_depth; ++oc) {
    if (!rn_shift64_ok(p->output_shift[oc]) || p->output_multiplier[oc] < 0) {
      return RN_BAD_PARAMS;
    }
  }
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->output_height; ++oy) {
      rn_first_tap(oy, p->pad_height, p->stride_height, &fy0, &iy0);
      for (ox = 0; ox < p->output_width; ++ox) {
        rn_first_tap(ox, p->pad_width, p->stride_width, &fx0, &ix0);
        for (oc = 0; oc < p->output_depth; ++oc) {
          int64_t acc = 0;
          int32_t scaled;
          for (fy = fy0, iy = iy0; fy < p->filter_height; fy += p->stride_height, --iy) {
            if (iy < 0 || iy >= p->input_height) continue;
            for (fx = fx0, ix = ix0; fx < p->filter_width; fx += p->stride_width, --ix) {
              const int16_t *in_px;
              const int8_t *f_px;
              if (ix < 0 || ix >= p->input_width) continue;
              in_px = input + ((b * p->input_height + iy) * p->input_width + ix) * p->input_depth;
              f_px = filter + ((oc * p->filter_height + fy) * p->filter_width + fx) *
                                  p->input_depth;
              for (ic = 0; ic < p->input_depth; ++ic) {
                acc += (int64_t)((int32_t)in_px[ic] * (int32_t)f_px[ic]);
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
