/* ARG_MIN, int8 input: TFLM's arg_min_max.cc -> reference_ops::ArgMinMax.
 * The input is viewed as [outer, axis, inner]; for each (outer, inner) the
 * index of the first smallest value along the axis (a strict
 * comparison, so ties keep the earliest index) is written as int32 (TFLM's
 * only output type). */
#include "include/rnnedge_kernels.h"

int rn_arg_min(const rn_arg_min_max_params *p, const int8_t *input, int32_t *output) {
  int32_t o, i, a;
  if (p->outer_size < 0 || p->axis_size <= 0 || p->inner_size < 0) {
    return RN_BAD_PARAMS;
  }
  for (o = 0; o < p->outer_size; ++o) {
    const int8_t *row = input + (int64_t)o * p->axis_size * p->inner_size;
    for (i = 0; i < p->inner_size; ++i) {
      int32_t best = 0;
      int8_t value = row[i];
      for (a = 1; a < p->axis_size; ++a) {
        const int8_t v = row[(int64_t)a * p->inner_size + i];
        if (v < value) {
          value = v;
          best = a;
        }
      }
      *output++ = best;
    }
  }
  return RN_OK;
}
