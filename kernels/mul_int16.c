/* MUL, int16: TFLM's reference_integer_ops::Mul / BroadcastMul4DSlow
 * (MulElementwise) on int16 tensors: the arithmetic of mul.c, the clamp to
 * the int16 activation range, broadcasting over at most 4 dimensions. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_mul_int16(const rn_mul_params *p, const int16_t *input1, const int16_t *input2,
                int16_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i;
  const int32_t size = rn_flat_size(p->shape.dims);
  if (size < 0 || p->activation_min > p->activation_max) return RN_BAD_PARAMS;
  for (i = 0; i < size; ++i) {
    const int32_t in1 = p->input1_offset + input1[off1];
    const int32_t in2 = p->input2_offset + input2[off2];
    const int32_t raw =
        p->output_offset +
        rn_MultiplyByQuantizedMultiplier(in1 * in2, p->output_multiplier, p->output_shift);
    output[i] = (int16_t)rn_clamp(raw, p->activation_min, p->activation_max);
    rn_odometer_next(p->shape.dims, p->shape.strides1, p->shape.strides2, idx, &off1, &off2);
  }
  return RN_OK;
}
