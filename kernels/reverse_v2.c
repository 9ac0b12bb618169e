/* REVERSE_V2, int8: TFLM's reverse.cc.  Reverses the data along every axis
 * marked in `reverse` (walks the output, mirroring those coordinates). */
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_reverse_v2(const rn_reverse_v2_params *p, const int8_t *input, int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t strides[RN_MAX_DIMS], n, o, d, stride = 1;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    if (p->dims[d] < 0) return RN_BAD_PARAMS;
    strides[d] = stride;
    stride *= p->dims[d];
  }
  n = rn_flat_size(p->dims);
  for (o = 0; o < n; ++o) {
    int64_t from = 0;
    for (d = 0; d < RN_MAX_DIMS; ++d) {
      from += (int64_t)(p->reverse[d] ? p->dims[d] - 1 - idx[d] : idx[d]) * strides[d];
    }
    output[o] = input[from];
    for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
      if (++idx[d] < p->dims[d]) break;
      idx[d] = 0;
    }
  }
  return RN_OK;
}
