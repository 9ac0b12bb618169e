/* LESS_EQUAL: int8 inputs compared as TFLM does (see rnnedge_comparison.h), bool
 * output. */
#include "include/rnnedge_comparison.h"

int rn_less_equal(const rn_comparison_params *p, const int8_t *input1,
           const int8_t *input2, int8_t *output) {
  return rn_compare(RN_CMP_LESS_EQUAL, p, input1, input2, output);
}
