/* TRANSPOSE, int8: output dim i walks input dim perm[i]. */
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_transpose(const rn_transpose_params *p, const int8_t *input,
                 int8_t *output) {
  static const int32_t zeros[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t in_strides[RN_MAX_DIMS], out_dims[RN_MAX_DIMS], steps[RN_MAX_DIMS];
  int32_t seen = 0, d, i, n, off = 0, unused = 0, stride = 1;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    in_strides[d] = stride;
    stride *= p->input_dims[d];
  }
  for (d = 0; d < RN_MAX_DIMS; ++d) {
    const int32_t src = p->perm[d];
    if (src < 0 || src >= RN_MAX_DIMS || (seen & (1 << src))) {
      return RN_BAD_PARAMS;
    }
    seen |= 1 << src;
    out_dims[d] = p->input_dims[src];
    steps[d] = in_strides[src];
  }
  n = rn_flat_size(out_dims);
  for (i = 0; i < n; ++i) {
    output[i] = input[off];
    rn_odometer_next(out_dims, steps, zeros, idx, &off, &unused);
  }
  return RN_OK;
}
