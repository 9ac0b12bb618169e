/* ADD of int32 tensors (loop counters of WHILE loops): TFLM's EvalAdd int32
 * path, reference_ops::Add / BroadcastAdd4DSlow with the activation range
 * fixed to the whole int32 range (the fused activation is not applied, as in
 * TFLM); the sum wraps modulo 2^32 where C's signed addition would overflow. */
#include <stdint.h>

#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_add_int32(const rn_int32_binary_params *p, const int32_t *input1,
                 const int32_t *input2, int32_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i;
  const int32_t size = rn_flat_size(p->shape.dims);
  if (size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < size; ++i) {
    output[i] = (int32_t)((uint32_t)input1[off1] + (uint32_t)input2[off2]);
    rn_odometer_next(p->shape.dims, p->shape.strides1, p->shape.strides2, idx, &off1, &off2);
  }
  return RN_OK;
}
