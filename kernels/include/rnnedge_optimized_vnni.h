/* AVX-512 VNNI inner loops of the optimised CONV_2D and FULLY_CONNECTED
 * (kernels/optimized/conv_2d.c, fully_connected.c), compiled when the host
 * build's -march=native gives __AVX512VNNI__ and __AVX512BW__ (RN_X86_VNNI);
 * without them (other x86 CPUs, -march=x86-64, Arm) the kernels keep their
 * portable 16-bit loops, which stay tested.
 *
 * vpdpbusd adds four u8 x s8 products into each of 16 int32 lanes (64 MACs
 * per instruction).  The reference's sum(f * (x + offset)) has a signed
 * 9-bit factor, so the activations are shifted to u8 instead:
 *   f * (x + offset) = f * (x + 128) + (offset - 128) * f,
 * x + 128 = x ^ 0x80 is a u8, and the second term summed over the filter is
 * one constant per output channel, (offset - 128) * sum(f), computed when
 * the filters are packed.  A padded tap (the reference skips it) holds the
 * u8 value 128 - offset, which cancels its share of that constant:
 * f * (128 - offset) + (offset - 128) * f = 0.  So offsets in [-127, 128]
 * (every int8 zero point) take this path (rn_vnni_offset_ok).  vpdpbusd's
 * lanes wrap modulo 2^32 (no saturation, no undefined behaviour) and the
 * constant is added modulo 2^32, so any order of the additions gives the
 * reference's wrapping bits exactly.
 *
 * CONV_2D (oneDNN's / XNNPACK's layout): for a block of up to 64 output
 * channels the filters are packed once per call into [depth / 4][channels][4]
 * bytes (zeros past the end), so one 64-byte load holds 4 taps of 16
 * channels; per group of 4 output pixels the receptive fields are gathered
 * into u8 columns, and each 4-byte group of a column is broadcast (embedded
 * in vpdpbusd) against up to 4 filter vectors: 16 accumulators, one output
 * pixel's channels per vector, requantised per channel afterwards.
 * FULLY_CONNECTED: the input row converted to u8 once, 4 filter rows per pass
 * over it, sum(f) by vpdpbusd with a vector of ones, masked tails.
 * DEPTHWISE_CONV_2D's AVX-512 path is in rnnedge_optimized_vnni_depthwise.h.
 * All three requantise 16 channels per vector (rn_vnni_requantize, the
 * portable lanes' arithmetic).
 * May include: the C library, immintrin.h and the kernel headers.
 */
#ifndef RNNEDGE_OPTIMIZED_VNNI_H
#define RNNEDGE_OPTIMIZED_VNNI_H

#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512F__)
#define RN_X86_VNNI 1

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "rnnedge_kernels.h"
#include "rnnedge_optimized.h"

#define RN_VNNI_VECTORS 4  /* 16-channel filter vectors per block */
#define RN_VNNI_PIXELS 8   /* most output pixels per pass over a filter block */
#define RN_VNNI_FC_CHUNK 4096 /* input bytes converted to u8 at a time */
/* The longest filter (H*W*C) of the packed path; it takes 64 * RN_VNNI_DEPTH
 * bytes of stack for the packed block (144 KiB) plus 8 * RN_VNNI_DEPTH for the columns. */
#ifndef RN_VNNI_DEPTH
#define RN_VNNI_DEPTH 2304
#endif

static inline int rn_vnni_offset_ok(int32_t offset) {
  return offset >= -127 && offset <= 128;
}

/* The first n (> 0) of 64 bytes. */
static inline __mmask64 rn_vnni_mask(int32_t n) {
  return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

/* Filters 0..n-1 (n <= 16 * vectors) of length depth, packed as
 * [depth4][16 * vectors][4] (zeros past n and depth): one masked dword
 * gather per 4 taps of 16 filters, the last partial group copied per
 * filter; correction[c] = (offset - 128) * sum(filter c) modulo 2^32, the
 * sums by vpdpbusd of the packed bytes with ones. */
static inline void rn_vnni_pack(const int8_t *filter, int32_t depth, int32_t depth4,
                                int32_t n, int32_t vectors, int32_t offset,
                                int8_t *packed, uint32_t *correction) {
  const __m512i rows = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(depth));
  const __m512i ones = _mm512_set1_epi8(1);
  const __m512i scale = _mm512_set1_epi32((int32_t)((uint32_t)offset - 128u));
  int32_t v, k, c;
  for (v = 0; v < vectors; ++v) {
    const int32_t left = n - 16 * v;
    const __mmask16 lanes = (__mmask16)(left >= 16 ? 0xFFFF : (1u << left) - 1u);
    const int8_t *base = filter + 16 * v * depth;
    __m512i sum = _mm512_setzero_si512();
    for (k = 0; k < depth / 4; ++k) {
      const __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), lanes, rows,
                                                    base + 4 * k, 1);
      _mm512_storeu_si512((void *)(packed + (k * vectors + v) * 64), g);
      sum = _mm512_dpbusd_epi32(sum, ones, g);
    }
    if (k < depth4) { /* the last, partial group of 4 taps */
      int8_t words[64];
      __m512i g;
      memset(words, 0, sizeof words);
      for (c = 0; c < 16 && c < left; ++c) {
        memcpy(words + 4 * c, base + c * depth + 4 * k, (size_t)(depth - 4 * k));
      }
      g = _mm512_loadu_si512((const void *)words);
      _mm512_storeu_si512((void *)(packed + (k * vectors + v) * 64), g);
      sum = _mm512_dpbusd_epi32(sum, ones, g);
    }
    _mm512_storeu_si512((void *)(correction + 16 * v), _mm512_mullo_epi32(sum, scale));
  }
}

/* One output pixel's receptive field as u8: x + 128 at valid taps, 128 -
 * offset at padded ones, zeros up to 4 * depth4 (masked 64-byte moves). */
static inline void rn_vnni_gather(const rn_conv_2d_params *p, const int8_t *in_b,
                                  int32_t in_y_origin, int32_t in_x_origin,
                                  int32_t depth4, uint8_t *column) {
  const int32_t depth = p->input_depth;
  const __m512i pad = _mm512_set1_epi8((char)(128 - p->input_offset));
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  int32_t fy, fx, c, t = 0;
  for (fy = 0; fy < p->filter_height; ++fy) {
    const int32_t in_y = in_y_origin + p->dilation_height * fy;
    for (fx = 0; fx < p->filter_width; ++fx, t += depth) {
      const int32_t in_x = in_x_origin + p->dilation_width * fx;
      const int valid = in_y >= 0 && in_y < p->input_height && in_x >= 0 &&
                        in_x < p->input_width;
      const int8_t *x =
          valid ? in_b + (in_y * p->input_width + in_x) * depth : in_b;
      for (c = 0; c < depth; c += 64) {
        const __mmask64 m = rn_vnni_mask(depth - c);
        const __m512i v = valid ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + c), flip)
                                : pad;
        _mm512_mask_storeu_epi8(column + t + c, m, v);
      }
    }
  }
  if (t < 4 * depth4) {
    _mm512_mask_storeu_epi8(column + t, rn_vnni_mask(4 * depth4 - t),
                            _mm512_setzero_si512());
  }
}

/* The per-channel constants of rn_vnni_requantize for 16 channels. */
typedef struct {
  __m512i bias, multiplier, left, right, mask, half;
  __mmask16 lanes;
} rn_vnni_rescale;

/* Channels [0, n) (n > 0; lanes past 16 ignored) of bias (may be NULL),
 * multiplier and shift. */
static inline rn_vnni_rescale rn_vnni_rescale_of(const int32_t *bias,
                                                 const int32_t *multiplier,
                                                 const int32_t *shift,
                                                 int32_t n) {
  rn_vnni_rescale r;
  const __m512i zero = _mm512_setzero_si512();
  __m512i sh;
  r.lanes = (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1u);
  r.bias = bias ? _mm512_maskz_loadu_epi32(r.lanes, bias) : zero;
  r.multiplier = _mm512_maskz_loadu_epi32(r.lanes, multiplier);
  sh = _mm512_maskz_loadu_epi32(r.lanes, shift);
  r.left = _mm512_max_epi32(sh, zero);
  r.right = _mm512_max_epi32(_mm512_sub_epi32(zero, sh), zero);
  r.mask = _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), r.right),
                            _mm512_set1_epi32(1));
  r.half = _mm512_srai_epi32(r.mask, 1);
  return r;
}

/* out[i] = x[i] + 128 as u8, i < n. */
static inline void rn_vnni_flip(const int8_t *x, int32_t n, uint8_t *out) {
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  int32_t i;
  for (i = 0; i < n; i += 64) {
    const __mmask64 m = rn_vnni_mask(n - i);
    _mm512_mask_storeu_epi8(out + i, m,
                            _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), flip));
  }
}

/* TFLM's MultiplyByQuantizedMultiplier, bias, output offset and clamp of 16
 * int32 lanes (the lanes of rn_requantize_lanes, in AVX-512): SRDHM on the
 * even and the odd lanes as 64-bit products, its saturating case, then the
 * rounding shift with ties away from zero; r.lanes int8 stored. */
static inline void rn_vnni_requantize(__m512i acc, const rn_vnni_rescale *r,
                                      int32_t output_offset, int32_t act_min,
                                      int32_t act_max, int8_t *out) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i min32 = _mm512_set1_epi32(INT32_MIN);
  const __m512i nudge_pos = _mm512_set1_epi64((int64_t)1 << 30);
  const __m512i nudge_neg = _mm512_set1_epi64(1 - ((int64_t)1 << 30));
  const __m512i round_neg = _mm512_set1_epi64(((int64_t)1 << 31) - 1);
  const __m512i one = _mm512_set1_epi32(1);
  __m512i x, ab[2], q, threshold, v;
  int32_t h;
  x = _mm512_sllv_epi32(_mm512_add_epi32(acc, r->bias), r->left);
  ab[0] = _mm512_mul_epi32(x, r->multiplier);
  ab[1] = _mm512_mul_epi32(_mm512_srli_epi64(x, 32),
                           _mm512_srli_epi64(r->multiplier, 32));
  for (h = 0; h < 2; ++h) {
    const __mmask8 neg = _mm512_cmplt_epi64_mask(ab[h], zero);
    __m512i t = _mm512_add_epi64(ab[h], _mm512_mask_blend_epi64(neg, nudge_pos, nudge_neg));
    t = _mm512_mask_add_epi64(t, _mm512_cmplt_epi64_mask(t, zero), t, round_neg);
    ab[h] = _mm512_srai_epi64(t, 31);
  }
  q = _mm512_mask_blend_epi32(0xAAAA, ab[0], _mm512_slli_epi64(ab[1], 32));
  q = _mm512_mask_mov_epi32(q, _mm512_cmpeq_epi32_mask(x, min32) &
                                   _mm512_cmpeq_epi32_mask(r->multiplier, min32),
                            _mm512_set1_epi32(INT32_MAX));
  threshold = _mm512_mask_add_epi32(r->half, _mm512_cmplt_epi32_mask(q, zero),
                                    r->half, one);
  v = _mm512_srav_epi32(q, r->right);
  v = _mm512_mask_add_epi32(
      v, _mm512_cmpgt_epi32_mask(_mm512_and_si512(q, r->mask), threshold), v, one);
  v = _mm512_add_epi32(v, _mm512_set1_epi32(output_offset));
  v = _mm512_max_epi32(v, _mm512_set1_epi32(act_min));
  v = _mm512_min_epi32(v, _mm512_set1_epi32(act_max));
  _mm_mask_storeu_epi8(out, r->lanes, _mm512_cvtepi32_epi8(v));
}

/* Output channels oc0.. (n of them, `vectors` 16-channel vectors of the
 * packed block) of `pixels` gathered columns (the first np stored, at
 * out + j * p->output_depth): correction + the columns' dot products with
 * the packed filters, then requantised.  vectors and pixels are constants
 * after inlining, so the accumulators stay in registers. */
static inline __attribute__((always_inline)) void rn_vnni_tile(
    const rn_conv_2d_params *p, const uint8_t *columns, int32_t depth4,
    const int8_t *packed, const uint32_t *correction, int32_t vectors,
    int32_t pixels, int32_t np, const rn_vnni_rescale *rescale, int32_t oc0,
    int8_t *out) {
  __m512i acc[RN_VNNI_PIXELS][RN_VNNI_VECTORS];
  int32_t j, v, k;
  for (v = 0; v < vectors; ++v) {
    const __m512i c = _mm512_loadu_si512((const void *)(correction + 16 * v));
    for (j = 0; j < pixels; ++j) acc[j][v] = c;
  }
  for (k = 0; k < depth4; ++k) {
    __m512i w[RN_VNNI_VECTORS];
    for (v = 0; v < vectors; ++v) {
      w[v] = _mm512_loadu_si512((const void *)(packed + (k * vectors + v) * 64));
    }
    for (j = 0; j < pixels; ++j) {
      int32_t word;
      __m512i x;
      memcpy(&word, columns + (j * depth4 + k) * 4, 4);
      x = _mm512_set1_epi32(word);
      for (v = 0; v < vectors; ++v) acc[j][v] = _mm512_dpbusd_epi32(acc[j][v], x, w[v]);
    }
  }
  for (j = 0; j < np; ++j) {
    for (v = 0; v < vectors; ++v) {
      rn_vnni_requantize(acc[j][v], rescale + v, p->output_offset,
                         p->activation_min, p->activation_max,
                         out + j * p->output_depth + oc0 + 16 * v);
    }
  }
}

/* 1 when rn_vnni_conv takes these params (else the portable paths do). */
static inline int rn_vnni_conv_applies(const rn_conv_2d_params *p) {
  return p->input_depth == p->filter_input_depth &&
         rn_vnni_offset_ok(p->input_offset) &&
         p->filter_height * p->filter_width * p->input_depth <= RN_VNNI_DEPTH;
}

/* CONV_2D without groups (see the top of the file).  Pixels per tile: 8
 * with one filter vector, 6 with two, 4 with three or four (8-16
 * accumulators). */
static inline void rn_vnni_conv(const rn_conv_2d_params *p, const int8_t *input,
                                const int8_t *filter, const int32_t *bias,
                                int8_t *output) {
  int8_t packed[RN_VNNI_DEPTH * 16 * RN_VNNI_VECTORS] __attribute__((aligned(64)));
  uint8_t columns[RN_VNNI_PIXELS * RN_VNNI_DEPTH];
  uint32_t correction[16 * RN_VNNI_VECTORS];
  const int32_t depth = p->filter_height * p->filter_width * p->input_depth;
  const int32_t depth4 = (depth + 3) / 4;
  const int32_t pixels = p->output_height * p->output_width;
  const int32_t block = 16 * RN_VNNI_VECTORS;
  /* 1x1, stride 1, no padding, whole 4-byte groups: no gather needed */
  const int pointwise = p->filter_height == 1 && p->filter_width == 1 &&
                        p->stride_height == 1 && p->stride_width == 1 &&
                        p->pad_height == 0 && p->pad_width == 0 &&
                        depth % 4 == 0 && p->output_width == p->input_width &&
                        p->output_height <= p->input_height;
  int32_t oc0, b, px0, j;
  for (oc0 = 0; oc0 < p->output_depth; oc0 += block) {
    const int32_t n = p->output_depth - oc0 < block ? p->output_depth - oc0 : block;
    const int32_t vectors = (n + 15) / 16;
    const int32_t tile = vectors == 1 ? 8 : vectors == 2 ? 6 : 4;
    rn_vnni_rescale rescale[RN_VNNI_VECTORS];
    rn_vnni_pack(filter + oc0 * depth, depth, depth4, n, vectors,
                 p->input_offset, packed, correction);
    for (j = 0; j < vectors; ++j) {
      const int32_t c = oc0 + 16 * j;
      rescale[j] = rn_vnni_rescale_of(bias ? bias + c : bias, p->output_multiplier + c,
                                      p->output_shift + c, n - 16 * j);
    }
    for (b = 0; b < p->batches; ++b) {
      const int8_t *in_b =
          input + b * p->input_height * p->input_width * p->input_depth;
      int8_t *out_b = output + b * pixels * p->output_depth;
      for (px0 = 0; px0 < pixels; px0 += tile) {
        const int32_t np = pixels - px0 < tile ? pixels - px0 : tile;
        int8_t *out = out_b + px0 * p->output_depth;
        if (pointwise) { /* the tile's columns are consecutive input pixels */
          rn_vnni_flip(in_b + px0 * depth, np * depth, columns);
          memset(columns + np * depth, 0, (size_t)((tile - np) * depth));
        } else for (j = 0; j < tile; ++j) {
          /* a short last group repeats its last pixel (computed, not stored) */
          const int32_t px = px0 + (j < np ? j : np - 1);
          const int32_t oy = px / p->output_width, ox = px % p->output_width;
          rn_vnni_gather(p, in_b, oy * p->stride_height - p->pad_height,
                         ox * p->stride_width - p->pad_width, depth4,
                         columns + j * 4 * depth4);
        }
        switch (vectors) { /* constant counts: registers, unrolled loops */
          case 1: rn_vnni_tile(p, columns, depth4, packed, correction, 1, 8, np, rescale, oc0, out); break;
          case 2: rn_vnni_tile(p, columns, depth4, packed, correction, 2, 6, np, rescale, oc0, out); break;
          case 3: rn_vnni_tile(p, columns, depth4, packed, correction, 3, 4, np, rescale, oc0, out); break;
          default: rn_vnni_tile(p, columns, depth4, packed, correction, 4, 4, np, rescale, oc0, out); break;
        }
      }
    }
  }
}

/* acc[k] += sum_i f[k * f_stride + i] * (x[i] + offset) for 4 rows (rows
 * past `rows` repeat the last, computed and dropped), offset in [-127, 128]. */
static inline void rn_vnni_dot_rows(const int8_t *x, const int8_t *f,
                             int32_t f_stride, int32_t rows, int32_t n,
                             int32_t offset, uint32_t *out) {
  uint8_t xu[RN_VNNI_FC_CHUNK];
  const int8_t *r[4];
  __m512i acc[4], sum[4];
  const __m512i ones = _mm512_set1_epi8(1);
  int32_t k, start, i;
  for (k = 0; k < 4; ++k) {
    r[k] = f + (k < rows ? k : rows - 1) * f_stride;
    acc[k] = _mm512_setzero_si512();
    sum[k] = _mm512_setzero_si512();
  }
  for (start = 0; start < n; start += RN_VNNI_FC_CHUNK) {
    const int32_t len = n - start < RN_VNNI_FC_CHUNK ? n - start : RN_VNNI_FC_CHUNK;
    rn_vnni_flip(x + start, len, xu);
    for (i = 0; i < len; i += 64) {
      const __mmask64 m = len - i >= 64 ? ~(__mmask64)0
                                        : (((__mmask64)1 << (len - i)) - 1);
      const __m512i xv = _mm512_maskz_loadu_epi8(m, xu + i);
      for (k = 0; k < 4; ++k) {
        const __m512i fv = _mm512_maskz_loadu_epi8(m, r[k] + start + i);
        acc[k] = _mm512_dpbusd_epi32(acc[k], xv, fv);
        sum[k] = _mm512_dpbusd_epi32(sum[k], ones, fv);
      }
    }
  }
  for (k = 0; k < rows; ++k) {
    out[k] += (uint32_t)_mm512_reduce_add_epi32(acc[k]) +
              (uint32_t)_mm512_reduce_add_epi32(sum[k]) * ((uint32_t)offset - 128u);
  }
}

#endif /* AVX-512 VNNI */
#endif /* RNNEDGE_OPTIMIZED_VNNI_H */
