/* ABS, int8: TFLM's AbsEvalQuantized: |x - zp_in|, rescaled by in/out when
 * the scales differ, plus zp_out, saturated. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_abs(const rn_abs_params *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    const int32_t d = (int32_t)input[i] - p->input_offset;
    const int32_t value = d < 0 ? -d : d;
    const int32_t out =
        p->needs_rescale ? rn_MultiplyByQuantizedMultiplier(value, p->multiplier, p->shift) : value;
    output[i] = (int8_t)rn_clamp(out + p->output_offset, INT8_MIN, INT8_MAX);
  }
  return RN_OK;
}
