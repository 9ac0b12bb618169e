/* BATCH_MATMUL, int8: TFLM's batch_matmul.cc EvalInt8 -> reference_ops::
 * BatchMatMul<int8_t, int32_t>.  For every (broadcast) batch, output row r,
 * column c: acc = sum_k (lhs[r][k] + lhs_offset) * (rhs[k][c] + rhs_offset) in
 * int32, MultiplyByQuantizedMultiplier, + output_offset, clamp to int8 (no
 * bias, no fused activation).  adj_x / adj_y are element strides: TFLM copies
 * the operands transposed into persistent buffers first, which moves bytes but
 * not values, so reading them strided computes the same sums. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_shape.h"

int rn_batch_matmul(const rn_batch_matmul_params *p, const int8_t *lhs,
                    const int8_t *rhs, int8_t *output) {
  int32_t idx[RN_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
  int32_t lhs_off = 0, rhs_off = 0, n_batch, bt, r, c, k;
  if (p->rows < 0 || p->cols < 0 || p->depth < 0 || p->output_shift < -31 ||
      p->output_shift > 30) {
    return RN_BAD_PARAMS;
  }
  n_batch = rn_flat_size(p->batch_dims);
  if (n_batch < 0) return RN_BAD_PARAMS;
  for (bt = 0; bt < n_batch; ++bt) {
    const int8_t *a = lhs + lhs_off, *b = rhs + rhs_off;
    int8_t *out = output + (int64_t)bt * p->rows * p->cols;
    for (r = 0; r < p->rows; ++r) {
      for (c = 0; c < p->cols; ++c) {
        int32_t acc = 0;
        for (k = 0; k < p->depth; ++k) {
          const int32_t x = (int32_t)a[r * p->lhs_row_stride + k * p->lhs_depth_stride] +
                            p->lhs_offset;
          const int32_t y = (int32_t)b[k * p->rhs_depth_stride + c * p->rhs_col_stride] +
                            p->rhs_offset;
          acc = rn_add_wrap(acc, x * y);
        }
        acc = rn_MultiplyByQuantizedMultiplier(acc, p->output_multiplier, p->output_shift);
        acc = rn_add_wrap(acc, p->output_offset);
        out[r * p->cols + c] = (int8_t)rn_clamp(acc, -128, 127);
      }
    }
    rn_odometer_next(p->batch_dims, p->lhs_batch_strides, p->rhs_batch_strides, idx,
                     &lhs_off, &rhs_off);
  }
  return RN_OK;
}
