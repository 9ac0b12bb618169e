/* CAST: TFLM's copyCast, a static_cast of every element, from bool (one 0/1
 * byte) or int8 to int8, int32, float32 or bool. Every value of these input
 * types is representable in every output type (bool: nonzero -> 1), so no
 * conversion here is implementation-defined. */
#include "include/rnnedge_kernels.h"

static int32_t rn_cast_read(int32_t type, const void *input, int32_t i) {
  const int8_t v = ((const int8_t *)input)[i];
  return type == RN_TYPE_BOOL ? (v != 0) : v;
}

int rn_cast(const rn_cast_params *p, const void *input, void *output) {
  int32_t i;
  if (p->size < 0 || (p->input_type != RN_TYPE_BOOL && p->input_type != RN_TYPE_INT8))
    return RN_BAD_PARAMS;
  switch (p->output_type) {
    case RN_TYPE_INT8:
      for (i = 0; i < p->size; ++i)
        ((int8_t *)output)[i] = (int8_t)rn_cast_read(p->input_type, input, i);
      return RN_OK;
    case RN_TYPE_BOOL:
      for (i = 0; i < p->size; ++i)
        ((int8_t *)output)[i] = (int8_t)(rn_cast_read(p->input_type, input, i) != 0);
      return RN_OK;
    case RN_TYPE_INT32:
      for (i = 0; i < p->size; ++i)
        ((int32_t *)output)[i] = rn_cast_read(p->input_type, input, i);
      return RN_OK;
    case RN_TYPE_FLOAT32:
      for (i = 0; i < p->size; ++i)
        ((float *)output)[i] = (float)rn_cast_read(p->input_type, input, i);
      return RN_OK;
    default:
      return RN_BAD_PARAMS;
  }
}
