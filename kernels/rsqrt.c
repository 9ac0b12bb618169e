/* RSQRT, int8: TFLM's RsqrtEvalQuantized. 1/sqrt(x - zp) from the fixed-point
 * inverse square root, then rescaled by 1/(sqrt(in) * out) with a 2^20 guard
 * shift; x == zp gives 127. An input below its zero point is an error in
 * TFLM ("Rsqrt is only defined for positive values"): RN_BAD_INPUT here,
 * checked before anything is written. */
#include "include/rnnedge_elementwise.h"
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

#define RN_RSQRT_SHIFT 20

int rn_rsqrt(const rn_rsqrt_params *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0 || p->shift - RN_RSQRT_SHIFT < -31 || p->shift - RN_RSQRT_SHIFT > 30)
    return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    if ((int32_t)input[i] < p->input_offset) return RN_BAD_INPUT;
  }
  for (i = 0; i < p->size; ++i) {
    const int32_t value = (int32_t)input[i] - p->input_offset;
    int32_t inv_sqrt, data, out;
    int inv_shift;
    if (value == 0) {
      output[i] = INT8_MAX;
      continue;
    }
    rn_GetInvSqrtQuantizedMultiplierExp(value, &inv_sqrt, &inv_shift);
    data = rn_MultiplyByQuantizedMultiplier(1, inv_sqrt, inv_shift + RN_RSQRT_SHIFT);
    out = rn_MultiplyByQuantizedMultiplier(data, p->multiplier, p->shift - RN_RSQRT_SHIFT) +
          p->output_offset;
    output[i] = (int8_t)rn_clamp(out, INT8_MIN, INT8_MAX);
  }
  return RN_OK;
}
