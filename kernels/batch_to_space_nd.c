/* BATCH_TO_SPACE_ND, int8: TFLM's reference_ops::BatchToSpaceND on a 4-D
 * [batch, height, width, depth] view (3-D inputs have width 1, block width 1).
 * Input batch ib goes to output batch ib % output_batches at block offset
 * (ib / output_batches); rows and columns that fall in the crops are dropped. */
#include <string.h>

#include "include/rnnedge_kernels.h"

int rn_batch_to_space_nd(const rn_batch_to_space_nd_params *p, const int8_t *input,
                         int8_t *output) {
  int32_t ib, ih, iw;
  const int32_t D = p->depth;
  if (p->input_batches < 0 || p->input_height < 0 || p->input_width < 0 || D < 0 ||
      p->block_height <= 0 || p->block_width <= 0 || p->output_batches <= 0 ||
      p->output_height < 0 || p->output_width < 0) {
    return RN_BAD_PARAMS;
  }
  for (ib = 0; ib < p->input_batches; ++ib) {
    const int32_t ob = ib % p->output_batches;
    const int32_t offset = ib / p->output_batches;
    const int32_t off_h = offset / p->block_width, off_w = offset % p->block_width;
    for (ih = 0; ih < p->input_height; ++ih) {
      const int64_t oh = (int64_t)ih * p->block_height + off_h - p->crop_top;
      if (oh < 0 || oh >= p->output_height) continue;
      for (iw = 0; iw < p->input_width; ++iw) {
        const int64_t ow = (int64_t)iw * p->block_width + off_w - p->crop_left;
        if (ow < 0 || ow >= p->output_width) continue;
        memcpy(output + (((int64_t)ob * p->output_height + oh) * p->output_width + ow) * D,
               input + (((int64_t)ib * p->input_height + ih) * p->input_width + iw) * D,
               (size_t)D);
      }
    }
  }
  return RN_OK;
}
