/* Shape helpers shared by the N-D kernels: element counts and an odometer
 * that walks a RN_MAX_DIMS-D index in row-major order while keeping two
 * strided offsets up to date (used for broadcasting binary ops). */
#ifndef RNNEDGE_SHAPE_H
#define RNNEDGE_SHAPE_H

#include <stdint.h>

#include "rnnedge_kernels.h"

/* Product of the dims, or -1 when a dim is negative. */
static inline int32_t rn_flat_size(const int32_t *dims) {
  int32_t n = 1;
  int d;
  for (d = 0; d < RN_MAX_DIMS; ++d) {
    if (dims[d] < 0) return -1;
    n *= dims[d];
  }
  return n;
}

/* Advances idx (row-major over dims) by one and updates off1/off2 by the
 * matching strides, wrapping exhausted dimensions back to 0. */
static inline void rn_odometer_next(const int32_t *dims, const int32_t *strides1,
                                    const int32_t *strides2, int32_t *idx,
                                    int32_t *off1, int32_t *off2) {
  int d;
  for (d = RN_MAX_DIMS - 1; d >= 0; --d) {
    ++idx[d];
    *off1 += strides1[d];
    *off2 += strides2[d];
    if (idx[d] < dims[d]) return;
    *off1 -= strides1[d] * dims[d];
    *off2 -= strides2[d] * dims[d];
    idx[d] = 0;
  }
}

#endif /* RNNEDGE_SHAPE_H */
