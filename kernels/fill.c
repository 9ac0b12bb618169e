/* FILL, int8: TFLM's fill.cc.  Every output element is the one value of the
 * (scalar) value tensor; the output keeps the value's quantisation. */
#include <string.h>

#include "include/rnnedge_kernels.h"

int rn_fill(const rn_fill_params *p, const int8_t *value, int8_t *output) {
  if (p->size < 0) return RN_BAD_PARAMS;
  memset(output, *value, (size_t)p->size);
  return RN_OK;
}
