/* ADD, optimised: the bytes of ../add.c (TFLM's AddFunc with N-D
 * broadcasting), through the broadcast walk of rnnedge_optimized_binary.h:
 * runs along the innermost dimension (the whole tensor when nothing
 * broadcasts) rescaled element by element in a loop the compiler vectorises;
 * the output may overlay either input exactly. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_optimized_binary.h"

/* m outputs into the local `chunk` from inputs advancing by step1 / step2
 * (0: one broadcast value). `restrict` holds: chunk is local, the inputs are
 * only read. */
static void rn_add_chunk(const void *params, const int8_t *restrict a,
                         int32_t step1, const int8_t *restrict b,
                         int32_t step2, int32_t *restrict chunk, int32_t m) {
  const rn_add_params *restrict p = (const rn_add_params *)params;
  int32_t i;
  if (step1 == 1 && step2 == 1) {
    for (i = 0; i < m; ++i) {
      chunk[i] = rn_binary_out(
          rn_binary_scaled(a[i], p->input1_offset, p->left_shift,
                           p->input1_multiplier, p->input1_shift) +
              rn_binary_scaled(b[i], p->input2_offset, p->left_shift,
                               p->input2_multiplier, p->input2_shift),
          p->output_multiplier, p->output_shift, p->output_offset,
          p->activation_min, p->activation_max);
    }
  } else {
    for (i = 0; i < m; ++i) {
      chunk[i] = rn_binary_out(
          rn_binary_scaled(a[i * step1], p->input1_offset, p->left_shift,
                           p->input1_multiplier, p->input1_shift) +
              rn_binary_scaled(b[i * step2], p->input2_offset, p->left_shift,
                               p->input2_multiplier, p->input2_shift),
          p->output_multiplier, p->output_shift, p->output_offset,
          p->activation_min, p->activation_max);
    }
  }
}

int rn_add(const rn_add_params *p, const int8_t *input1, const int8_t *input2,
           int8_t *output) {
  if (rn_flat_size(p->shape.dims) < 0 || p->left_shift < 0 ||
      p->left_shift > 30 || p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  rn_binary_broadcast(p, &p->shape, rn_add_chunk, input1, input2, output);
  return RN_OK;
}
