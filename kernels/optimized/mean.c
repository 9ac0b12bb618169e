/* MEAN, int8, optimised: the bytes of ../mean.c (TFLM's EvalIntegerMean ->
 * reference_ops::QuantizedMeanOrSum), computed faster.
 *
 * The trailing axes that are not reduced form one contiguous run of
 * `inner` elements (the channels of an NHWC global average pool); for each
 * output position of the other kept axes, every reduced position adds its
 * run into RN_MEAN_BLOCK uint32 accumulators at once (the loop vectorises;
 * uint32 wraps as the reference's rn_add_wrap does, and integer addition is
 * order-free modulo 2^32), instead of one odometer walk per output element.
 * The rescaling (1/count folded into the multiplier as TFLM folds it) is the
 * reference's, per element. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

#define RN_MEAN_BLOCK 256

int rn_mean(const rn_mean_params *p, const int8_t *input, int8_t *output) {
  static const int32_t zeros[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t out_dims[RN_MAX_DIMS], red_dims[RN_MAX_DIMS], strides[RN_MAX_DIMS];
  int32_t out_idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t base = 0, unused = 0, n_out, n_red, o, d, stride = 1, inner = 1, run;
  int32_t multiplier = p->output_multiplier, shift = p->output_shift, fold;
  if (p->output_shift < -31 || p->output_shift > 30) return RN_BAD_PARAMS;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    if (p->input_dims[d] < 0) return RN_BAD_PARAMS;
  }
  /* axes run + 1 .. RN_MAX_DIMS - 1: the kept trailing run */
  for (run = RN_MAX_DIMS - 1; run >= 0 && !p->reduce[run]; --run) {
    inner *= p->input_dims[run];
  }
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= p->input_dims[d];
    /* the outer walks: kept axes before the run, and the reduced axes */
    out_dims[d] = p->reduce[d] || d > run ? 1 : p->input_dims[d];
    red_dims[d] = p->reduce[d] ? p->input_dims[d] : 1;
  }
  n_out = rn_flat_size(out_dims);
  n_red = rn_flat_size(red_dims);
  if (n_red == 0 || inner == 0) {
    for (o = 0; o < n_out * inner; ++o) output[o] = 0;
    return RN_OK;
  }
  fold = 31 - rn_CountLeadingZeros((uint32_t)n_red);
  if (fold > 31 + shift) fold = 31 + shift;
  multiplier = (int32_t)(((int64_t)multiplier << fold) / n_red);
  shift -= fold;
  for (o = 0; o < n_out; ++o) {
    int32_t i0;
    for (i0 = 0; i0 < inner; i0 += RN_MEAN_BLOCK) {
      const int32_t len = inner - i0 < RN_MEAN_BLOCK ? inner - i0 : RN_MEAN_BLOCK;
      int32_t red_idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
      int32_t off = base + i0, r, i;
      uint32_t acc[RN_MEAN_BLOCK];
      for (i = 0; i < len; ++i) acc[i] = 0;
      for (r = 0; r < n_red; ++r) {
        const int8_t *x = input + off;
        for (i = 0; i < len; ++i) acc[i] += (uint32_t)(int32_t)x[i];
        rn_odometer_next(red_dims, strides, zeros, red_idx, &off, &unused);
      }
      for (i = 0; i < len; ++i) {
        /* TFLM forms sum - zp * count in int64 and narrows it to int32. */
        const int32_t v =
            rn_MultiplyByQuantizedMultiplier(
                (int32_t)((int64_t)(int32_t)acc[i] -
                          (int64_t)p->input_zero_point * n_red),
                multiplier, shift) +
            p->output_zero_point;
        output[o * inner + i0 + i] = (int8_t)rn_clamp(v, -128, 127);
      }
    }
    rn_odometer_next(out_dims, strides, zeros, out_idx, &base, &unused);
  }
  return RN_OK;
}
