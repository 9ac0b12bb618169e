/* SUM, int8: TFLM's EvalSumHelper -> reference_ops::QuantizedMeanOrSum
 * (compute_sum = true).  The int32 sum of the raw inputs over the reduced axes
 * has zero_point * count removed (formed in int64, narrowed to int32 as TFLM
 * does) and is rescaled by QuantizeMultiplier(in_scale / out_scale), then the
 * output zero point is added and the result clamped to int8.  An empty
 * reduction (a zero-sized input dim) leaves the output all zeros, as TFLM. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_sum(const rn_sum_params *p, const int8_t *input, int8_t *output) {
  static const int32_t zeros[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t out_dims[RN_MAX_DIMS], red_dims[RN_MAX_DIMS], strides[RN_MAX_DIMS];
  int32_t out_idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t base = 0, unused = 0, n_out, n_red, o, d, stride = 1;
  if (p->output_shift < -31 || p->output_shift > 30) return RN_BAD_PARAMS;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    if (p->input_dims[d] < 0) return RN_BAD_PARAMS;
    strides[d] = stride;
    stride *= p->input_dims[d];
    out_dims[d] = p->reduce[d] ? 1 : p->input_dims[d];
    red_dims[d] = p->reduce[d] ? p->input_dims[d] : 1;
  }
  n_out = rn_flat_size(out_dims);
  n_red = rn_flat_size(red_dims);
  if (n_red == 0 || rn_flat_size(p->input_dims) == 0) {
    for (o = 0; o < n_out; ++o) output[o] = 0;
    return RN_OK;
  }
  for (o = 0; o < n_out; ++o) {
    int32_t red_idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
    int32_t off = base, r, sum = 0, v;
    for (r = 0; r < n_red; ++r) {
      sum = rn_add_wrap(sum, input[off]);
      rn_odometer_next(red_dims, strides, zeros, red_idx, &off, &unused);
    }
    v = rn_MultiplyByQuantizedMultiplier(
            (int32_t)((int64_t)sum - (int64_t)p->input_zero_point * n_red),
            p->output_multiplier, p->output_shift);
    v = rn_add_wrap(v, p->output_zero_point);
    output[o] = (int8_t)rn_clamp(v, -128, 127);
    rn_odometer_next(out_dims, strides, zeros, out_idx, &base, &unused);
  }
  return RN_OK;
}
