/* SELECT_V2: output = condition ? x : y, elementwise with the three-way
 * broadcast of TFLM's BroadcastSelect5DSlow (Select when no input is
 * broadcast); x, y and the output share one quantisation, so bytes are
 * copied. */
#include "include/rnnedge_elementwise.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_select_v2(const rn_select_v2_params *p, const int8_t *condition,
                 const int8_t *x, const int8_t *y, int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t oc = 0, ox = 0, oy = 0, i;
  const int32_t size = rn_flat_size(p->dims);
  if (size < 0) return RN_BAD_PARAMS;
  for (i = 0; i < size; ++i) {
    output[i] = condition[oc] ? x[ox] : y[oy];
    rn_odometer3_next(p->dims, p->strides_condition, p->strides_x, p->strides_y, idx, &oc,
                      &ox, &oy);
  }
  return RN_OK;
}
