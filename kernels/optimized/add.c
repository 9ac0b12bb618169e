/* ADD, optimised: the bytes of ../add.c (TFLM's AddFunc with N-D
 * broadcasting).  The innermost dimension is one run: contiguous in both
 * inputs (or, where an input broadcasts along it, one value rescaled once),
 * so the per-element rescaling runs in a tight loop the compiler can
 * vectorise; when neither input broadcasts at all the whole tensor is one
 * run.  Each output chunk is written after all of its inputs are read, so
 * the output may overlay either input exactly (the in-place elementwise
 * rule). */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_optimized.h"
#include "include/rnnedge_shape.h"

/* One input rescaled to the common scale, as AddFunc does (shift <= 0, as
 * MultiplyByQuantizedMultiplierSmallerThanOneExp takes it), branch-free. */
static inline int32_t rn_add_scaled(int32_t q, int32_t offset, int32_t left_shift,
                                    int32_t multiplier, int32_t shift) {
  return rn_RoundingDivideByPOTLane(rn_SaturatingRoundingDoublingHighMulLane(rn_shl(offset + q, left_shift), multiplier),
                        -shift);
}

static inline int32_t rn_add_out(const rn_add_params *p, int32_t s1, int32_t s2) {
  int32_t raw = rn_RoundingDivideByPOTLane(rn_SaturatingRoundingDoublingHighMulLane(s1 + s2, p->output_multiplier),
                               -p->output_shift) +
                p->output_offset;
  raw = raw < p->activation_min ? p->activation_min : raw;
  return raw > p->activation_max ? p->activation_max : raw;
}

/* 1 when `strides` are the dense row-major strides of `dims` (no broadcast). */
static int rn_dense(const int32_t *dims, const int32_t *strides) {
  int32_t expect = 1;
  int d;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    if (dims[d] != 1 && strides[d] != expect) return 0;
    expect *= dims[d];
  }
  return 1;
}

#define RN_ADD_CHUNK 64

/* m outputs into the local `chunk` from inputs advancing by step1 / step2
 * (0: one broadcast value). `restrict` holds: chunk is local, the inputs are
 * only read. */
static void rn_add_chunk(const rn_add_params *restrict p,
                         const int8_t *restrict a, int32_t step1,
                         const int8_t *restrict b, int32_t step2,
                         int32_t *restrict chunk, int32_t m) {
  int32_t i;
  if (step1 == 1 && step2 == 1) {
    for (i = 0; i < m; ++i) {
      chunk[i] = rn_add_out(p,
                            rn_add_scaled(a[i], p->input1_offset, p->left_shift,
                                          p->input1_multiplier, p->input1_shift),
                            rn_add_scaled(b[i], p->input2_offset, p->left_shift,
                                          p->input2_multiplier, p->input2_shift));
    }
  } else {
    for (i = 0; i < m; ++i) {
      chunk[i] = rn_add_out(
          p,
          rn_add_scaled(a[i * step1], p->input1_offset, p->left_shift,
                        p->input1_multiplier, p->input1_shift),
          rn_add_scaled(b[i * step2], p->input2_offset, p->left_shift,
                        p->input2_multiplier, p->input2_shift));
    }
  }
}

/* One run of n outputs; input k advances by step_k (0: broadcast, 1: dense).
 * Each chunk is computed into a local buffer before it is stored, so that
 * the compiler vectorises without alias checks and an output that overlays
 * an input exactly still has every input read before it is overwritten. */
static void rn_add_run(const rn_add_params *p, const int8_t *in1,
                       int32_t step1, const int8_t *in2, int32_t step2,
                       int8_t *out, int32_t n) {
  int32_t chunk[RN_ADD_CHUNK];
  int32_t i0, i;
  for (i0 = 0; i0 < n; i0 += RN_ADD_CHUNK) {
    const int32_t m = n - i0 < RN_ADD_CHUNK ? n - i0 : RN_ADD_CHUNK;
    rn_add_chunk(p, in1 + i0 * step1, step1, in2 + i0 * step2, step2, chunk, m);
    for (i = 0; i < m; ++i) out[i0 + i] = (int8_t)chunk[i];
  }
}

int rn_add(const rn_add_params *p, const int8_t *input1, const int8_t *input2,
           int8_t *output) {
  int32_t outer_dims[RN_MAX_DIMS], idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i, outer, inner;
  const int32_t size = rn_flat_size(p->shape.dims);
  const int32_t *dims = p->shape.dims;
  if (size < 0 || p->left_shift < 0 || p->left_shift > 30 ||
      p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  if (size == 0) return RN_OK;
  if (rn_dense(dims, p->shape.strides1) && rn_dense(dims, p->shape.strides2)) {
    rn_add_run(p, input1, 1, input2, 1, output, size);
    return RN_OK;
  }
  inner = dims[RN_MAX_DIMS - 1];
  outer = size / inner;
  for (i = 0; i < RN_MAX_DIMS; ++i) outer_dims[i] = dims[i];
  outer_dims[RN_MAX_DIMS - 1] = 1;
  for (i = 0; i < outer; ++i) {
    rn_add_run(p, input1 + off1, p->shape.strides1[RN_MAX_DIMS - 1],
               input2 + off2, p->shape.strides2[RN_MAX_DIMS - 1],
               output + i * inner, inner);
    rn_odometer_next(outer_dims, p->shape.strides1, p->shape.strides2, idx,
                     &off1, &off2);
  }
  return RN_OK;
}
