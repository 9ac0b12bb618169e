/* DEQUANTIZE, int16 -> float32: TFLM's reference_ops::Dequantize,
 * (float)(scale * (x - zero_point)) with the scale widened to double. */
#include "include/rnnedge_kernels.h"

int rn_dequantize_int16(const rn_dequantize_params *p, const int16_t *input, float *output) {
  int32_t i;
  if (p->size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    output[i] = (float)(p->scale * (double)((int32_t)input[i] - p->zero_point));
  }
  return RN_OK;
}
