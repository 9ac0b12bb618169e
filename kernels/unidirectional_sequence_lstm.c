/* UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations x int8 weights -> int16 cell
 * (rn_unidirectional_sequence_lstm), and the 16x8 variant with int16
 * activations and int64 biases (rn_unidirectional_sequence_lstm_int16):
 * TFLM's integer LstmStep (lstm_eval.h / lstm_eval.cc), the standard LSTM its
 * kernel accepts (no peephole, projection or layer norm).  Per time step:
 *   each gate = act(FC(x_t) + FC(h)) (sigmoid; tanh for the cell gate, the
 *     only cell activation a TFLite flatbuffer can name), the FCs accumulated
 *     in int32 (int8 data) or int64 (int16 data) and rescaled to int16 Q3.12
 *     (the input FC adds the gate bias), added with int16 saturation; sigmoid
 *     and tanh are TFLM's int16 LUT activations (Q0.15 out);
 *   cell = sat(forget * cell) + sat(input * cell_gate), then clipped;
 *   hidden = tanh(cell) * output gate, requantised to the activation type (the
 *     output state);
 *   the hidden state is copied to the output at the step's offset.
 * Time-major inputs ([time, batch, input]) run the batch together; batch-major
 * ones run batch by batch, each over its own slice of the states, as TFLM does.
 * The states are the caller's variable tensors, read and updated in place. */
#include <string.h>

#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"

/* TFLM's sigmoid_table_uint16: sigmoid(i / 24) in 0.16 fixed point (also used
 * for tanh(x) = 2 sigmoid(2x) - 1). */
static const uint16_t rn_sigmoid_table_uint16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535};

static int32_t rn_abs32(int32_t x) { return x < 0 ? -x : x; }

/* TFLM reference_integer_ops::Logistic (int16, Q3.12 in, Q0.15 out) with its
 * power-of-two input (multiplier 3, no shift). */
static void rn_lstm_sigmoid(int32_t n, int16_t *data) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t x = (int32_t)data[i] * 3;
    const uint32_t a = (uint32_t)rn_abs32(x);
    const uint32_t uh = a >> 9;
    uint32_t r;
    if (uh >= 255) {
      r = 0x7FFFu << 10;
    } else {
      const uint32_t ua = rn_sigmoid_table_uint16[uh];
      const uint32_t ub = rn_sigmoid_table_uint16[uh + 1];
      r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    data[i] = (int16_t)(r >> 10);
  }
}

/* TFLM reference_integer_ops::Tanh (int16): the input is rescaled by
 * (x * multiplier + round) >> shift (TFLM's power-of-two rewrite already
 * applied), then interpolated in the sigmoid table; Q0.15 out. */
static void rn_lstm_tanh(int32_t multiplier, int32_t shift, int32_t n,
                         const int16_t *in, int16_t *out) {
  const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t x = ((int32_t)in[i] * multiplier + round) >> shift;
    const uint32_t a = (uint32_t)rn_abs32(x);
    const uint32_t uh = a >> 8;
    int32_t r;
    if (uh >= 255) {
      r = 0xFFFF << 8;
    } else {
      const uint32_t ua = rn_sigmoid_table_uint16[uh];
      const uint32_t ub = rn_sigmoid_table_uint16[uh + 1];
      r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    out[i] = (int16_t)(r >> 8);
  }
}

static int16_t rn_sat16(int32_t x) { return (int16_t)rn_clamp(x, -32768, 32767); }

/* TFLM MultiplyByQuantizedMultiplier(int64 x, ...): the multiplier rounded to
 * 16 bits, one rounding shift (the int64 product wraps instead of overflowing). */
static int32_t rn_lstm_multiply64(int64_t x, int32_t multiplier, int32_t shift) {
  const int64_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
  const int32_t total_shift = 15 - shift;
  const int64_t product = (int64_t)((uint64_t)x * (uint64_t)reduced);
  const int64_t rounded = (int64_t)((uint64_t)product + ((uint64_t)1 << (total_shift - 1)));
  return (int32_t)(rounded >> total_shift);
}

/* The activations of one LSTM step: exactly one of each *8 / *16 pair is set
 * (int8 activations with int32 biases, or int16 ones with int64 biases). */
typedef struct {
  const rn_unidirectional_sequence_lstm_params *p;
  const int8_t *x8;
  const int16_t *x16;
  const int8_t *h8;
  const int16_t *h16;
  const int32_t *b32;
  const int64_t *b64;
  int32_t rows;
} rn_lstm_step;

/* reference_integer_ops::FullyConnected into int16 (no output offset): of the
 * step's input (`depth` wide, with bias `gate`) or, when `recurrent`, of its
 * hidden state (no bias); int32 accumulators for int8 data, int64 for int16. */
static void rn_lstm_fc(const rn_lstm_step *s, int recurrent, const int8_t *w, int32_t gate,
                       int32_t w_offset, int32_t multiplier, int32_t shift, int16_t *out) {
  const rn_unidirectional_sequence_lstm_params *p = s->p;
  const int32_t depth = recurrent ? p->state_depth : p->input_depth;
  const int32_t x_offset = recurrent ? p->hidden_offset : p->input_offset;
  const int8_t *x8 = recurrent ? s->h8 : s->x8;
  const int16_t *x16 = recurrent ? s->h16 : s->x16;
  const int32_t units = p->state_depth;
  int32_t r, u, d;
  for (r = 0; r < s->rows; ++r) {
    for (u = 0; u < units; ++u) {
      const int8_t *wr = w + u * depth;
      int32_t y;
      if (x8) {
        int32_t acc = 0;
        for (d = 0; d < depth; ++d) {
          acc = rn_add_wrap(acc, ((int32_t)wr[d] + w_offset) *
                                     ((int32_t)x8[r * depth + d] + x_offset));
        }
        if (!recurrent) acc = rn_add_wrap(acc, s->b32[gate * units + u]);
        y = rn_MultiplyByQuantizedMultiplier(acc, multiplier, shift);
      } else {
        int64_t acc = 0;
        for (d = 0; d < depth; ++d) {
          acc += (int64_t)(((int32_t)wr[d] + w_offset) * ((int32_t)x16[r * depth + d] + x_offset));
        }
        if (!recurrent) acc = (int64_t)((uint64_t)acc + (uint64_t)s->b64[gate * units + u]);
        y = rn_lstm_multiply64(acc, multiplier, shift);
      }
      out[r * units + u] = rn_sat16(y);
    }
  }
}

/* Gate `gate` (0 input, 1 forget, 2 cell, 3 output): act(FC(x) + FC(h)) into
 * `out`, `tmp` holding the recurrent FC. */
static void rn_lstm_gate(const rn_lstm_step *s, const rn_lstm_gate_params *g, int32_t gate,
                         const int8_t *weights, int sigmoid, int16_t *out, int16_t *tmp) {
  const rn_unidirectional_sequence_lstm_params *p = s->p;
  const int32_t S = p->state_depth, I = p->input_depth;
  const int32_t n = s->rows * S;
  int32_t i;
  rn_lstm_fc(s, 0, weights + gate * S * I, gate, g->input_weights_offset, g->input_multiplier,
             g->input_shift, out);
  rn_lstm_fc(s, 1, weights + 4 * S * I + gate * S * S, gate, g->recurrent_weights_offset,
             g->recurrent_multiplier, g->recurrent_shift, tmp);
  for (i = 0; i < n; ++i) out[i] = rn_sat16((int32_t)out[i] + tmp[i]);
  if (sigmoid) {
    rn_lstm_sigmoid(n, out);
  } else {
    rn_lstm_tanh(3, 0, n, out, out); /* Q3.12 input: TFLM's scale power -12 */
  }
}

static void rn_lstm_mul16(int32_t n, const int16_t *a, const int16_t *b,
                          int32_t multiplier, int32_t shift, int16_t *out) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    out[i] = rn_sat16(rn_MultiplyByQuantizedMultiplier((int32_t)a[i] * b[i], multiplier, shift));
  }
}

/* TFLM's EvalLstm over both activation types (see the file comment). */
static int rn_lstm_eval(const rn_unidirectional_sequence_lstm_params *p, rn_lstm_step s,
                        const int8_t *weights, int8_t *h8, int16_t *h16, int16_t *cell_state,
                        int16_t *scratch, int8_t *out8, int16_t *out16) {
  const int32_t S = p->state_depth, I = p->input_depth;
  const int32_t rows = p->time_major ? p->batches : 1;
  const int32_t groups = p->time_major ? 1 : p->batches;
  const int32_t buffer = p->batches * S;
  const int32_t lo = h8 ? -128 : -32768, hi = h8 ? 127 : 32767;
  int16_t *forget = scratch, *in_gate = scratch + buffer, *cell_gate = scratch + 2 * buffer;
  int16_t *tmp = scratch + 3 * buffer;
  const int8_t *x8 = s.x8;
  const int16_t *x16 = s.x16;
  int32_t b, t, i;
  if (p->batches < 0 || p->time_steps < 0 || I < 0 || S < 0 || p->cell_tanh_shift < 0 ||
      p->cell_tanh_shift > 30 || p->cell_clip < 0 || p->cell_clip > 32767) {
    return RN_BAD_PARAMS;
  }
  s.rows = rows;
  for (b = 0; b < groups; ++b) {
    int16_t *cell = cell_state + b * S;
    s.h8 = h8 ? h8 + b * S : NULL;
    s.h16 = h16 ? h16 + b * S : NULL;
    for (t = 0; t < p->time_steps; ++t) {
      const int32_t step = p->time_major ? t : b * p->time_steps + t;
      const int32_t n = rows * S;
      s.x8 = x8 ? x8 + step * rows * I : NULL;
      s.x16 = x16 ? x16 + step * rows * I : NULL;
      rn_lstm_gate(&s, &p->forget_gate, 1, weights, 1, forget, tmp);
      rn_lstm_gate(&s, &p->input_gate, 0, weights, 1, in_gate, tmp);
      rn_lstm_gate(&s, &p->cell_gate, 2, weights, 0, cell_gate, tmp);
      /* cell = forget * cell + input * cell_gate (each product saturated), clipped */
      rn_lstm_mul16(n, forget, cell, p->forget_cell_multiplier, p->forget_cell_shift, cell);
      rn_lstm_mul16(n, in_gate, cell_gate, p->input_cell_multiplier, p->input_cell_shift,
                    in_gate);
      for (i = 0; i < n; ++i) {
        int32_t c = (int32_t)cell[i] + in_gate[i];
        c = rn_clamp(c, -32768, 32767);
        if (p->use_cell_clip) c = rn_clamp(c, -p->cell_clip, p->cell_clip);
        cell[i] = (int16_t)c;
      }
      /* hidden = tanh(cell) * output gate, requantised to the activation type */
      rn_lstm_gate(&s, &p->output_gate, 3, weights, 1, in_gate, tmp);
      rn_lstm_tanh(p->cell_tanh_multiplier, p->cell_tanh_shift, n, cell, forget);
      for (i = 0; i < n; ++i) {
        const int32_t h = rn_clamp(
            rn_add_wrap(rn_MultiplyByQuantizedMultiplier((int32_t)forget[i] * in_gate[i],
                                                         p->hidden_multiplier, p->hidden_shift),
                        p->hidden_zero_point), lo, hi);
        if (h8) {
          h8[b * S + i] = (int8_t)h;
        } else {
          h16[b * S + i] = (int16_t)h;
        }
      }
      if (out8) {
        memcpy(out8 + step * n, h8 + b * S, (size_t)n);
      } else {
        memcpy(out16 + step * n, h16 + b * S, (size_t)n * sizeof(int16_t));
      }
    }
  }
  return RN_OK;
}

int rn_unidirectional_sequence_lstm(const rn_unidirectional_sequence_lstm_params *p,
                                    const int8_t *input, const int8_t *weights,
                                    const int32_t *biases, int8_t *output_state,
                                    int16_t *cell_state, int16_t *scratch,
                                    int8_t *output) {
  rn_lstm_step s = {0};
  s.p = p;
  s.x8 = input;
  s.b32 = biases;
  return rn_lstm_eval(p, s, weights, output_state, NULL, cell_state, scratch, output, NULL);
}

int rn_unidirectional_sequence_lstm_int16(const rn_unidirectional_sequence_lstm_params *p,
                                          const int16_t *input, const int8_t *weights,
                                          const int64_t *biases, int16_t *output_state,
                                          int16_t *cell_state, int16_t *scratch,
                                          int16_t *output) {
  const rn_lstm_gate_params *g[4];
  rn_lstm_step s = {0};
  int k;
  g[0] = &p->input_gate;
  g[1] = &p->forget_gate;
  g[2] = &p->cell_gate;
  g[3] = &p->output_gate;
  for (k = 0; k < 4; ++k) { /* the int64 rescale takes shifts up to 7 (TFLM asserts) */
    if (g[k]->input_shift > 7 || g[k]->recurrent_shift > 7) return RN_BAD_PARAMS;
  }
  s.p = p;
  s.x16 = input;
  s.b64 = biases;
  return rn_lstm_eval(p, s, weights, NULL, output_state, cell_state, scratch, NULL, output);
}
