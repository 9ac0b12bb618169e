/* GATHER, int8 data with int32 indices: TFLM's gather.cc Gather().  The data
 * is viewed as [batch, outer, axis, inner] and the indices as [batch, coord];
 * output[b][o][i] = data[b][o][indices[b][i]] (inner bytes each).  An index
 * outside [0, axis_size) makes TFLM fail the invocation; here it returns
 * RN_BAD_INPUT before writing that slice. */
#include <string.h>

#include "include/rnnedge_kernels.h"

int rn_gather(const rn_gather_params *p, const int8_t *input,
              const int32_t *indices, int8_t *output) {
  int32_t b, o, i;
  const int64_t inner = p->inner_size;
  if (p->batch_size < 0 || p->outer_size < 0 || p->coord_size < 0 ||
      p->axis_size < 0 || p->inner_size < 0) {
    return RN_BAD_PARAMS;
  }
  for (b = 0; b < p->batch_size; ++b) {
    for (o = 0; o < p->outer_size; ++o) {
      const int64_t row = (int64_t)b * p->outer_size + o;
      for (i = 0; i < p->coord_size; ++i) {
        const int32_t index = indices[(int64_t)b * p->coord_size + i];
        if (index < 0 || index >= p->axis_size) return RN_BAD_INPUT;
        memcpy(output + (row * p->coord_size + i) * inner,
               input + (row * p->axis_size + index) * inner, (size_t)inner);
      }
    }
  }
  return RN_OK;
}
