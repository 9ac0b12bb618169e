/* CUMSUM, int8: TFLM's reference_ops::CumSum (ArithmeticParams).  Each value
 * is rescaled as an ADD input ((x - zp) << 20, times the input multiplier,
 * shift), summed along the axis (forwards or reversed, inclusive or
 * exclusive) and rescaled to the output.  As in TFLM the running sum starts
 * at the rescaled input offset, not at 0, and TFLM's dim naming is kept:
 * `inner` counts the dims before the axis, `outer` those after it. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

int rn_cumsum(const rn_cumsum_params *p, const int8_t *input, int8_t *output) {
  int32_t oi, ii, di;
  const int32_t inner = p->inner, depth = p->depth, outer = p->outer;
  if (inner < 0 || depth < 0 || outer < 0 || p->left_shift < 0 || p->left_shift > 30 ||
      p->input_shift > 0 || p->input_shift < -31 || p->output_shift > 0 ||
      p->output_shift < -31) {
    return RN_BAD_PARAMS;
  }
  for (oi = 0; oi < outer; ++oi) {
    const int32_t o = p->reverse ? outer - 1 - oi : oi;
    for (ii = 0; ii < inner; ++ii) {
      const int32_t i = p->reverse ? inner - 1 - ii : ii;
      int32_t acc = rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
          rn_shl(p->input_offset, p->left_shift), p->input_multiplier, p->input_shift);
      for (di = 0; di < depth; ++di) {
        const int32_t d = p->reverse ? depth - 1 - di : di;
        const int64_t index = o + (int64_t)i * depth * outer + (int64_t)d * outer;
        const int32_t y = rn_shl(p->input_offset + input[index], p->left_shift);
        const int32_t scaled = rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
            y, p->input_multiplier, p->input_shift);
        int32_t out;
        if (p->exclusive) {
          out = acc;
          acc = rn_add_wrap(acc, scaled);
        } else {
          acc = rn_add_wrap(acc, scaled);
          out = acc;
        }
        out = rn_add_wrap(rn_MultiplyByQuantizedMultiplierSmallerThanOneExp(
                              out, p->output_multiplier, p->output_shift),
                          p->output_offset);
        output[index] = (int8_t)rn_clamp(out, p->activation_min, p->activation_max);
      }
    }
  }
  return RN_OK;
}
