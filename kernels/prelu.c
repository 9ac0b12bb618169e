/* PRELU, int8: TFLM's reference Prelu / BroadcastPrelu4DSlow. Non-negative
 * inputs are rescaled by in/out, negative ones multiplied by the alpha value
 * and rescaled by in * alpha / out. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_prelu(const rn_prelu_params *p, const int8_t *input,
             const int8_t *alpha, int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i;
  const int32_t size = rn_flat_size(p->shape.dims);
  if (size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < size; ++i) {
    const int32_t x = p->input_offset + input[off1];
    int32_t out;
    if (x >= 0) {
      out = rn_MultiplyByQuantizedMultiplier(x, p->output_multiplier_1, p->output_shift_1);
    } else {
      const int32_t a = p->alpha_offset + alpha[off2];
      out = rn_MultiplyByQuantizedMultiplier(x * a, p->output_multiplier_2, p->output_shift_2);
    }
    output[i] = (int8_t)rn_clamp(out + p->output_offset, INT8_MIN, INT8_MAX);
    rn_odometer_next(p->shape.dims, p->shape.strides1, p->shape.strides2, idx, &off1, &off2);
  }
  return RN_OK;
}
