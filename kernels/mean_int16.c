/* MEAN, int16: mean.c's arithmetic on int16 data, TFLM's EvalIntegerMean ->
 * reference_ops::QuantizedMeanOrSum<int16_t>
 * (compute_sum = false).  The int32 sum of the raw inputs over the reduced
 * axes has zero_point * count removed and is rescaled by the in/out scale
 * multiplier with 1/count folded in the way TFLM folds it:
 *   shift = min(floor(log2(count)), 32, 31 + output_shift)
 *   multiplier' = (multiplier << shift) / count, shift' = output_shift - shift
 * then MultiplyByQuantizedMultiplier, + output zero point, clamp to int16. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_mean_int16(const rn_mean_params *p, const int16_t *input, int16_t *output) {
  static const int32_t zeros[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t out_dims[RN_MAX_DIMS], red_dims[RN_MAX_DIMS], strides[RN_MAX_DIMS];
  int32_t out_idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t base = 0, unused = 0, n_out, n_red, o, d, stride = 1;
  int32_t multiplier = p->output_multiplier, shift = p->output_shift, fold;
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
  if (n_red == 0) {
    for (o = 0; o < n_out; ++o) output[o] = 0;
    return RN_OK;
  }
  fold = 31 - rn_CountLeadingZeros((uint32_t)n_red);
  if (fold > 31 + shift) fold = 31 + shift;
  multiplier = (int32_t)(((int64_t)multiplier << fold) / n_red);
  shift -= fold;
  for (o = 0; o < n_out; ++o) {
    int32_t red_idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
    int32_t off = base, r, sum = 0, v;
    for (r = 0; r < n_red; ++r) {
      sum = rn_add_wrap(sum, input[off]);
      rn_odometer_next(red_dims, strides, zeros, red_idx, &off, &unused);
    }
    /* TFLM forms sum - zp * count in int64 and narrows it to int32. */
    v = rn_MultiplyByQuantizedMultiplier(
            (int32_t)((int64_t)sum - (int64_t)p->input_zero_point * n_red),
                multiplier, shift) +
        p->output_zero_point;
    output[o] = (int16_t)rn_clamp(v, -32768, 32767);
    rn_odometer_next(out_dims, strides, zeros, out_idx, &base, &unused);
  }
  return RN_OK;
}
