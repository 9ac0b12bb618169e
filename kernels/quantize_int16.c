/* QUANTIZE with int16 on either side: TFLM's quantize.cc EvalQuantizeReference.
 *   float32 -> int16:  AffineQuantize, zero_point + round(x / scale), clamped.
 *   int8 -> int16, int16 -> int8, int16 -> int16:  reference_ops::Requantize,
 *   MultiplyByQuantizedMultiplier(x - input_zp) + output_zp, clamped to the
 *   output type (the multiplier is QuantizeMultiplier(in_scale / out_scale)). */
#include <math.h>

#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_quantize_int16(const rn_quantize_params *p, const float *input, int16_t *output) {
  int32_t i;
  if (p->size < 0 || !(p->scale > 0.0f)) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    const float r = roundf(input[i] / p->scale);
    int32_t q;
    /* TFLM casts r to int32 unchecked; out-of-range (and NaN) inputs are
     * saturated here instead of invoking undefined behaviour. */
    if (r >= 2147483520.0f) {
      q = 32767;
    } else if (r <= -2147483520.0f || r != r) {
      q = -32768;
    } else {
      q = rn_clamp(rn_add_wrap((int32_t)r, p->zero_point), -32768, 32767);
    }
    output[i] = (int16_t)q;
  }
  return RN_OK;
}

static int rn_requantize_bad(const rn_requantize_params *p) {
  return p->size < 0 || p->shift > 30 || p->shift < -31;
}

static int32_t rn_requantize_one(const rn_requantize_params *p, int32_t x) {
  return rn_add_wrap(rn_MultiplyByQuantizedMultiplier(x - p->input_zero_point, p->multiplier,
                                                      p->shift),
                     p->output_zero_point);
}

int rn_requantize_int8_int16(const rn_requantize_params *p, const int8_t *input,
                             int16_t *output) {
  int32_t i;
  if (rn_requantize_bad(p)) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    output[i] = (int16_t)rn_clamp(rn_requantize_one(p, input[i]), -32768, 32767);
  }
  return RN_OK;
}

int rn_requantize_int16_int8(const rn_requantize_params *p, const int16_t *input,
                             int8_t *output) {
  int32_t i;
  if (rn_requantize_bad(p)) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    output[i] = (int8_t)rn_clamp(rn_requantize_one(p, input[i]), -128, 127);
  }
  return RN_OK;
}

int rn_requantize_int16_int16(const rn_requantize_params *p, const int16_t *input,
                              int16_t *output) {
  int32_t i;
  if (rn_requantize_bad(p)) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    output[i] = (int16_t)rn_clamp(rn_requantize_one(p, input[i]), -32768, 32767);
  }
  return RN_OK;
}
