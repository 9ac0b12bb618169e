/* Fixed-point helpers of the int16x8 kernels (int16 activations, int8
 * weights, int64 accumulators), bit-exact with TFLM's double-rounding build.
 *
 * rn_MultiplyByQuantizedMultiplier64 is TFLM's MultiplyByQuantizedMultiplier
 * overload for an int64 accumulator: the q31 multiplier is first reduced to
 * q15 (rounded, saturating at 0x7FFF), then x * m15 is shifted right by
 * 15 - shift with round-half-up, and the result is truncated to 32 bits as
 * TFLM's `int32_t result = x >> total_shift` does.  TFLM assumes
 * |x| < 2^47 and shift in [-31, 7]; rn_int64_in_range lets a kernel refuse
 * data outside that range instead of overflowing int64 (undefined in C).
 */
#ifndef RNNEDGE_INT16_H
#define RNNEDGE_INT16_H

#include <stdint.h>

#define RN_ACC64_LIMIT ((int64_t)1 << 47)

static inline int rn_int64_in_range(int64_t x) {
  return x >= -RN_ACC64_LIMIT && x < RN_ACC64_LIMIT;
}

static inline int32_t rn_MultiplyByQuantizedMultiplier64(int64_t x, int32_t multiplier,
                                                         int shift) {
  const int32_t reduced =
      multiplier < 0x7FFF0000 ? (int32_t)((multiplier + (1 << 15)) >> 16) : 0x7FFF;
  const int total_shift = 15 - shift;
  const int64_t rounded = x * (int64_t)reduced + ((int64_t)1 << (total_shift - 1));
  return (int32_t)(uint32_t)(uint64_t)(rounded >> total_shift);
}

static inline int rn_shift64_ok(int shift) { return shift >= -31 && shift < 8; }

#endif /* RNNEDGE_INT16_H */
