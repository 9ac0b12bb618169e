/* FULLY_CONNECTED, optimised: the bytes of ../fully_connected.c (TFLM's
 * FullyConnected / FullyConnectedPerChannel).  Four output rows share one
 * pass over the input vector (16-bit widening dot products with int32
 * partial sums, rnnedge_optimized.h); requantisation follows per row. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_optimized.h"
#include "include/rnnedge_optimized_vnni.h" /* AVX-512 VNNI hosts */

#define RN_FC_BLOCK 4

int rn_fully_connected(const rn_fully_connected_params *p, const int8_t *input,
                       const int8_t *filter, const int32_t *bias,
                       int8_t *output) {
  int32_t b, oc, k, filter_offset, narrow;
  if (p->batches < 0 || p->accum_depth < 0 || p->output_depth < 0 ||
      p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  filter_offset = p->per_channel ? 0 : p->filter_offset;
  narrow = rn_offset_is_narrow(p->input_offset) &&
           rn_offset_is_narrow(filter_offset);
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_row = input + b * p->accum_depth;
    for (oc = 0; oc < p->output_depth; oc += RN_FC_BLOCK) {
      const int32_t rows = p->output_depth - oc < RN_FC_BLOCK
                               ? p->output_depth - oc
                               : RN_FC_BLOCK;
      uint32_t acc[RN_FC_BLOCK] = {0, 0, 0, 0};
#if defined(RN_X86_VNNI)
      if (filter_offset == 0 && rn_vnni_offset_ok(p->input_offset)) {
        rn_vnni_dot_rows(in_row, filter + oc * p->accum_depth, p->accum_depth,
                         rows, p->accum_depth, p->input_offset, acc);
      } else
#endif
      rn_dot_rows(in_row, filter + oc * p->accum_depth, p->accum_depth, rows,
                  p->accum_depth, p->input_offset, filter_offset, narrow, acc);
      for (k = 0; k < rows; ++k) {
        const int32_t q = p->per_channel ? oc + k : 0;
        output[b * p->output_depth + oc + k] = rn_requantize_acc(
            acc[k], bias, oc + k, p->output_multiplier[q], p->output_shift[q],
            p->output_offset, p->activation_min, p->activation_max);
      }
    }
  }
  return RN_OK;
}
