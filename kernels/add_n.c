/* ADD_N, int8: TFLM's add_n.cc -> reference_ops::AddN (ArithmeticParams).
 * Every input shares one quantisation (TFLM requires it); each value is
 * rescaled as an ADD input ((x - zp) << 20, input multiplier and shift),
 * summed over the inputs starting from the rescaled input offset, as TFLM
 * does, rescaled to the output and clamped. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_add_n(const rn_add_n_params *p, const int8_t *const *inputs, int8_t *output) {
  int32_t i, j;
  if (p->size < 0 || p->num_inputs < 1 || p->left_shift < 0 || p->left_shift > 30 ||
      p->input_shift > 0 || p->input_shift < -31 || p->output_shift > 0 ||
      p->output_shift < -31) {
    return RN_BAD_PARAMS;
  }
  for (i = 0; i < p->size; ++i) {
    int32_t acc = rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
        rn_shl(p->input_offset, p->left_shift), p->input_multiplier, p->input_shift);
    int32_t out;
    for (j = 0; j < p->num_inputs; ++j) {
      const int32_t y = rn_shl(p->input_offset + inputs[j][i], p->left_shift);
      acc = rn_add_wrap(acc, rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
                                 y, p->input_multiplier, p->input_shift));
    }
    out = rn_add_wrap(rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
                          acc, p->output_multiplier, p->output_shift),
                      p->output_offset);
    output[i] = (int8_t)rn_clamp(out, p->activation_min, p->activation_max);
  }
  return RN_OK;
}
