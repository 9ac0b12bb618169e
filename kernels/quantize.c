/* QUANTIZE, two forms as in TFLM's quantize kernel:
 *  - float32 -> int8: reference_ops::AffineQuantize,
 *    round_half_away(x / scale) + zero_point in float32, clamped to int8;
 *  - int8 -> int8: reference_ops::Requantize, MultiplyByQuantizedMultiplier of
 *    (x - input_zp) by in_scale / out_scale, + output_zp, clamped. */
#include <math.h>

#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_quantize(const rn_quantize_params *p, const float *input,
                int8_t *output) {
  int32_t i;
  if (p->size < 0 || !(p->scale > 0.0f)) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    const float r = roundf(input[i] / p->scale);
    int32_t q;
    /* TFLM casts r to int32 unchecked; out-of-range (and NaN) inputs are
     * saturated here instead of invoking undefined behaviour. */
    if (r >= 2147483520.0f) {
      q = 127;
    } else if (r <= -2147483520.0f || r != r) {
      q = -128;
    } else {
      q = rn_clamp((int32_t)r + p->zero_point, -128, 127);
    }
    output[i] = (int8_t)q;
  }
  return RN_OK;
}

int rn_requantize(const rn_requantize_params *p, const int8_t *input,
                  int8_t *output) {
  int32_t i;
  if (p->size < 0 || p->shift > 30 || p->shift < -31) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    const int32_t v =
        rn_MultiplyByQuantizedMultiplier((int32_t)input[i] - p->input_zero_point, p->multiplier,
                p->shift) +
        p->output_zero_point;
    output[i] = (int8_t)rn_clamp(v, -128, 127);
  }
  return RN_OK;
}
