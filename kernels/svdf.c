/* SVDF, int8 input: TFLM's EvalIntegerSvdfReference, in both of TFLM's forms
 * (int16 time weights and state, as its keyword models use, or int8 ones).
 * Per invocation: the state [batches, num_filters * memory_size] shifts left by
 * one element; the feature matmul (input x weights_feature, rescaled, saturated
 * to the state type, then plus the state zero point, wrapping as TFLM's C++
 * narrowing does) writes each filter's newest memory slot; the time
 * matmul (state x weights_time) gives one int32 per filter; the filters of each
 * unit (rank of them) are summed with the bias, rescaled and saturated to int8.
 * The state is the caller's variable tensor, updated in place. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

static int32_t rn_svdf_get(const void *data, int32_t i, int32_t is16) {
  return is16 ? (int32_t)((const int16_t *)data)[i] : (int32_t)((const int8_t *)data)[i];
}

/* Stores `v` into the state element type, wrapping modulo 2^bits as the C++ narrowing
 * conversion TFLM applies does on every target it supports. */
static void rn_svdf_set(void *data, int32_t i, int32_t v, int32_t is16) {
  if (is16) {
    ((int16_t *)data)[i] = (int16_t)((int32_t)(((uint32_t)v + 32768u) & 0xFFFFu) - 32768);
  } else {
    ((int8_t *)data)[i] = (int8_t)((int32_t)(((uint32_t)v + 128u) & 0xFFu) - 128);
  }
}

static int32_t rn_svdf_saturate(int32_t v, int32_t is16) {
  return is16 ? rn_clamp(v, -32768, 32767) : rn_clamp(v, -128, 127);
}

int rn_svdf(const rn_svdf_params *p, const int8_t *input,
            const int8_t *weights_feature, const void *weights_time,
            const int32_t *bias, void *state, int32_t *scratch, int8_t *output) {
  const int32_t F = p->num_filters, M = p->memory_size, U = p->num_units;
  const int32_t wide = p->state_int16;
  const int32_t total = p->batches * F * M;
  int32_t *filter_sums = scratch;
  int32_t b, f, i, j;
  if (p->batches < 0 || p->input_depth < 0 || F < 0 || M <= 0 || U < 0 || p->rank <= 0 ||
      U * p->rank != F) {
    return RN_BAD_PARAMS;
  }
  for (i = 0; i + 1 < total; ++i) rn_svdf_set(state, i, rn_svdf_get(state, i + 1, wide), wide);
  for (b = 0; b < p->batches; ++b) {
    const int8_t *x = input + b * p->input_depth;
    for (f = 0; f < F; ++f) {
      const int8_t *w = weights_feature + f * p->input_depth;
      int32_t acc = 0;
      for (i = 0; i < p->input_depth; ++i) {
        acc = rn_add_wrap(acc, (int32_t)w[i] * ((int32_t)x[i] - p->input_zero_point));
      }
      acc = rn_MultiplyByQuantizedMultiplier(acc, p->feature_multiplier, p->feature_shift);
      /* TFLM saturates to the state type, then adds the state zero point */
      rn_svdf_set(state, (b * F + f) * M + M - 1,
                  rn_svdf_saturate(acc, wide) + p->state_zero_point, wide);
    }
  }
  for (b = 0; b < p->batches; ++b) {
    for (f = 0; f < F; ++f) {
      int32_t acc = 0;
      for (j = 0; j < M; ++j) {
        acc = rn_add_wrap(acc, rn_svdf_get(weights_time, f * M + j, wide) *
                                   (rn_svdf_get(state, (b * F + f) * M + j, wide) -
                                    p->state_zero_point));
      }
      filter_sums[b * F + f] = acc;
    }
  }
  for (b = 0; b < p->batches; ++b) {
    for (i = 0; i < U; ++i) {
      int32_t acc = bias ? bias[i] : 0;
      for (j = 0; j < p->rank; ++j) acc = rn_add_wrap(acc, filter_sums[b * F + i * p->rank + j]);
      acc = rn_MultiplyByQuantizedMultiplier(acc, p->time_multiplier, p->time_shift);
      output[b * U + i] = (int8_t)rn_clamp(rn_add_wrap(acc, p->output_zero_point), -128, 127);
    }
  }
  return RN_OK;
}
