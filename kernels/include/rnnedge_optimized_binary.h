/* The broadcast walk shared by the optimised int8 ADD, SUB and MUL
 * (kernels/optimized/add.c, sub.c, mul.c): the innermost dimension is one run,
 * contiguous in both inputs (or, where an input broadcasts along it, one
 * value used throughout), and when neither input broadcasts at all the whole
 * tensor is one run.  Each op supplies a chunk function that computes up to
 * RN_BINARY_CHUNK outputs of a run into a local int32 buffer (a tight loop the
 * compiler vectorises, with the dense case apart); the chunk is stored after
 * all of its inputs are read, so the output may overlay either input exactly
 * (the in-place elementwise rule).  Also the branch-free rescalings of
 * AddFunc / SubFunc. */
#ifndef RNNEDGE_OPTIMIZED_BINARY_H
#define RNNEDGE_OPTIMIZED_BINARY_H

#include <stdint.h>

#include "rnnedge_fixedpoint.h"
#include "rnnedge_kernels.h"
#include "rnnedge_optimized.h"
#include "rnnedge_shape.h"

#define RN_BINARY_CHUNK 64

/* m outputs of a run into `chunk`; input k advances by step_k (0: broadcast). */
typedef void (*rn_binary_chunk)(const void *params, const int8_t *a,
                                int32_t step1, const int8_t *b, int32_t step2,
                                int32_t *chunk, int32_t m);

/* One input rescaled to the common scale, as AddFunc / SubFunc do (shift <= 0,
 * as MultiplyByQuantizedMultiplierSmallerThanOneExp takes it), branch-free. */
static inline int32_t rn_binary_scaled(int32_t q, int32_t offset,
                                       int32_t left_shift, int32_t multiplier,
                                       int32_t shift) {
  return rn_RoundingDivideByPOTLane(
      rn_SaturatingRoundingDoublingHighMulLane(rn_shl(offset + q, left_shift),
                                               multiplier),
      -shift);
}

/* The rescaled sum (or difference) to the output, clamped. */
static inline int32_t rn_binary_out(int32_t sum, int32_t multiplier,
                                    int32_t shift, int32_t offset,
                                    int32_t act_min, int32_t act_max) {
  int32_t raw = rn_RoundingDivideByPOTLane(
                    rn_SaturatingRoundingDoublingHighMulLane(sum, multiplier),
                    -shift) +
                offset;
  raw = raw < act_min ? act_min : raw;
  return raw > act_max ? act_max : raw;
}

/* 1 when `strides` are the dense row-major strides of `dims` (no broadcast). */
static inline int rn_dense(const int32_t *dims, const int32_t *strides) {
  int32_t expect = 1;
  int d;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    if (dims[d] != 1 && strides[d] != expect) return 0;
    expect *= dims[d];
  }
  return 1;
}

/* One run of n outputs, chunk by chunk through a local buffer. */
static inline void rn_binary_run(const void *params, rn_binary_chunk chunk_fn,
                                 const int8_t *in1, int32_t step1,
                                 const int8_t *in2, int32_t step2, int8_t *out,
                                 int32_t n) {
  int32_t chunk[RN_BINARY_CHUNK];
  int32_t i0, i;
  for (i0 = 0; i0 < n; i0 += RN_BINARY_CHUNK) {
    const int32_t m = n - i0 < RN_BINARY_CHUNK ? n - i0 : RN_BINARY_CHUNK;
    chunk_fn(params, in1 + i0 * step1, step1, in2 + i0 * step2, step2, chunk,
             m);
    for (i = 0; i < m; ++i) out[i0 + i] = (int8_t)chunk[i];
  }
}

/* The whole broadcast: dense tensors as one run, else one run per position
 * of the outer dimensions (TFLM's odometer order). */
static inline void rn_binary_broadcast(const void *params,
                                       const rn_broadcast *shape,
                                       rn_binary_chunk chunk_fn,
                                       const int8_t *input1,
                                       const int8_t *input2, int8_t *output) {
  int32_t outer_dims[RN_MAX_DIMS], idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t off1 = 0, off2 = 0, i, outer, inner;
  const int32_t *dims = shape->dims;
  const int32_t size = rn_flat_size(dims);
  if (size <= 0) return;
  if (rn_dense(dims, shape->strides1) && rn_dense(dims, shape->strides2)) {
    rn_binary_run(params, chunk_fn, input1, 1, input2, 1, output, size);
    return;
  }
  inner = dims[RN_MAX_DIMS - 1];
  outer = size / inner;
  for (i = 0; i < RN_MAX_DIMS; ++i) outer_dims[i] = dims[i];
  outer_dims[RN_MAX_DIMS - 1] = 1;
  for (i = 0; i < outer; ++i) {
    rn_binary_run(params, chunk_fn, input1 + off1,
                  shape->strides1[RN_MAX_DIMS - 1], input2 + off2,
                  shape->strides2[RN_MAX_DIMS - 1], output + i * inner, inner);
    rn_odometer_next(outer_dims, shape->strides1, shape->strides2, idx, &off1,
                     &off2);
  }
}

#endif /* RNNEDGE_OPTIMIZED_BINARY_H */
