/* FULLY_CONNECTED, int8: TFLM's reference_integer_ops::FullyConnected
 * (per-tensor: the filter offset is applied) and FullyConnectedPerChannel
 * (per-channel: weights are symmetric, no filter offset).
 *
 * TFLM is the reference here, not TFLite's reference kernels: for per-channel
 * weights TFLite (even with BUILTIN_REF) can round results that sit within
 * one unit of a tie differently, whereas this kernel reproduces TFLM's int32
 * accumulate + double-rounding MultiplyByQuantizedMultiplier exactly. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_fully_connected(const rn_fully_connected_params *p, const int8_t *input,
                       const int8_t *filter, const int32_t *bias,
                       int8_t *output) {
  int32_t b, oc, d;
  if (p->batches < 0 || p->accum_depth < 0 || p->output_depth < 0 ||
      p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_row = input + b * p->accum_depth;
    for (oc = 0; oc < p->output_depth; ++oc) {
      const int8_t *f_row = filter + oc * p->accum_depth;
      const int32_t q = p->per_channel ? oc : 0;
      const int32_t filter_offset = p->per_channel ? 0 : p->filter_offset;
      int32_t acc = 0;
      for (d = 0; d < p->accum_depth; ++d) {
        acc = rn_add_wrap(acc, ((int32_t)f_row[d] + filter_offset) *
                                   ((int32_t)in_row[d] + p->input_offset));
      }
      if (bias) acc = rn_add_wrap(acc, bias[oc]);
      acc = rn_mbqm(acc, p->output_multiplier[q], p->output_shift[q]);
      acc = rn_add_wrap(acc, p->output_offset);
      output[b * p->output_depth + oc] =
          (int8_t)rn_clamp(acc, p->activation_min, p->activation_max);
    }
  }
  return RN_OK;
}
