/* GELU, int8: TFLite evaluates int8 GELU through a 256-entry lookup table
 * that its Prepare fills in float32 (0.5 x (1 + erf(x / sqrt 2)), or the tanh
 * approximation), requantised; rnnedge fills the same table when it prepares
 * the op (rnnedge.kernels.params_math), so the kernel is the table look-up.
 * (TFLM's op resolver does not register GELU; the table follows TFLite's
 * reference kernel.) */
#include "include/rnnedge_kernels.h"

int rn_gelu(const rn_gelu_params *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) output[i] = p->table[(int32_t)input[i] + 128];
  return RN_OK;
}
