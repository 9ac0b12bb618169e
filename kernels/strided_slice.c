/* STRIDED_SLICE, int8: a strided gather.  begin/stride per dimension are the
 * values TFLM's StridedSlice resolves from begin/end/strides and the
 * begin/end/shrink masks (rnnedge.kernels.params does that resolution);
 * shrunk axes appear here as output dims of 1. */
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_strided_slice(const rn_strided_slice_params *p, const int8_t *input,
                     int8_t *output) {
  static const int32_t zeros[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t steps[RN_MAX_DIMS];
  int32_t d, i, n, off = 0, unused = 0, stride = 1;
  n = rn_flat_size(p->output_dims);
  if (n < 0) return RN_BAD_PARAMS;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    const int32_t last = p->begin[d] + (p->output_dims[d] - 1) * p->stride[d];
    if (n > 0 && (p->begin[d] < 0 || p->begin[d] >= p->input_dims[d] ||
                  last < 0 || last >= p->input_dims[d])) {
      return RN_BAD_PARAMS;
    }
    steps[d] = p->stride[d] * stride;
    off += p->begin[d] * stride;
    stride *= p->input_dims[d];
  }
  for (i = 0; i < n; ++i) {
    output[i] = input[off];
    rn_odometer_next(p->output_dims, steps, zeros, idx, &off, &unused);
  }
  return RN_OK;
}
