/* RESHAPE (also SQUEEZE / EXPAND_DIMS): the bytes are unchanged; copies only
 * when the planner gave input and output different arena regions. */
#include <string.h>

#include "include/rnnedge_kernels.h"

int rn_reshape(const rn_reshape_params *p, const int8_t *input,
               int8_t *output) {
  if (p->size < 0) return RN_BAD_PARAMS;
  if (input != output) memmove(output, input, (size_t)p->size);
  return RN_OK;
}
