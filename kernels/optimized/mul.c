/* MUL, optimised: the bytes of ../mul.c (TFLM's reference_integer_ops::Mul /
 * BroadcastMul4DSlow) through the broadcast walk of
 * rnnedge_optimized_binary.h: (in1 + offset1) * (in2 + offset2) requantised
 * with one multiplier, element by element in a loop the compiler vectorises
 * (branch-free SRDHM and rounding shift); the output may overlay either input
 * exactly. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_optimized_binary.h"

static inline int32_t rn_mul_out(const rn_mul_params *p, int32_t a, int32_t b) {
  const int32_t left = p->output_shift > 0 ? p->output_shift : 0;
  const int32_t right = p->output_shift > 0 ? 0 : -p->output_shift;
  const int32_t raw =
      p->output_offset +
      rn_RoundingDivideByPOTLane(
          rn_SaturatingRoundingDoublingHighMulLane(
              rn_shl((p->input1_offset + a) * (p->input2_offset + b), left),
              p->output_multiplier),
          right);
  return rn_clamp(raw, p->activation_min, p->activation_max);
}

/* m outputs into the local `chunk` (see rn_binary_chunk). */
static void rn_mul_chunk(const void *params, const int8_t *restrict a,
                         int32_t step1, const int8_t *restrict b,
                         int32_t step2, int32_t *restrict chunk, int32_t m) {
  const rn_mul_params *restrict p = (const rn_mul_params *)params;
  int32_t i;
  if (step1 == 1 && step2 == 1) {
    for (i = 0; i < m; ++i) chunk[i] = rn_mul_out(p, a[i], b[i]);
  } else {
    for (i = 0; i < m; ++i) chunk[i] = rn_mul_out(p, a[i * step1], b[i * step2]);
  }
}

int rn_mul(const rn_mul_params *p, const int8_t *input1, const int8_t *input2,
           int8_t *output) {
  if (rn_flat_size(p->shape.dims) < 0 || p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  rn_binary_broadcast(p, &p->shape, rn_mul_chunk, input1, input2, output);
  return RN_OK;
}
