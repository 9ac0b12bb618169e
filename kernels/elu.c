/* ELU, int8: TFLM evaluates int8 ELU through a 256-entry lookup table that
 * its Prepare fills in float32 (exp(x) - 1 below 0, x above, requantised);
 * rnnedge fills the same table when it prepares the op (rnnedge.kernels
 * params), so the kernel is the table look-up. */
#include "include/rnnedge_kernels.h"

int rn_elu(const rn_elu_params *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) output[i] = p->table[(int32_t)input[i] + 128];
  return RN_OK;
}
