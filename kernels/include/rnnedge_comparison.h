/* The loop shared by the six comparison kernels (one op per file): TFLM's
 * ComparisonWithScaling / BroadcastComparison4DSlowWithScaling for int8 (each
 * input shifted left by 8 and multiplied by its own scale's fixed-point
 * multiplier) or a raw comparison (bool inputs); writes 0/1 bytes. */
#ifndef RNNEDGE_COMPARISON_H
#define RNNEDGE_COMPARISON_H

#include <stdint.h>

#include "rnnedge_fixedpoint.h"
#include "rnnedge_kernels.h"
#include "rnnedge_shape.h"

enum { RN_CMP_EQUAL, RN_CMP_NOT_EQUAL, RN_CMP_LESS, RN_CMP_LESS_EQUAL,
       RN_CMP_GREATER, RN_CMP_GREATER_EQUAL };

static inline int rn_compare_values(int which, int32_t a, int32_t b) {
  switch (which) {
    case RN_CMP_EQUAL: return a == b;
    case RN_CMP_NOT_EQUAL: return a != b;
    case RN_CMP_LESS: return a < b;
    case RN_CMP_LESS_EQUAL: return a <= b;
    case RN_CMP_GREATER: return a > b;
    default: return a >= b;
  }
}

static inline int rn_compare(int which, const rn_comparison_params *p,
                             const int8_t *input1, const int8_t *input2,
                             int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i;
  const int32_t size = rn_flat_size(p->shape.dims);
  if (size < 0 || p->left_shift < 0 || p->left_shift > 8 || p->input1_shift > 0 ||
      p->input2_shift > 0)
    return RN_BAD_PARAMS;
  for (i = 0; i < size; ++i) {
    int32_t a = input1[off1], b = input2[off2];
    if (p->rescale) {
      a = rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
          (p->input1_offset + a) * (1 << p->left_shift), p->input1_multiplier, p->input1_shift);
      b = rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
          (p->input2_offset + b) * (1 << p->left_shift), p->input2_multiplier, p->input2_shift);
    }
    output[i] = (int8_t)rn_compare_values(which, a, b);
    rn_odometer_next(p->shape.dims, p->shape.strides1, p->shape.strides2, idx, &off1, &off2);
  }
  return RN_OK;
}

#endif /* RNNEDGE_COMPARISON_H */
