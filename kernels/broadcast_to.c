/* BROADCAST_TO, int8: TFLM's reference_ops::BroadcastTo.  Walks the output
 * shape in row-major order, reading the input with stride 0 along the
 * broadcast dims. */
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_broadcast_to(const rn_broadcast_to_params *p, const int8_t *input, int8_t *output) {
  static const int32_t zeros[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off = 0, unused = 0, n, o;
  n = rn_flat_size(p->shape.dims);
  if (n < 0) return RN_BAD_PARAMS;
  for (o = 0; o < n; ++o) {
    output[o] = input[off];
    rn_odometer_next(p->shape.dims, p->shape.strides1, zeros, idx, &off, &unused);
  }
  return RN_OK;
}
