/* RELU (and RELU_N1_TO_1, RELU_0_TO_1 through the activation range), int8:
 * TFLM's ReluQuantized, which requantises from the input to the output scale
 * and then clamps to the quantised activation range. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_relu(const rn_relu_params *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0 || p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  for (i = 0; i < p->size; ++i) {
    const int32_t v =
        p->output_zero_point +
        rn_MultiplyByQuantizedMultiplier((int32_t)input[i] - p->input_zero_point, p->output_multiplier,
                p->output_shift);
    output[i] = (int8_t)rn_clamp(v, p->activation_min, p->activation_max);
  }
  return RN_OK;
}
