/* SPLIT / SPLIT_V, int8: the inverse of CONCATENATION; output i receives
 * copy_sizes[i] bytes per outer index.  Quantisation is unchanged. */
#include <string.h>

#include "include/rnnedge_kernels.h"

int rn_split(const rn_split_params *p, const int8_t *input,
             int8_t *const *outputs) {
  int32_t o, i;
  if (p->num_outputs <= 0 || p->outer_size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < p->num_outputs; ++i) {
    if (p->copy_sizes[i] < 0) return RN_BAD_PARAMS;
  }
  for (o = 0; o < p->outer_size; ++o) {
    for (i = 0; i < p->num_outputs; ++i) {
      const int32_t n = p->copy_sizes[i];
      memcpy(outputs[i] + (int64_t)o * n, input, (size_t)n);
      input += n;
    }
  }
  return RN_OK;
}
