/* PAD / PADV2, int8: every output element is either copied from the input
 * (shifted by pad_before) or set to pad_value (the output zero point for PAD,
 * the quantised constant for PADV2), as TFLM's reference PadImpl does. */
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_pad(const rn_pad_params *p, const int8_t *input, int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t strides[RN_MAX_DIMS];
  int32_t d, i, n, stride = 1;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    if (p->pad_before[d] < 0 ||
        p->pad_before[d] + p->input_dims[d] > p->output_dims[d]) {
      return RN_BAD_PARAMS;
    }
    strides[d] = stride;
    stride *= p->input_dims[d];
  }
  n = rn_flat_size(p->output_dims);
  if (n < 0 || p->pad_value < -128 || p->pad_value > 127) return RN_BAD_PARAMS;
  for (i = 0; i < n; ++i) {
    int32_t off = 0, inside = 1;
    for (d = 0; d < RN_MAX_DIMS; ++d) {
      const int32_t j = idx[d] - p->pad_before[d];
      if (j < 0 || j >= p->input_dims[d]) {
        inside = 0;
        break;
      }
      off += j * strides[d];
    }
    output[i] = inside ? input[off] : (int8_t)p->pad_value;
    for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
      if (++idx[d] < p->output_dims[d]) break;
      idx[d] = 0;
    }
  }
  return RN_OK;
}
