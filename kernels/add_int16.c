/* ADD, int16: TFLM's reference_ops::Add / BroadcastAdd6DSlow (AddFunc) for int16
 * tensors (the int8 arithmetic of add.c on
 * int16 data; TFLM's Prepare uses left_shift 15 instead of 20 for int16 ADD/SUB
 * and clamps to the int16 activation range), with N-D broadcasting. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_add_int16(const rn_add_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i;
  const int32_t size = rn_flat_size(p->shape.dims);
  if (size < 0 || p->left_shift < 0 || p->left_shift > 30 ||
      p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  for (i = 0; i < size; ++i) {
    const int32_t in1 = p->input1_offset + input1[off1];
    const int32_t in2 = p->input2_offset + input2[off2];
    const int32_t scaled1 = rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
        rn_shl(in1, p->left_shift), p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 = rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
        rn_shl(in2, p->left_shift), p->input2_multiplier, p->input2_shift);
    const int32_t raw = rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
                            scaled1 + scaled2, p->output_multiplier, p->output_shift) +
                        p->output_offset;
    output[i] = (int16_t)rn_clamp(raw, p->activation_min, p->activation_max);
    rn_odometer_next(p->shape.dims, p->shape.strides1, p->shape.strides2, idx, &off1, &off2);
  }
  return RN_OK;
}
