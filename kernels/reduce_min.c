/* REDUCE_MIN, int8: TFLM's EvalMaxHelper / EvalMinHelper -> reference_ops::
 * ReduceGeneric with the min reducer, starting from the int8 type's
 * highest value.  TFLM requires input and output to share scale and zero
 * point, so this compares raw values; an empty reduction leaves that start
 * value.  TFLM's two scratch requests (resolved axes and an index) are not
 * needed here: the reduced axes arrive as a mask in the params. */
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_reduce_min(const rn_reduce_params *p, const int8_t *input, int8_t *output) {
  static const int32_t zeros[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t out_dims[RN_MAX_DIMS], red_dims[RN_MAX_DIMS], strides[RN_MAX_DIMS];
  int32_t out_idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t base = 0, unused = 0, n_out, n_red, o, d, stride = 1;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    if (p->input_dims[d] < 0) return RN_BAD_PARAMS;
    strides[d] = stride;
    stride *= p->input_dims[d];
    out_dims[d] = p->reduce[d] ? 1 : p->input_dims[d];
    red_dims[d] = p->reduce[d] ? p->input_dims[d] : 1;
  }
  n_out = rn_flat_size(out_dims);
  n_red = rn_flat_size(red_dims);
  if (rn_flat_size(p->input_dims) == 0) n_red = 0;
  for (o = 0; o < n_out; ++o) {
    int32_t red_idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
    int32_t off = base, r;
    int8_t best = 127;
    for (r = 0; r < n_red; ++r) {
      if (input[off] < best) best = input[off];
      rn_odometer_next(red_dims, strides, zeros, red_idx, &off, &unused);
    }
    output[o] = best;
    if (n_red > 0) rn_odometer_next(out_dims, strides, zeros, out_idx, &base, &unused);
  }
  return RN_OK;
}
