/* LOGICAL_AND: bool inputs (bytes, nonzero = true, as C++ bool reads 0/1),
 * broadcast as TFLM's BroadcastBinaryFunction4DSlow; bool output. */
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_logical_and(const rn_logical_params *p, const int8_t *input1,
                   const int8_t *input2, int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i;
  const int32_t size = rn_flat_size(p->shape.dims);
  if (size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < size; ++i) {
    const int8_t a = input1[off1], b = input2[off2];
    output[i] = (int8_t)((a != 0) && (b != 0));
    rn_odometer_next(p->shape.dims, p->shape.strides1, p->shape.strides2, idx, &off1, &off2);
  }
  return RN_OK;
}
