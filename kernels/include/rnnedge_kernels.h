/* rnnedge int8 reference kernels: one params struct and one entry point per
 * TFLite builtin op, bit-exact with TFLite Micro's reference kernels.
 *
 * Conventions (TFLM's): tensors are dense row-major (NHWC for images), data is
 * passed as raw pointers, every derived quantity (multipliers, shifts,
 * activation range, padding, broadcast strides) is precomputed by the caller
 * (rnnedge.kernels.params does it exactly as TFLM's Prepare does) and stored in
 * the params struct.  Kernels allocate nothing and keep no state.  Every entry
 * point returns RN_OK, RN_BAD_PARAMS when the params struct is inconsistent
 * (checked before any memory is touched), or RN_BAD_INPUT when the data leaves
 * the range TFLM's fixed-point maths is defined on (TFLM itself asserts or
 * invokes undefined behaviour there).
 *
 * "offset" fields follow TFLM: input_offset = -input_zero_point,
 * output_offset = +output_zero_point.  A "shift" is TFLM's signed exponent
 * (> 0 shifts left).  Shapes of N-D ops are padded at the front with 1s to
 * RN_MAX_DIMS dimensions.
 */
#ifndef RNNEDGE_KERNELS_H
#define RNNEDGE_KERNELS_H

#include <stdint.h>

#define RN_OK 0
#define RN_BAD_PARAMS 1
#define RN_BAD_INPUT 2
#define RN_MAX_DIMS 6

/* ---- CONV_2D (per-channel int8; a per-tensor filter scale is broadcast) ---- */
typedef struct {
  int32_t batches, input_height, input_width, input_depth;
  int32_t filter_height, filter_width, filter_input_depth; /* OHWI filter */
  int32_t output_height, output_width, output_depth;
  int32_t stride_height, stride_width, dilation_height, dilation_width;
  int32_t pad_height, pad_width;
  int32_t input_offset, output_offset;
  int32_t activation_min, activation_max;
  const int32_t *output_multiplier; /* output_depth entries */
  const int32_t *output_shift;      /* output_depth entries */
} rn_conv_2d_params;
int rn_conv_2d(const rn_conv_2d_params *p, const int8_t *input,
               const int8_t *filter, const int32_t *bias, int8_t *output);

/* ---- DEPTHWISE_CONV_2D (per-channel int8, filter [1, H, W, out_depth]) ---- */
typedef struct {
  int32_t batches, input_height, input_width, input_depth;
  int32_t filter_height, filter_width, depth_multiplier;
  int32_t output_height, output_width, output_depth;
  int32_t stride_height, stride_width, dilation_height, dilation_width;
  int32_t pad_height, pad_width;
  int32_t input_offset, output_offset;
  int32_t activation_min, activation_max;
  const int32_t *output_multiplier; /* output_depth entries */
  const int32_t *output_shift;
} rn_depthwise_conv_2d_params;
int rn_depthwise_conv_2d(const rn_depthwise_conv_2d_params *p,
                         const int8_t *input, const int8_t *filter,
                         const int32_t *bias, int8_t *output);

/* ---- FULLY_CONNECTED (filter [output_depth, accum_depth]) ---- */
typedef struct {
  int32_t batches, accum_depth, output_depth;
  int32_t input_offset, filter_offset, output_offset;
  int32_t activation_min, activation_max;
  int32_t per_channel; /* 1: multiplier/shift have output_depth entries */
  const int32_t *output_multiplier;
  const int32_t *output_shift;
} rn_fully_connected_params;
int rn_fully_connected(const rn_fully_connected_params *p, const int8_t *input,
                       const int8_t *filter, const int32_t *bias,
                       int8_t *output);

/* ---- element-wise broadcast description shared by ADD, SUB, MUL ---- */
typedef struct {
  int32_t dims[RN_MAX_DIMS];     /* output shape */
  int32_t strides1[RN_MAX_DIMS]; /* input1 element strides, 0 = broadcast */
  int32_t strides2[RN_MAX_DIMS]; /* input2 element strides, 0 = broadcast */
} rn_broadcast;

/* ---- ADD ---- */
typedef struct {
  rn_broadcast shape;
  int32_t input1_offset, input2_offset, output_offset, left_shift;
  int32_t input1_multiplier, input1_shift;
  int32_t input2_multiplier, input2_shift;
  int32_t output_multiplier, output_shift;
  int32_t activation_min, activation_max;
} rn_add_params;
int rn_add(const rn_add_params *p, const int8_t *input1, const int8_t *input2,
           int8_t *output);

/* ---- SUB (same parameters as ADD, TFLM derives them with float maths) ---- */
typedef struct {
  rn_broadcast shape;
  int32_t input1_offset, input2_offset, output_offset, left_shift;
  int32_t input1_multiplier, input1_shift;
  int32_t input2_multiplier, input2_shift;
  int32_t output_multiplier, output_shift;
  int32_t activation_min, activation_max;
} rn_sub_params;
int rn_sub(const rn_sub_params *p, const int8_t *input1, const int8_t *input2,
           int8_t *output);

/* ---- MUL ---- */
typedef struct {
  rn_broadcast shape;
  int32_t input1_offset, input2_offset, output_offset;
  int32_t output_multiplier, output_shift;
  int32_t activation_min, activation_max;
} rn_mul_params;
int rn_mul(const rn_mul_params *p, const int8_t *input1, const int8_t *input2,
           int8_t *output);

/* ---- TANH and LOGISTIC (gemmlowp fixed point, Q4.27 input) ---- */
typedef struct {
  int32_t size;
  int32_t input_zero_point, input_range_radius;
  int32_t input_multiplier, input_left_shift;
} rn_tanh_params;
int rn_tanh(const rn_tanh_params *p, const int8_t *input, int8_t *output);

typedef struct {
  int32_t size;
  int32_t input_zero_point, input_range_radius;
  int32_t input_multiplier, input_left_shift;
} rn_logistic_params;
int rn_logistic(const rn_logistic_params *p, const int8_t *input,
                int8_t *output);

/* ---- RELU (requantising) and RELU6 (clamp in the input's quantisation) ---- */
typedef struct {
  int32_t size;
  int32_t input_zero_point, output_zero_point;
  int32_t output_multiplier, output_shift;
  int32_t activation_min, activation_max;
} rn_relu_params;
int rn_relu(const rn_relu_params *p, const int8_t *input, int8_t *output);

typedef struct {
  int32_t size;
  int32_t zero, six; /* 0.0 and 6.0 quantised with the input's parameters */
} rn_relu6_params;
int rn_relu6(const rn_relu6_params *p, const int8_t *input, int8_t *output);

/* ---- AVERAGE_POOL_2D and MAX_POOL_2D (same quantisation in and out) ---- */
typedef struct {
  int32_t batches, input_height, input_width, depth;
  int32_t output_height, output_width;
  int32_t filter_height, filter_width, stride_height, stride_width;
  int32_t pad_height, pad_width;
  int32_t activation_min, activation_max;
} rn_pool_2d_params;
int rn_average_pool_2d(const rn_pool_2d_params *p, const int8_t *input,
                       int8_t *output);
int rn_max_pool_2d(const rn_pool_2d_params *p, const int8_t *input,
                   int8_t *output);

/* ---- MEAN (TFLM's integer QuantizedMeanOrSum) ---- */
typedef struct {
  int32_t input_dims[RN_MAX_DIMS];
  int32_t reduce[RN_MAX_DIMS]; /* 1 where the axis is reduced */
  int32_t input_zero_point, output_zero_point;
  int32_t output_multiplier, output_shift; /* in_scale / out_scale */
} rn_mean_params;
int rn_mean(const rn_mean_params *p, const int8_t *input, int8_t *output);

/* ---- PAD / PADV2 ---- */
typedef struct {
  int32_t input_dims[RN_MAX_DIMS];
  int32_t pad_before[RN_MAX_DIMS];
  int32_t output_dims[RN_MAX_DIMS];
  int32_t pad_value;
} rn_pad_params;
int rn_pad(const rn_pad_params *p, const int8_t *input, int8_t *output);

/* ---- CONCATENATION (inputs share the output's quantisation) ---- */
typedef struct {
  int32_t num_inputs;
  int32_t outer_size;         /* product of dims before the axis */
  const int32_t *copy_sizes;  /* per input: axis dim * inner size */
} rn_concatenation_params;
int rn_concatenation(const rn_concatenation_params *p,
                     const int8_t *const *inputs, int8_t *output);

/* ---- SPLIT / SPLIT_V ---- */
typedef struct {
  int32_t num_outputs;
  int32_t outer_size;
  const int32_t *copy_sizes; /* per output: axis dim * inner size */
} rn_split_params;
int rn_split(const rn_split_params *p, const int8_t *input,
             int8_t *const *outputs);

/* ---- STRIDED_SLICE (begin/stride already resolved from masks) ---- */
typedef struct {
  int32_t input_dims[RN_MAX_DIMS];
  int32_t begin[RN_MAX_DIMS];
  int32_t stride[RN_MAX_DIMS];
  int32_t output_dims[RN_MAX_DIMS];
} rn_strided_slice_params;
int rn_strided_slice(const rn_strided_slice_params *p, const int8_t *input,
                     int8_t *output);

/* ---- SLICE ---- */
typedef struct {
  int32_t input_dims[RN_MAX_DIMS];
  int32_t begin[RN_MAX_DIMS];
  int32_t size[RN_MAX_DIMS];
} rn_slice_params;
int rn_slice(const rn_slice_params *p, const int8_t *input, int8_t *output);

/* ---- RESHAPE (a byte copy; input and output may alias) ---- */
typedef struct {
  int32_t size;
} rn_reshape_params;
int rn_reshape(const rn_reshape_params *p, const int8_t *input,
               int8_t *output);

/* ---- TRANSPOSE ---- */
typedef struct {
  int32_t input_dims[RN_MAX_DIMS];
  int32_t perm[RN_MAX_DIMS]; /* output dim i is input dim perm[i] */
} rn_transpose_params;
int rn_transpose(const rn_transpose_params *p, const int8_t *input,
                 int8_t *output);

/* ---- QUANTIZE: float32 -> int8, and int8 -> int8 requantisation ---- */
typedef struct {
  int32_t size;
  float scale;
  int32_t zero_point;
} rn_quantize_params;
int rn_quantize(const rn_quantize_params *p, const float *input,
                int8_t *output);

typedef struct {
  int32_t size;
  int32_t input_zero_point, output_zero_point;
  int32_t multiplier, shift;
} rn_requantize_params;
int rn_requantize(const rn_requantize_params *p, const int8_t *input,
                  int8_t *output);

/* ---- DEQUANTIZE: int8 -> float32 ---- */
typedef struct {
  int32_t size;
  int32_t zero_point;
  double scale; /* the float32 scale widened to double, as TFLM stores it */
} rn_dequantize_params;
int rn_dequantize(const rn_dequantize_params *p, const int8_t *input,
                  float *output);

/* ---- SOFTMAX (int8 -> int8, output scale 1/256, zero point -128) ---- */
typedef struct {
  int32_t outer_size, depth;
  int32_t input_multiplier, input_left_shift, diff_min;
} rn_softmax_params;
int rn_softmax(const rn_softmax_params *p, const int8_t *input,
               int8_t *output);

/* ---- RESIZE_NEAREST_NEIGHBOR ---- */
typedef struct {
  int32_t batches, input_height, input_width, depth;
  int32_t output_height, output_width;
  int32_t align_corners, half_pixel_centers;
} rn_resize_nearest_neighbor_params;
int rn_resize_nearest_neighbor(const rn_resize_nearest_neighbor_params *p,
                               const int8_t *input, int8_t *output);

/* ---- UNIDIRECTIONAL_SEQUENCE_LSTM, int8 or int16 activations x int8 weights -> int16 cell
 * (TFLM's standard LSTM:
 * no peephole, projection or layer norm) ---- */
typedef struct {
  int32_t input_multiplier, input_shift;          /* input FC -> Q3.12 int16 */
  int32_t recurrent_multiplier, recurrent_shift;  /* recurrent FC -> Q3.12 int16 */
  int32_t input_weights_offset, recurrent_weights_offset; /* -weight zero points */
} rn_lstm_gate_params;

typedef struct {
  int32_t batches, time_steps, input_depth, state_depth, time_major;
  int32_t input_offset, hidden_offset; /* -input zp, -output-state zp */
  rn_lstm_gate_params input_gate, forget_gate, cell_gate, output_gate;
  int32_t forget_cell_multiplier, forget_cell_shift; /* forget x cell -> cell */
  int32_t input_cell_multiplier, input_cell_shift;   /* input x cell gate -> cell */
  int32_t hidden_multiplier, hidden_shift, hidden_zero_point; /* -> int8 hidden */
  int32_t cell_tanh_multiplier, cell_tanh_shift; /* tanh(cell) input rescale */
  int32_t use_cell_clip, cell_clip;              /* quantised clip, when used */
} rn_unidirectional_sequence_lstm_params;
/* weights: the 4 input-to-gate [state, input] then the 4 recurrent-to-gate
 * [state, state] matrices back to back; biases: 4 x state_depth; output_state
 * [batches, state] int8 and cell_state int16 are the variable tensors (read and
 * updated); scratch: 4 x batches x state_depth int16. */
int rn_unidirectional_sequence_lstm(const rn_unidirectional_sequence_lstm_params *p,
                                    const int8_t *input, const int8_t *weights,
                                    const int32_t *biases, int8_t *output_state,
                                    int16_t *cell_state, int16_t *scratch,
                                    int8_t *output);
/* The 16x8 variant: int16 input, output state and output, int64 biases. */
int rn_unidirectional_sequence_lstm_int16(const rn_unidirectional_sequence_lstm_params *p,
                                          const int16_t *input, const int8_t *weights,
                                          const int64_t *biases, int16_t *output_state,
                                          int16_t *cell_state, int16_t *scratch,
                                          int16_t *output);

/* ---- SVDF (int8 input and feature weights; int8 or int16 time weights and state) ---- */
typedef struct {
  int32_t batches, input_depth, num_filters, num_units, rank, memory_size;
  int32_t state_int16; /* 1: weights_time and state are int16, 0: int8 */
  int32_t input_zero_point, state_zero_point, output_zero_point;
  int32_t feature_multiplier, feature_shift; /* input x feature -> state */
  int32_t time_multiplier, time_shift;       /* state x time -> output */
} rn_svdf_params;
/* state: the variable tensor [batches, memory_size * num_filters] (shifted and
 * updated); scratch: batches x num_filters int32. */
int rn_svdf(const rn_svdf_params *p, const int8_t *input,
            const int8_t *weights_feature, const void *weights_time,
            const int32_t *bias, void *state, int32_t *scratch, int8_t *output);
/* ==== elementwise math (issue 17): int8 unless noted; a "bool" tensor is
 * one byte per element holding 0 or 1 (TFLM's bool), passed as int8_t. ==== */

/* ---- LEAKY_RELU: identity or alpha rescale by the input's sign ---- */
typedef struct {
  int32_t size;
  int32_t input_zero_point, output_zero_point;
  int32_t output_multiplier_alpha, output_shift_alpha;
  int32_t output_multiplier_identity, output_shift_identity;
} rn_leaky_relu_params;
int rn_leaky_relu(const rn_leaky_relu_params *p, const int8_t *input,
                  int8_t *output);

/* ---- HARD_SWISH: TFLM's int16 fixed-point x * relu6(x + 3) / 6 ---- */
typedef struct {
  int32_t size;
  int32_t input_zero_point, output_zero_point;
  int32_t reluish_multiplier_fixedpoint_int16, reluish_multiplier_exponent;
  int32_t output_multiplier_fixedpoint_int16, output_multiplier_exponent;
} rn_hard_swish_params;
int rn_hard_swish(const rn_hard_swish_params *p, const int8_t *input,
                  int8_t *output);

/* ---- ABS (input_offset/output_offset are the zero points, as in TFLM) ---- */
typedef struct {
  int32_t size;
  int32_t input_offset, output_offset;
  int32_t needs_rescale, multiplier, shift;
} rn_abs_params;
int rn_abs(const rn_abs_params *p, const int8_t *input, int8_t *output);

/* ---- RSQRT: RN_BAD_INPUT for inputs below the zero point (TFLM errors) ---- */
typedef struct {
  int32_t size;
  int32_t input_offset, output_offset;
  int32_t multiplier, shift;
} rn_rsqrt_params;
int rn_rsqrt(const rn_rsqrt_params *p, const int8_t *input, int8_t *output);

/* ---- PRELU (input1 = data, input2 = alpha, broadcast over <= 4 dims) ---- */
typedef struct {
  rn_broadcast shape;
  int32_t input_offset, alpha_offset, output_offset;
  int32_t output_multiplier_1, output_shift_1;
  int32_t output_multiplier_2, output_shift_2;
} rn_prelu_params;
int rn_prelu(const rn_prelu_params *p, const int8_t *input,
             const int8_t *alpha, int8_t *output);

/* ---- MAXIMUM / MINIMUM: raw int8 comparison, as TFLM (no rescaling) ---- */
typedef struct {
  rn_broadcast shape;
} rn_maximum_minimum_params;
int rn_maximum(const rn_maximum_minimum_params *p, const int8_t *input1,
               const int8_t *input2, int8_t *output);
int rn_minimum(const rn_maximum_minimum_params *p, const int8_t *input1,
               const int8_t *input2, int8_t *output);

/* ---- SQUARED_DIFFERENCE (left shift 7, ADD-like input rescaling) ---- */
typedef struct {
  rn_broadcast shape;
  int32_t input1_offset, input2_offset, output_offset, left_shift;
  int32_t input1_multiplier, input1_shift;
  int32_t input2_multiplier, input2_shift;
  int32_t output_multiplier, output_shift;
  int32_t activation_min, activation_max;
} rn_squared_difference_params;
int rn_squared_difference(const rn_squared_difference_params *p,
                          const int8_t *input1, const int8_t *input2,
                          int8_t *output);

/* ---- DIV: RN_BAD_INPUT where the divisor is its zero point ---- */
typedef struct {
  rn_broadcast shape;
  int32_t input1_offset, input2_offset, output_offset;
  int32_t output_multiplier, output_shift;
  int32_t activation_min, activation_max;
} rn_div_params;
int rn_div(const rn_div_params *p, const int8_t *input1, const int8_t *input2,
           int8_t *output);

/* ---- EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL: int8
 * inputs rescaled as TFLM's ComparisonWithScaling (left shift 8), or compared
 * raw (`rescale` 0: bool inputs of EQUAL / NOT_EQUAL); bool output. ---- */
typedef struct {
  rn_broadcast shape;
  int32_t rescale, left_shift;
  int32_t input1_offset, input1_multiplier, input1_shift;
  int32_t input2_offset, input2_multiplier, input2_shift;
} rn_comparison_params;
int rn_equal(const rn_comparison_params *p, const int8_t *input1,
             const int8_t *input2, int8_t *output);
int rn_not_equal(const rn_comparison_params *p, const int8_t *input1,
                 const int8_t *input2, int8_t *output);
int rn_less(const rn_comparison_params *p, const int8_t *input1,
            const int8_t *input2, int8_t *output);
int rn_less_equal(const rn_comparison_params *p, const int8_t *input1,
                  const int8_t *input2, int8_t *output);
int rn_greater(const rn_comparison_params *p, const int8_t *input1,
               const int8_t *input2, int8_t *output);
int rn_greater_equal(const rn_comparison_params *p, const int8_t *input1,
                     const int8_t *input2, int8_t *output);

/* ---- LOGICAL_AND / LOGICAL_OR (bool, broadcast), LOGICAL_NOT (bool) ---- */
typedef struct {
  rn_broadcast shape;
} rn_logical_params;
int rn_logical_and(const rn_logical_params *p, const int8_t *input1,
                   const int8_t *input2, int8_t *output);
int rn_logical_or(const rn_logical_params *p, const int8_t *input1,
                  const int8_t *input2, int8_t *output);
typedef struct {
  int32_t size;
} rn_logical_not_params;
int rn_logical_not(const rn_logical_not_params *p, const int8_t *input,
                   int8_t *output);

/* ---- SELECT_V2: output = condition ? x : y (bool condition, byte copy of
 * x / y, three-way broadcast over <= 5 dims) ---- */
typedef struct {
  int32_t dims[RN_MAX_DIMS];
  int32_t strides_condition[RN_MAX_DIMS];
  int32_t strides_x[RN_MAX_DIMS];
  int32_t strides_y[RN_MAX_DIMS];
} rn_select_v2_params;
int rn_select_v2(const rn_select_v2_params *p, const int8_t *condition,
                 const int8_t *x, const int8_t *y, int8_t *output);

/* ---- LOG_SOFTMAX (output scale 16/256, zero point 127) ---- */
typedef struct {
  int32_t outer_size, depth;
  int32_t input_multiplier, input_left_shift;
  int32_t reverse_scaling_divisor, reverse_scaling_right_shift;
  int32_t diff_min;
} rn_log_softmax_params;
int rn_log_softmax(const rn_log_softmax_params *p, const int8_t *input,
                   int8_t *output);

/* ---- ELU: TFLM's 256-entry int8 lookup table, filled at prepare time ---- */
typedef struct {
  int32_t size;
  int8_t table[256]; /* output for input value v at table[v + 128] */
} rn_elu_params;
int rn_elu(const rn_elu_params *p, const int8_t *input, int8_t *output);

/* ---- GELU: TFLite's 256-entry int8 lookup table (erf, or the tanh
 * approximation), filled at prepare time ---- */
typedef struct {
  int32_t size;
  int8_t table[256]; /* output for input value v at table[v + 128] */
} rn_gelu_params;
int rn_gelu(const rn_gelu_params *p, const int8_t *input, int8_t *output);

/* ---- CAST: C++ static_cast per element, as TFLM's; types are TFLite's
 * TensorType codes: input BOOL (6) or INT8 (9), output INT8 (9), INT32 (2),
 * FLOAT32 (0) or BOOL (6) ---- */
#define RN_TYPE_FLOAT32 0
#define RN_TYPE_INT32 2
#define RN_TYPE_BOOL 6
#define RN_TYPE_INT8 9
typedef struct {
  int32_t size;
  int32_t input_type, output_type;
} rn_cast_params;
int rn_cast(const rn_cast_params *p, const void *input, void *output);
/* ---- rnnedge 17shape: data movement, reduce and matmul ops ---- */

/* ---- SUM (TFLM's QuantizedMeanOrSum, compute_sum) ---- */
typedef struct {
  int32_t input_dims[RN_MAX_DIMS];
  int32_t reduce[RN_MAX_DIMS]; /* 1 where the axis is reduced */
  int32_t input_zero_point, output_zero_point;
  int32_t output_multiplier, output_shift; /* in_scale / out_scale */
} rn_sum_params;
int rn_sum(const rn_sum_params *p, const int8_t *input, int8_t *output);

/* ---- REDUCE_MAX / REDUCE_MIN (same quantisation in and out) ---- */
typedef struct {
  int32_t input_dims[RN_MAX_DIMS];
  int32_t reduce[RN_MAX_DIMS]; /* 1 where the axis is reduced */
} rn_reduce_params;
int rn_reduce_max(const rn_reduce_params *p, const int8_t *input, int8_t *output);
int rn_reduce_min(const rn_reduce_params *p, const int8_t *input, int8_t *output);

/* ---- GATHER (int32 indices) ---- */
typedef struct {
  int32_t batch_size, outer_size, coord_size, axis_size, inner_size;
} rn_gather_params;
int rn_gather(const rn_gather_params *p, const int8_t *input,
              const int32_t *indices, int8_t *output);

/* ---- GATHER_ND (int32 indices [num_slices, index_depth]) ---- */
typedef struct {
  int32_t num_slices, slice_size, index_depth;
  int32_t dims[RN_MAX_DIMS];    /* the data's first index_depth dims */
  int32_t strides[RN_MAX_DIMS]; /* their element strides */
} rn_gather_nd_params;
int rn_gather_nd(const rn_gather_nd_params *p, const int8_t *input,
                 const int32_t *indices, int8_t *output);

/* ---- BATCH_MATMUL (int8, broadcast batch dims, adj_x/adj_y as strides) ---- */
typedef struct {
  int32_t batch_dims[RN_MAX_DIMS];        /* output batch shape, front-padded */
  int32_t lhs_batch_strides[RN_MAX_DIMS]; /* elements, 0 = broadcast */
  int32_t rhs_batch_strides[RN_MAX_DIMS];
  int32_t rows, cols, depth;
  int32_t lhs_row_stride, lhs_depth_stride, rhs_depth_stride, rhs_col_stride;
  int32_t lhs_offset, rhs_offset, output_offset; /* -zp, -zp, +zp */
  int32_t output_multiplier, output_shift;
} rn_batch_matmul_params;
int rn_batch_matmul(const rn_batch_matmul_params *p, const int8_t *lhs,
                    const int8_t *rhs, int8_t *output);

/* ---- RESIZE_BILINEAR (int8, TFLM's integer Q10 interpolation) ---- */
typedef struct {
  int32_t batches, input_height, input_width, depth;
  int32_t output_height, output_width;
  int32_t align_corners, half_pixel_centers;
} rn_resize_bilinear_params;
int rn_resize_bilinear(const rn_resize_bilinear_params *p, const int8_t *input,
                       int8_t *output);

/* ---- ARG_MAX / ARG_MIN (int8 in, int32 indices out) ---- */
typedef struct {
  int32_t outer_size, axis_size, inner_size;
} rn_arg_min_max_params;
int rn_arg_max(const rn_arg_min_max_params *p, const int8_t *input, int32_t *output);
int rn_arg_min(const rn_arg_min_max_params *p, const int8_t *input, int32_t *output);

/* ---- SPACE_TO_BATCH_ND (4-D view; pad value: the output zero point) ---- */
typedef struct {
  int32_t input_batches, input_height, input_width, depth;
  int32_t block_height, block_width, pad_top, pad_left;
  int32_t output_batches, output_height, output_width;
  int32_t pad_value;
} rn_space_to_batch_nd_params;
int rn_space_to_batch_nd(const rn_space_to_batch_nd_params *p, const int8_t *input,
                         int8_t *output);

/* ---- BATCH_TO_SPACE_ND (4-D view) ---- */
typedef struct {
  int32_t input_batches, input_height, input_width, depth;
  int32_t block_height, block_width, crop_top, crop_left;
  int32_t output_batches, output_height, output_width;
} rn_batch_to_space_nd_params;
int rn_batch_to_space_nd(const rn_batch_to_space_nd_params *p, const int8_t *input,
                         int8_t *output);

/* ---- MIRROR_PAD (offset 1: REFLECT, 0: SYMMETRIC) ---- */
typedef struct {
  int32_t input_dims[RN_MAX_DIMS];
  int32_t pad_before[RN_MAX_DIMS];
  int32_t output_dims[RN_MAX_DIMS];
  int32_t offset;
} rn_mirror_pad_params;
int rn_mirror_pad(const rn_mirror_pad_params *p, const int8_t *input, int8_t *output);

/* ---- BROADCAST_TO (shape.strides1: the input's strides, 0 = broadcast) ---- */
typedef struct {
  rn_broadcast shape;
} rn_broadcast_to_params;
int rn_broadcast_to(const rn_broadcast_to_params *p, const int8_t *input, int8_t *output);

/* ---- L2_NORMALIZATION over the last dim (output scale 1/128, zero point 0) ---- */
typedef struct {
  int32_t outer_size, depth, input_zero_point;
} rn_l2_normalization_params;
int rn_l2_normalization(const rn_l2_normalization_params *p, const int8_t *input,
                        int8_t *output);

/* ---- CUMSUM (TFLM's int8 ArithmeticParams path, left shift 20) ---- */
typedef struct {
  int32_t inner, depth, outer; /* dims before, along and after the axis */
  int32_t exclusive, reverse;
  int32_t input_offset, output_offset, left_shift;
  int32_t input_multiplier, input_shift, output_multiplier, output_shift;
  int32_t activation_min, activation_max;
} rn_cumsum_params;
int rn_cumsum(const rn_cumsum_params *p, const int8_t *input, int8_t *output);

/* ---- REVERSE_V2 ---- */
typedef struct {
  int32_t dims[RN_MAX_DIMS];
  int32_t reverse[RN_MAX_DIMS]; /* 1 where the axis is reversed */
} rn_reverse_v2_params;
int rn_reverse_v2(const rn_reverse_v2_params *p, const int8_t *input, int8_t *output);

/* ---- FILL (one int8 value) and ZEROS_LIKE (raw zeros) ---- */
typedef struct {
  int32_t size;
} rn_fill_params;
int rn_fill(const rn_fill_params *p, const int8_t *value, int8_t *output);

typedef struct {
  int32_t size;
} rn_zeros_like_params;
int rn_zeros_like(const rn_zeros_like_params *p, const int8_t *input, int8_t *output);

/* ---- SHAPE (int32 output) ---- */
typedef struct {
  int32_t rank;
  int32_t dims[RN_MAX_DIMS];
} rn_shape_params;
int rn_shape(const rn_shape_params *p, const int8_t *input, int32_t *output);

/* ---- ADD_N (inputs share one quantisation; TFLM's ArithmeticParams path) ---- */
typedef struct {
  int32_t size, num_inputs;
  int32_t input_offset, output_offset, left_shift;
  int32_t input_multiplier, input_shift, output_multiplier, output_shift;
  int32_t activation_min, activation_max;
} rn_add_n_params;
int rn_add_n(const rn_add_n_params *p, const int8_t *const *inputs, int8_t *output);

/* ---- TRANSPOSE_CONV (per-channel; filter [output_depth, H, W, input_depth]) ---- */
typedef struct {
  int32_t batches, input_height, input_width, input_depth;
  int32_t filter_height, filter_width;
  int32_t output_height, output_width, output_depth;
  int32_t stride_height, stride_width, pad_height, pad_width;
  int32_t input_offset, output_offset;
  int32_t activation_min, activation_max;
  const int32_t *output_multiplier; /* output_depth entries */
  const int32_t *output_shift;
} rn_transpose_conv_params;
int rn_transpose_conv(const rn_transpose_conv_params *p, const int8_t *input,
                      const int8_t *filter, const int32_t *bias, int8_t *output);

/* ---- int16x8: int16 activations (zero point 0 where TFLM requires it), int8
 * weights, int64 biases; the int8 ops' params structs, TFLM's int16 paths ---- */
int rn_conv_2d_16x8(const rn_conv_2d_params *p, const int16_t *input,
                    const int8_t *filter, const int64_t *bias, int16_t *output);
int rn_depthwise_conv_2d_16x8(const rn_depthwise_conv_2d_params *p, const int16_t *input,
                              const int8_t *filter, const int64_t *bias, int16_t *output);
int rn_fully_connected_16x8(const rn_fully_connected_params *p, const int16_t *input,
                            const int8_t *filter, const int64_t *bias, int16_t *output);
int rn_transpose_conv_16x8(const rn_transpose_conv_params *p, const int16_t *input,
                           const int8_t *filter, const int64_t *bias, int16_t *output);
int rn_add_int16(const rn_add_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output);
int rn_sub_int16(const rn_sub_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output);
int rn_mul_int16(const rn_mul_params *p, const int16_t *input1, const int16_t *input2,
                 int16_t *output);
int rn_average_pool_2d_int16(const rn_pool_2d_params *p, const int16_t *input,
                             int16_t *output);
int rn_max_pool_2d_int16(const rn_pool_2d_params *p, const int16_t *input,
                         int16_t *output);
int rn_quantize_int16(const rn_quantize_params *p, const float *input, int16_t *output);
int rn_requantize_int8_int16(const rn_requantize_params *p, const int8_t *input,
                             int16_t *output);
int rn_requantize_int16_int8(const rn_requantize_params *p, const int16_t *input,
                             int8_t *output);
int rn_requantize_int16_int16(const rn_requantize_params *p, const int16_t *input,
                              int16_t *output);
int rn_dequantize_int16(const rn_dequantize_params *p, const int16_t *input, float *output);
int rn_mean_int16(const rn_mean_params *p, const int16_t *input, int16_t *output);

/* ---- SOFTMAX int16 -> int16 (output scale 1/32768, zero point 0): TFLM's LUT path ---- */
typedef struct {
  int32_t outer_size, depth;
  int32_t input_multiplier, input_left_shift;
  const int16_t *exp_lut;                 /* RN_INT16_LUT_SIZE entries */
  const int16_t *one_over_one_plus_x_lut; /* RN_INT16_LUT_SIZE entries */
} rn_softmax_int16_params;
#define RN_INT16_LUT_SIZE 513

/* ---- TANH and LOGISTIC int16 (zero points 0, output scale 2^-15): TFLM's sigmoid
 * table path; input_multiplier 0 means a power-of-two input scale ---- */
typedef struct {
  int32_t size;
  int32_t input_multiplier, input_left_shift;
  const uint16_t *sigmoid_lut; /* RN_SIGMOID_LUT_SIZE entries, sigmoid(i / 24) in Q0.16 */
} rn_sigmoid_int16_params;
#define RN_SIGMOID_LUT_SIZE 256
int rn_tanh_int16(const rn_sigmoid_int16_params *p, const int16_t *input, int16_t *output);
int rn_logistic_int16(const rn_sigmoid_int16_params *p, const int16_t *input,
                      int16_t *output);
int rn_softmax_int16(const rn_softmax_int16_params *p, const int16_t *input,
                     int16_t *output);

/* ---- int32 ADD and comparisons (WHILE loop counters and conditions), 4-D broadcast ---- */
typedef struct {
  rn_broadcast shape;
} rn_int32_binary_params;
int rn_add_int32(const rn_int32_binary_params *p, const int32_t *input1,
                 const int32_t *input2, int32_t *output);
typedef struct {
  rn_broadcast shape;
  int32_t which; /* RN_CMP_EQUAL ... RN_CMP_GREATER_EQUAL (rnnedge_comparison.h) */
} rn_int32_compare_params;
int rn_compare_int32(const rn_int32_compare_params *p, const int32_t *input1,
                     const int32_t *input2, int8_t *output);

#endif /* RNNEDGE_KERNELS_H */
