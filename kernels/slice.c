/* SLICE, int8: copies the box [begin, begin + size) of the input. */
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_slice(const rn_slice_params *p, const int8_t *input, int8_t *output) {
  static const int32_t zeros[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t strides[RN_MAX_DIMS];
  int32_t d, i, n, off = 0, unused = 0, stride = 1;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    if (p->begin[d] < 0 || p->size[d] < 0 ||
        p->begin[d] + p->size[d] > p->input_dims[d]) {
      return RN_BAD_PARAMS;
    }
    strides[d] = stride;
    off += p->begin[d] * stride;
    stride *= p->input_dims[d];
  }
  n = rn_flat_size(p->size);
  for (i = 0; i < n; ++i) {
    output[i] = input[off];
    rn_odometer_next(p->size, strides, zeros, idx, &off, &unused);
  }
  return RN_OK;
}
