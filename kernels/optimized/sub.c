/* SUB, optimised: the bytes of ../sub.c (TFLM's SubFunc with N-D
 * broadcasting), through the broadcast walk of rnnedge_optimized_binary.h:
 * runs along the innermost dimension (the whole tensor when nothing
 * broadcasts) rescaled element by element (the second input subtracted) in
 * a loop the compiler vectorises;
 * the output may overlay either input exactly. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_optimized_binary.h"

static inline int32_t rn_sub_one(const rn_sub_params *p, int32_t a, int32_t b) {
  const int32_t s1 = rn_binary_scaled(a, p->input1_offset, p->left_shift,
                                      p->input1_multiplier, p->input1_shift);
  const int32_t s2 = rn_binary_scaled(b, p->input2_offset, p->left_shift,
                                      p->input2_multiplier, p->input2_shift);
  /* the reference's int32 difference, wrapping instead of overflowing */
  return rn_binary_out((int32_t)((uint32_t)s1 - (uint32_t)s2),
                       p->output_multiplier, p->output_shift, p->output_offset,
                       p->activation_min, p->activation_max);
}

/* m outputs into the local `chunk` (see rn_binary_chunk). */
static void rn_sub_chunk(const void *params, const int8_t *restrict a,
                         int32_t step1, const int8_t *restrict b,
                         int32_t step2, int32_t *restrict chunk, int32_t m) {
  const rn_sub_params *restrict p = (const rn_sub_params *)params;
  int32_t i;
  if (step1 == 1 && step2 == 1) {
    for (i = 0; i < m; ++i) chunk[i] = rn_sub_one(p, a[i], b[i]);
  } else {
    for (i = 0; i < m; ++i) chunk[i] = rn_sub_one(p, a[i * step1], b[i * step2]);
  }
}

int rn_sub(const rn_sub_params *p, const int8_t *input1, const int8_t *input2,
           int8_t *output) {
  if (rn_flat_size(p->shape.dims) < 0 || p->left_shift < 0 ||
      p->left_shift > 30 || p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  rn_binary_broadcast(p, &p->shape, rn_sub_chunk, input1, input2, output);
  return RN_OK;
}
