/* SPACE_TO_BATCH_ND, int8: TFLM's reference_ops::SpaceToBatchND on a 4-D
 * [batch, height, width, depth] view (3-D inputs have width 1, block width 1).
 * Output batch ob takes input batch ob % input_batches at block offset
 * (ob / input_batches) -> (row / block_width, col % block_width); positions in
 * the padding get the output zero point (TFLM's pad value). */
#include <string.h>

#include "include/rnnedge_kernels.h"

int rn_space_to_batch_nd(const rn_space_to_batch_nd_params *p, const int8_t *input,
                         int8_t *output) {
  int32_t ob, oh, ow, c;
  const int32_t D = p->depth;
  if (p->input_batches <= 0 || p->input_height < 0 || p->input_width < 0 || D < 0 ||
      p->block_height <= 0 || p->block_width <= 0 || p->output_batches < 0 ||
      p->output_height < 0 || p->output_width < 0) {
    return RN_BAD_PARAMS;
  }
  for (ob = 0; ob < p->output_batches; ++ob) {
    const int32_t ib = ob % p->input_batches;
    const int32_t shift = ob / p->input_batches;
    const int32_t shift_h = shift / p->block_width, shift_w = shift % p->block_width;
    for (oh = 0; oh < p->output_height; ++oh) {
      const int64_t ih = (int64_t)oh * p->block_height + shift_h - p->pad_top;
      for (ow = 0; ow < p->output_width; ++ow) {
        const int64_t iw = (int64_t)ow * p->block_width + shift_w - p->pad_left;
        if (ih < 0 || ih >= p->input_height || iw < 0 || iw >= p->input_width) {
          for (c = 0; c < D; ++c) output[c] = (int8_t)p->pad_value;
        } else {
          memcpy(output, input + (((int64_t)ib * p->input_height + ih) * p->input_width + iw) * D,
                 (size_t)D);
        }
        output += D;
      }
    }
  }
  return RN_OK;
}
