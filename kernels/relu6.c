/* RELU6, int8: TFLM's Relu6Quantized, a clamp to [zero, six] computed in the
 * input's quantisation (TFLM does not requantise RELU6). */
#include "include/rnnedge_kernels.h"

int rn_relu6(const rn_relu6_params *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    const int32_t v = input[i];
    output[i] = (int8_t)(v > p->six ? p->six : (v < p->zero ? p->zero : v));
  }
  return RN_OK;
}
