/* SQUARED_DIFFERENCE, int8: TFLM's quantised SquaredDifference: both inputs
 * shifted left by 7 and rescaled to a common scale (as ADD does), the
 * difference squared and rescaled to the output. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_squared_difference(const rn_squared_difference_params *p,
                          const int8_t *input1, const int8_t *input2,
                          int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i;
  const int32_t size = rn_flat_size(p->shape.dims);
  if (size < 0 || p->left_shift < 0 || p->left_shift > 7 ||
      p->activation_min > p->activation_max || p->input1_shift > 0 || p->input2_shift > 0)
    return RN_BAD_PARAMS;
  for (i = 0; i < size; ++i) {
    const int32_t a = (p->input1_offset + input1[off1]) * (1 << p->left_shift);
    const int32_t b = (p->input2_offset + input2[off2]) * (1 << p->left_shift);
    const int32_t sa =
        rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(a, p->input1_multiplier, p->input1_shift);
    const int32_t sb =
        rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(b, p->input2_multiplier, p->input2_shift);
    const int32_t diff = sa - sb;
    const int32_t raw = rn_MultiplyByQuantizedMultiplier(diff * diff, p->output_multiplier,
                                                         p->output_shift) + p->output_offset;
    output[i] = (int8_t)rn_clamp(raw, p->activation_min, p->activation_max);
    rn_odometer_next(p->shape.dims, p->shape.strides1, p->shape.strides2, idx, &off1, &off2);
  }
  return RN_OK;
}
