/* CONCATENATION, int8: TFLM's reference Concatenation.  TFLM requires every
 * int8 input to share the output's scale and zero point, so this is a copy:
 * for each outer index, each input contributes copy_sizes[i] bytes. */
#include <string.h>

#include "include/rnnedge_kernels.h"

int rn_concatenation(const rn_concatenation_params *p,
                     const int8_t *const *inputs, int8_t *output) {
  int32_t o, i;
  if (p->num_inputs <= 0 || p->outer_size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < p->num_inputs; ++i) {
    if (p->copy_sizes[i] < 0) return RN_BAD_PARAMS;
  }
  for (o = 0; o < p->outer_size; ++o) {
    for (i = 0; i < p->num_inputs; ++i) {
      const int32_t n = p->copy_sizes[i];
      memcpy(output, inputs[i] + (int64_t)o * n, (size_t)n);
      output += n;
    }
  }
  return RN_OK;
}
