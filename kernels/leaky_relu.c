/* LEAKY_RELU, int8: TFLM's QuantizeLeakyRelu. Inputs at or above the zero
 * point are rescaled by in/out, the others by alpha * in/out (a negative
 * alpha gives a negative multiplier, which the fixed-point multiply takes). */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_leaky_relu(const rn_leaky_relu_params *p, const int8_t *input,
                  int8_t *output) {
  int32_t i;
  if (p->size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) {
    const int32_t v = (int32_t)input[i] - p->input_zero_point;
    const int32_t scaled =
        v >= 0 ? rn_MultiplyByQuantizedMultiplier(v, p->output_multiplier_identity,
                                                  p->output_shift_identity)
               : rn_MultiplyByQuantizedMultiplier(v, p->output_multiplier_alpha,
                                                  p->output_shift_alpha);
    output[i] = (int8_t)rn_clamp(p->output_zero_point + scaled, INT8_MIN, INT8_MAX);
  }
  return RN_OK;
}
