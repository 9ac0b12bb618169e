/* MIRROR_PAD, int8: TFLM's mirror_pad.cc.  Each output coordinate maps to an
 * input coordinate per dim with TFLM's GetInputDimension: REFLECT (offset 1)
 * mirrors without repeating the edge, SYMMETRIC (offset 0) repeats it. */
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

static int32_t rn_mirror_index(int32_t padded, int32_t left, int32_t size, int32_t offset) {
  if (padded < left) {
    const int32_t original = left + offset - 1;
    const int32_t step = padded < original - offset ? padded : original - offset;
    return original - step;
  }
  padded -= left;
  if (padded >= size) {
    const int32_t original = size - (1 + offset);
    padded -= size;
    return original - (padded < original ? padded : original);
  }
  return padded;
}

int rn_mirror_pad(const rn_mirror_pad_params *p, const int8_t *input, int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t strides[RN_MAX_DIMS], n, o, d, stride = 1;
  if (p->offset != 0 && p->offset != 1) return RN_BAD_PARAMS;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    if (p->input_dims[d] <= 0 || p->pad_before[d] < 0 || p->output_dims[d] < 0 ||
        p->pad_before[d] > p->input_dims[d] - p->offset ||
        p->output_dims[d] - p->input_dims[d] - p->pad_before[d] >
            p->input_dims[d] - p->offset) {
      return RN_BAD_PARAMS;
    }
    strides[d] = stride;
    stride *= p->input_dims[d];
  }
  n = rn_flat_size(p->output_dims);
  for (o = 0; o < n; ++o) {
    int64_t from = 0;
    for (d = 0; d < RN_MAX_DIMS; ++d) {
      from += (int64_t)rn_mirror_index(idx[d], p->pad_before[d], p->input_dims[d], p->offset) *
              strides[d];
    }
    output[o] = input[from];
    for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
      if (++idx[d] < p->output_dims[d]) break;
      idx[d] = 0;
    }
  }
  return RN_OK;
}
