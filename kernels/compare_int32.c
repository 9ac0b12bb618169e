/* EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL of int32 tensors
 * (WHILE loop conditions): TFLM's ComparisonNoScaling /
 * Broadcast4DSlowComparisonNoScaling, the raw values compared; bool output
 * (0/1 bytes). `which` is the RN_CMP_* code of rnnedge_comparison.h. */
#include "include/rnnedge_comparison.h"

int rn_compare_int32(const rn_int32_compare_params *p, const int32_t *input1,
                     const int32_t *input2, int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i;
  const int32_t size = rn_flat_size(p->shape.dims);
  if (size < 0 || p->which < RN_CMP_EQUAL || p->which > RN_CMP_GREATER_EQUAL)
    return RN_BAD_PARAMS;
  for (i = 0; i < size; ++i) {
    output[i] = (int8_t)rn_compare_values(p->which, input1[off1], input2[off2]);
    rn_odometer_next(p->shape.dims, p->shape.strides1, p->shape.strides2, idx, &off1, &off2);
  }
  return RN_OK;
}
