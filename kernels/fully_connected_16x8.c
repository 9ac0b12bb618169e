/* FULLY_CONNECTED, int16x8: TFLM's reference_integer_ops::FullyConnected
 * (per-tensor: the filter offset is applied) and FullyConnectedPerChannel
 * (per-channel: symmetric weights) for int16 input, int8 filter and an int64
 * bias: int64 accumulation without input offset, the int64
 * MultiplyByQuantizedMultiplier, the clamp, no output offset. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_int16.h"
#include "include/rnnedge_kernels.h"

int rn_fully_connected_16x8(const rn_fully_connected_params *p, const int16_t *input,
                            const int8_t *filter, const int64_t *bias, int16_t *output) {
  int32_t b, oc, d;
  const int32_t channels = p->per_channel ? p->output_depth : 1;
  if (p->batches < 0 || p->accum_depth < 0 || p->output_depth < 0 ||
      p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  for (oc = 0; oc < channels; ++oc) {
    if (!rn_shift64_ok(p->output_shift[oc]) || p->output_multiplier[oc] < 0) {
      return RN_BAD_PARAMS;
    }
  }
  for (b = 0; b < p->batches; ++b) {
    const int16_t *in_row = input + b * p->accum_depth;
    for (oc = 0; oc < p->output_depth; ++oc) {
      const int8_t *f_row = filter + oc * p->accum_depth;
      const int32_t q = p->per_channel ? oc : 0;
      const int32_t filter_offset = p->per_channel ? 0 : p->filter_offset;
      int64_t acc = 0;
      int32_t scaled;
      for (d = 0; d < p->accum_depth; ++d) {
        acc += (int64_t)(((int32_t)f_row[d] + filter_offset) * (int32_t)in_row[d]);
      }
      if (bias) acc += bias[oc];
      if (!rn_int64_in_range(acc)) return RN_BAD_INPUT;
      scaled = rn_MultiplyByQuantizedMultiplier64(acc, p->output_multiplier[q],
                                                  p->output_shift[q]);
      output[b * p->output_depth + oc] =
          (int16_t)rn_clamp(scaled, p->activation_min, p->activation_max);
    }
  }
  return RN_OK;
}
