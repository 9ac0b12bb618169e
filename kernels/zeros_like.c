/* ZEROS_LIKE, int8: TFLM's zeros_like.cc writes raw zeros (not the zero
 * point) of the input's shape; the input's values are not read. */
#include <string.h>

#include "include/rnnedge_kernels.h"

int rn_zeros_like(const rn_zeros_like_params *p, const int8_t *input, int8_t *output) {
  (void)input;
  if (p->size < 0) return RN_BAD_PARAMS;
  memset(output, 0, (size_t)p->size);
  return RN_OK;
}
