/* CONV_2D, optimised: the bytes of ../conv_2d.c (TFLM's
 * reference_integer_ops::ConvPerChannel), computed faster.
 *
 * Per output pixel, without groups and with an input offset in int8 zero-point
 * range, the pixel's receptive field is gathered once into a 16-bit column
 * with the offset added and 0 at padded taps (which then add nothing, exactly
 * as the reference's skipped taps), laid out like one OHWI filter, so each
 * output channel is a single dot product of length H*W*C (CMSIS-NN's im2col,
 * four pixels at a time, on the stack); filters are widened to 16 bits
 * RN_CONV_ROWS at a time and both are zero-padded to whole vectors, and four
 * pixels by four output channels share each pass over the columns.
 * Otherwise the valid filter taps are found once per pixel (no bounds test in
 * the inner loop); with dilation_width 1 and no groups one filter row's valid
 * taps are one contiguous run in both the NHWC input and the filter.  Output
 * channels are computed four at a time (the input run is loaded once for four
 * filters) with 16-bit widening and int32 partial sums (rnnedge_optimized.h),
 * which the compiler vectorises; requantisation is per channel afterwards.
 * The input is read, and the output written, in the reference's order per
 * pixel, and the kernel never writes its input. */
#include "include/rnnedge_fixedpoint.h"
#include "include/rnnedge_kernels.h"
#include "include/rnnedge_optimized.h"
#include "include/rnnedge_optimized_vnni.h" /* AVX-512 VNNI hosts */

#define RN_CONV_BLOCK 4     /* output channels per dot-product pass */
#define RN_CONV_PIXELS 4    /* output pixels per pass over the filters */
#define RN_CONV_LANES 32    /* 16-bit lanes of the column padding */
/* Stack use of the column path: 2 * (RN_CONV_PIXELS + RN_CONV_ROWS) *
 * RN_CONV_COLUMN bytes (45 KiB on a host, 4.5 KiB on other Arm), on Cortex-M
 * with Helium or DSP 2 * RN_CONV_PIXELS * RN_CONV_COLUMN (4.5 KiB); both may
 * be set with -D.  RN_CONV_ROWS: filters widened at a time, a multiple of
 * RN_CONV_BLOCK; RN_CONV_COLUMN: the longest H*W*C taken, a multiple of
 * RN_CONV_LANES (longer filters take the run path). */
#if defined(RN_ARM_MVE) || defined(RN_ARM_DSP)
#define RN_CONV_DEFAULT_ROWS 4 /* unused: the Cortex-M path reads int8 filters */
#define RN_CONV_DEFAULT_COLUMN 576
#elif defined(__arm__) || defined(__aarch64__)
#define RN_CONV_DEFAULT_ROWS 4
#define RN_CONV_DEFAULT_COLUMN 288
#else
#define RN_CONV_DEFAULT_ROWS 16
#define RN_CONV_DEFAULT_COLUMN 1152
#endif
#ifndef RN_CONV_ROWS
#define RN_CONV_ROWS RN_CONV_DEFAULT_ROWS
#endif
#ifndef RN_CONV_COLUMN
#define RN_CONV_COLUMN RN_CONV_DEFAULT_COLUMN
#endif

/* The receptive field of one output pixel as a 16-bit column (see above). */
static void rn_gather_column(const rn_conv_2d_params *p, const int8_t *in_b,
                             int32_t in_y_origin, int32_t in_x_origin,
                             int16_t *column) {
  const int32_t depth = p->input_depth;
  const int16_t offset = (int16_t)p->input_offset;
  int32_t fy, fx, c;
  for (fy = 0; fy < p->filter_height; ++fy) {
    const int32_t in_y = in_y_origin + p->dilation_height * fy;
    for (fx = 0; fx < p->filter_width; ++fx) {
      const int32_t in_x = in_x_origin + p->dilation_width * fx;
      int16_t *col = column + (fy * p->filter_width + fx) * depth;
      if (in_y < 0 || in_y >= p->input_height || in_x < 0 ||
          in_x >= p->input_width) {
        for (c = 0; c < depth; ++c) col[c] = 0;
      } else {
        const int8_t *x = in_b + (in_y * p->input_width + in_x) * depth;
        for (c = 0; c < depth; ++c) col[c] = (int16_t)(x[c] + offset);
      }
    }
  }
}

#if defined(RN_ARM_MVE) || defined(RN_ARM_DSP)
/* The Cortex-M column path (CMSIS-NN's): each group of RN_CONV_PIXELS columns
 * is gathered once (in rn_column_order's layout) and serves every output
 * channel; the int8 filters are widened as they are read (VLDRB.S16 on
 * Helium, SXTB16 on DSP), so no filter copy is needed and the columns are
 * not gathered again per block of filters. */
static void rn_conv_columns(const rn_conv_2d_params *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias,
                            int8_t *output) {
  int16_t columns[RN_CONV_PIXELS * RN_CONV_COLUMN];
  const int32_t depth = p->filter_height * p->filter_width * p->input_depth;
  const int32_t pixels = p->output_height * p->output_width;
  int32_t b, oc, px0, j, k;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_b =
        input + b * p->input_height * p->input_width * p->input_depth;
    int8_t *out_b = output + b * pixels * p->output_depth;
    for (px0 = 0; px0 < pixels; px0 += RN_CONV_PIXELS) {
      const int32_t np =
          pixels - px0 < RN_CONV_PIXELS ? pixels - px0 : RN_CONV_PIXELS;
      for (j = 0; j < RN_CONV_PIXELS; ++j) {
        /* a short last group repeats its last pixel (computed, not stored) */
        const int32_t px = px0 + (j < np ? j : np - 1);
        const int32_t oy = px / p->output_width, ox = px % p->output_width;
        rn_gather_column(p, in_b, oy * p->stride_height - p->pad_height,
                         ox * p->stride_width - p->pad_width,
                         columns + j * depth);
        rn_column_order(columns + j * depth, depth);
      }
      for (oc = 0; oc < p->output_depth; oc += RN_CONV_BLOCK) {
        const int32_t rows = p->output_depth - oc < RN_CONV_BLOCK
                                 ? p->output_depth - oc
                                 : RN_CONV_BLOCK;
        uint32_t acc[RN_CONV_PIXELS * RN_CONV_BLOCK];
        for (k = 0; k < RN_CONV_PIXELS * RN_CONV_BLOCK; ++k) acc[k] = 0;
        if (rows == RN_CONV_BLOCK) {
          rn_dot4x4_col_f8(columns, depth, filter + oc * depth, depth, depth,
                           acc);
        } else {
          for (j = 0; j < np; ++j) {
            for (k = 0; k < rows; ++k) {
              acc[j * RN_CONV_BLOCK + k] = rn_dot1_col_f8(
                  columns + j * depth, filter + (oc + k) * depth, depth);
            }
          }
        }
        for (j = 0; j < np; ++j) {
          rn_requantize_block(acc + j * RN_CONV_BLOCK, bias ? bias + oc : bias,
                              rows, p->output_multiplier + oc,
                              p->output_shift + oc, 1, p->output_offset,
                              p->activation_min, p->activation_max,
                              out_b + (px0 + j) * p->output_depth + oc);
        }
      }
    }
  }
}
#else
/* The column path (see the top of the file): filters are widened to 16 bits
 * RN_CONV_ROWS at a time, columns and filters zero-padded to a multiple of
 * RN_CONV_LANES, so every dot product runs whole vectors. */
static void rn_conv_columns(const rn_conv_2d_params *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias,
                            int8_t *output) {
  int16_t columns[RN_CONV_PIXELS * RN_CONV_COLUMN];
  int16_t rows16[RN_CONV_ROWS * RN_CONV_COLUMN];
  const int32_t depth = p->filter_height * p->filter_width * p->input_depth;
  const int32_t column = (depth + RN_CONV_LANES - 1) / RN_CONV_LANES *
                         RN_CONV_LANES;
  const int32_t pixels = p->output_height * p->output_width;
  int32_t b, oc0, px0, oc, j, k;
  for (oc0 = 0; oc0 < p->output_depth; oc0 += RN_CONV_ROWS) {
    const int32_t nrows = p->output_depth - oc0 < RN_CONV_ROWS
                              ? p->output_depth - oc0
                              : RN_CONV_ROWS;
    for (j = 0; j < nrows; ++j) {
      const int8_t *f = filter + (oc0 + j) * depth;
      for (k = 0; k < depth; ++k) rows16[j * column + k] = f[k];
      for (; k < column; ++k) rows16[j * column + k] = 0;
    }
    for (b = 0; b < p->batches; ++b) {
      const int8_t *in_b =
          input + b * p->input_height * p->input_width * p->input_depth;
      int8_t *out_b = output + b * pixels * p->output_depth;
      for (px0 = 0; px0 < pixels; px0 += RN_CONV_PIXELS) {
        const int32_t np =
            pixels - px0 < RN_CONV_PIXELS ? pixels - px0 : RN_CONV_PIXELS;
        for (j = 0; j < RN_CONV_PIXELS; ++j) {
          /* a short last group repeats its last pixel (computed, not stored) */
          const int32_t px = px0 + (j < np ? j : np - 1);
          const int32_t oy = px / p->output_width, ox = px % p->output_width;
          rn_gather_column(p, in_b, oy * p->stride_height - p->pad_height,
                           ox * p->stride_width - p->pad_width,
                           columns + j * column);
          for (k = depth; k < column; ++k) columns[j * column + k] = 0;
        }
        for (oc = 0; oc < nrows; oc += RN_CONV_BLOCK) {
          const int32_t rows =
              nrows - oc < RN_CONV_BLOCK ? nrows - oc : RN_CONV_BLOCK;
          uint32_t acc[RN_CONV_PIXELS * RN_CONV_BLOCK];
          for (k = 0; k < RN_CONV_PIXELS * RN_CONV_BLOCK; ++k) acc[k] = 0;
          if (rows == RN_CONV_BLOCK) {
            rn_dot4x4_col(columns, column, rows16 + oc * column, column, column,
                          acc);
          } else {
            for (j = 0; j < np; ++j) {
              for (k = 0; k < rows; ++k) {
                acc[j * RN_CONV_BLOCK + k] = rn_dot1_col(
                    columns + j * column, rows16 + (oc + k) * column, column);
              }
            }
          }
          for (j = 0; j < np; ++j) {
            rn_requantize_block(
                acc + j * RN_CONV_BLOCK, bias ? bias + oc0 + oc : bias, rows,
                p->output_multiplier + oc0 + oc, p->output_shift + oc0 + oc, 1,
                p->output_offset, p->activation_min, p->activation_max,
                out_b + (px0 + j) * p->output_depth + oc0 + oc);
          }
        }
      }
    }
  }
}
#endif

int rn_conv_2d(const rn_conv_2d_params *p, const int8_t *input,
               const int8_t *filter, const int32_t *bias, int8_t *output) {
  int32_t b, oy, ox, g, oc, fy, fx;
  int32_t groups, filters_per_group, fid, filter_stride, contiguous, narrow;
  if (p->filter_input_depth <= 0 || p->output_depth <= 0 ||
      p->input_depth % p->filter_input_depth != 0 || p->stride_height <= 0 ||
      p->stride_width <= 0 || p->dilation_height <= 0 ||
      p->dilation_width <= 0 || p->activation_min > p->activation_max) {
    return RN_BAD_PARAMS;
  }
  groups = p->input_depth / p->filter_input_depth;
  if (p->output_depth % groups != 0) return RN_BAD_PARAMS;
  filters_per_group = p->output_depth / groups;
  fid = p->filter_input_depth;
  filter_stride = p->filter_height * p->filter_width * fid; /* one filter */
  contiguous = p->dilation_width == 1 && groups == 1;
  narrow = rn_offset_is_narrow(p->input_offset);
#if defined(RN_X86_VNNI)
  if (rn_vnni_conv_applies(p)) {
    rn_vnni_conv(p, input, filter, bias, output);
    return RN_OK;
  }
#endif
  if (groups == 1 && narrow && filter_stride <= RN_CONV_COLUMN) {
    rn_conv_columns(p, input, filter, bias, output);
    return RN_OK;
  }
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_b =
        input + b * p->input_height * p->input_width * p->input_depth;
    for (oy = 0; oy < p->output_height; ++oy) {
      const int32_t in_y_origin = oy * p->stride_height - p->pad_height;
      int32_t fy_lo, fy_hi;
      rn_valid_taps(in_y_origin, p->dilation_height, p->filter_height,
                    p->input_height, &fy_lo, &fy_hi);
      for (ox = 0; ox < p->output_width; ++ox) {
        const int32_t in_x_origin = ox * p->stride_width - p->pad_width;
        int8_t *out_px =
            output + ((b * p->output_height + oy) * p->output_width + ox) *
                         p->output_depth;
        int32_t fx_lo, fx_hi;
        rn_valid_taps(in_x_origin, p->dilation_width, p->filter_width,
                      p->input_width, &fx_lo, &fx_hi);
        for (g = 0; g < groups; ++g) {
          const int32_t oc_end = (g + 1) * filters_per_group;
          for (oc = g * filters_per_group; oc < oc_end; oc += RN_CONV_BLOCK) {
            const int32_t rows =
                oc_end - oc < RN_CONV_BLOCK ? oc_end - oc : RN_CONV_BLOCK;
            uint32_t acc[RN_CONV_BLOCK] = {0, 0, 0, 0};
            int32_t k;
            for (fy = fy_lo; fy < fy_hi; ++fy) {
              const int32_t in_y = in_y_origin + p->dilation_height * fy;
              const int8_t *in_row =
                  in_b + in_y * p->input_width * p->input_depth + g * fid;
              const int8_t *f_row =
                  filter + (oc * p->filter_height + fy) * p->filter_width * fid;
              if (contiguous) {
                if (fx_hi > fx_lo) {
                  rn_dot_rows(in_row + (in_x_origin + fx_lo) * p->input_depth,
                              f_row + fx_lo * fid, filter_stride, rows,
                              (fx_hi - fx_lo) * fid, p->input_offset, 0,
                              narrow, acc);
                }
              } else {
                for (fx = fx_lo; fx < fx_hi; ++fx) {
                  const int32_t in_x = in_x_origin + p->dilation_width * fx;
                  rn_dot_rows(in_row + in_x * p->input_depth, f_row + fx * fid,
                              filter_stride, rows, fid, p->input_offset, 0,
                              narrow, acc);
                }
              }
            }
            for (k = 0; k < rows; ++k) {
              out_px[oc + k] = rn_requantize_acc(
                  acc[k], bias, oc + k, p->output_multiplier[oc + k],
                  p->output_shift[oc + k], p->output_offset,
                  p->activation_min, p->activation_max);
            }
          }
        }
      }
    }
  }
  return RN_OK;
}
