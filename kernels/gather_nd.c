/* GATHER_ND, int8 data with int32 indices: TFLM's gather_nd.cc GatherNd().
 * The indices are [num_slices, index_depth]; each row addresses one slice of
 * slice_size bytes whose start is sum_j index[j] * strides[j] (strides of the
 * data's first index_depth dims, in elements).  An index outside its dim makes
 * TFLM fail the invocation; here it returns RN_BAD_INPUT. */
#include <string.h>

#include "include/rnnedge_kernels.h"

int rn_gather_nd(const rn_gather_nd_params *p, const int8_t *input,
                 const int32_t *indices, int8_t *output) {
  int32_t s, j;
  if (p->num_slices < 0 || p->slice_size < 0 || p->index_depth < 1 ||
      p->index_depth > RN_MAX_DIMS) {
    return RN_BAD_PARAMS;
  }
  for (s = 0; s < p->num_slices; ++s) {
    int64_t from = 0;
    for (j = 0; j < p->index_depth; ++j) {
      const int32_t index = indices[(int64_t)s * p->index_depth + j];
      if (index < 0 || index >= p->dims[j]) return RN_BAD_INPUT;
      from += (int64_t)index * p->strides[j];
    }
    memcpy(output + (int64_t)s * p->slice_size, input + from, (size_t)p->slice_size);
  }
  return RN_OK;
}
