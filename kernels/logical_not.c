/* LOGICAL_NOT: bool in, bool out (TFLM's elementwise LogicalNotEval). */
#include "include/rnnedge_kernels.h"

int rn_logical_not(const rn_logical_not_params *p, const int8_t *input,
                   int8_t *output) {
  int32_t i;
  if (p->size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < p->size; ++i) output[i] = (int8_t)(input[i] == 0);
  return RN_OK;
}
