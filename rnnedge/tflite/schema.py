"""Facts from TFLite's flatbuffer schema (tensorflow/lite/schema/schema.fbs) as plain tables.

Field numbers of the tables rnnedge reads, the tensor-type enum with its numpy dtypes, the
builtin-operator names (indexed by `BuiltinOperator` code) and the layouts of the builtin
option tables that CNN and RNN exports use. Pure data: imports only numpy.
"""

import numpy as np

FILE_IDENTIFIER = b"TFL3"

# Field ids (vtable slot numbers) of the tables the reader walks.
MODEL = {"version": 0, "operator_codes": 1, "subgraphs": 2, "description": 3, "buffers": 4,
         "metadata_buffer": 5, "metadata": 6, "signature_defs": 7}
OPERATOR_CODE = {"deprecated_builtin_code": 0, "custom_code": 1, "version": 2, "builtin_code": 3}
SUBGRAPH = {"tensors": 0, "inputs": 1, "outputs": 2, "operators": 3, "name": 4}
TENSOR = {"shape": 0, "type": 1, "buffer": 2, "name": 3, "quantization": 4, "is_variable": 5,
          "sparsity": 6, "shape_signature": 7}
QUANTIZATION = {"min": 0, "max": 1, "scale": 2, "zero_point": 3, "details_type": 4,
                "details": 5, "quantized_dimension": 6}
OPERATOR = {"opcode_index": 0, "inputs": 1, "outputs": 2, "builtin_options_type": 3,
            "builtin_options": 4, "custom_options": 5, "custom_options_format": 6,
            "mutating_variable_inputs": 7, "intermediates": 8,
            "large_custom_options_offset": 9, "large_custom_options_size": 10}
BUFFER = {"data": 0, "offset": 1, "size": 2}
METADATA = {"name": 0, "buffer": 1}

# TensorType code -> (name, numpy dtype or None when numpy has no equivalent, bits per element).
TENSOR_TYPES = {
    0: ("FLOAT32", np.dtype(np.float32), 32), 1: ("FLOAT16", np.dtype(np.float16), 16),
    2: ("INT32", np.dtype(np.int32), 32), 3: ("UINT8", np.dtype(np.uint8), 8),
    4: ("INT64", np.dtype(np.int64), 64), 5: ("STRING", None, 8),
    6: ("BOOL", np.dtype(np.bool_), 8), 7: ("INT16", np.dtype(np.int16), 16),
    8: ("COMPLEX64", np.dtype(np.complex64), 64), 9: ("INT8", np.dtype(np.int8), 8),
    10: ("FLOAT64", np.dtype(np.float64), 64), 11: ("COMPLEX128", np.dtype(np.complex128), 128),
    12: ("UINT64", np.dtype(np.uint64), 64), 13: ("RESOURCE", None, 0),
    14: ("VARIANT", None, 0), 15: ("UINT32", np.dtype(np.uint32), 32),
    16: ("UINT16", np.dtype(np.uint16), 16), 17: ("INT4", None, 4), 18: ("BFLOAT16", None, 16),
    19: ("INT2", None, 2), 20: ("UINT4", None, 4),
}

# BuiltinOperator code -> name (the code is the index).
BUILTIN_OPERATORS = tuple("""
    ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
    EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D
    LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU
    RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH
    CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD
    UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN
    SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN
    EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM
    ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN
    TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE
    POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND
    LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD
    RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V
    UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG
    QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4
    NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL
    PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL
    COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL
    CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS
    RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE
    RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2
    UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT STABLEHLO_LOGISTIC
    STABLEHLO_ADD STABLEHLO_DIVIDE STABLEHLO_MULTIPLY STABLEHLO_MAXIMUM STABLEHLO_RESHAPE
    STABLEHLO_CLAMP STABLEHLO_CONCATENATE STABLEHLO_BROADCAST_IN_DIM STABLEHLO_CONVOLUTION
    STABLEHLO_SLICE STABLEHLO_CUSTOM_CALL STABLEHLO_REDUCE STABLEHLO_ABS STABLEHLO_AND
    STABLEHLO_COSINE STABLEHLO_EXPONENTIAL STABLEHLO_FLOOR STABLEHLO_LOG STABLEHLO_MINIMUM
    STABLEHLO_NEGATE STABLEHLO_OR STABLEHLO_POWER STABLEHLO_REMAINDER STABLEHLO_RSQRT
    STABLEHLO_SELECT STABLEHLO_SUBTRACT STABLEHLO_TANH STABLEHLO_SCATTER STABLEHLO_COMPARE
    STABLEHLO_CONVERT STABLEHLO_DYNAMIC_SLICE STABLEHLO_DYNAMIC_UPDATE_SLICE STABLEHLO_PAD
    STABLEHLO_IOTA STABLEHLO_DOT_GENERAL STABLEHLO_REDUCE_WINDOW STABLEHLO_SORT
    STABLEHLO_WHILE STABLEHLO_GATHER STABLEHLO_TRANSPOSE DILATE STABLEHLO_RNG_BIT_GENERATOR
    REDUCE_WINDOW STABLEHLO_COMPOSITE STABLEHLO_SHIFT_LEFT STABLEHLO_CBRT STABLEHLO_CASE
""".split())

ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT")
PADDINGS = ("SAME", "VALID")

# Builtin-options union type -> (table name, ((field id, key, kind, default), ...)).
# kind: "i8"/"i32"/"f32"/"bool" scalars, "act" and "pad" are i8 enums decoded to names,
# "vec_i32" a vector of int32.
_CONV = ((0, "padding", "pad", 0), (1, "stride_w", "i32", 0), (2, "stride_h", "i32", 0),
         (3, "fused_activation_function", "act", 0), (4, "dilation_w_factor", "i32", 1),
         (5, "dilation_h_factor", "i32", 1))
_ACT_ONLY = ((0, "fused_activation_function", "act", 0),)
_EMPTY = ()
BUILTIN_OPTIONS = {
    1: ("Conv2DOptions", _CONV),
    2: ("DepthwiseConv2DOptions",
        ((0, "padding", "pad", 0), (1, "stride_w", "i32", 0), (2, "stride_h", "i32", 0),
         (3, "depth_multiplier", "i32", 0), (4, "fused_activation_function", "act", 0),
         (5, "dilation_w_factor", "i32", 1), (6, "dilation_h_factor", "i32", 1))),
    5: ("Pool2DOptions",
        ((0, "padding", "pad", 0), (1, "stride_w", "i32", 0), (2, "stride_h", "i32", 0),
         (3, "filter_width", "i32", 0), (4, "filter_height", "i32", 0),
         (5, "fused_activation_function", "act", 0))),
    6: ("SVDFOptions", ((0, "rank", "i32", 0), (1, "fused_activation_function", "act", 0),
                        (2, "asymmetric_quantize_inputs", "bool", False))),
    7: ("RNNOptions", ((0, "fused_activation_function", "act", 0),
                       (1, "asymmetric_quantize_inputs", "bool", False))),
    8: ("FullyConnectedOptions",
        ((0, "fused_activation_function", "act", 0), (1, "weights_format", "i8", 0),
         (2, "keep_num_dims", "bool", False), (3, "asymmetric_quantize_inputs", "bool", False))),
    9: ("SoftmaxOptions", ((0, "beta", "f32", 0.0),)),
    10: ("ConcatenationOptions", ((0, "axis", "i32", 0),
                                  (1, "fused_activation_function", "act", 0))),
    11: ("AddOptions", ((0, "fused_activation_function", "act", 0),
                        (1, "pot_scale_int16", "bool", True))),
    15: ("ResizeBilinearOptions", ((2, "align_corners", "bool", False),
                                   (3, "half_pixel_centers", "bool", False))),
    17: ("ReshapeOptions", ((0, "new_shape", "vec_i32", None),)),
    21: ("MulOptions", _ACT_ONLY),
    22: ("PadOptions", _EMPTY),
    23: ("GatherOptions", ((0, "axis", "i32", 0), (1, "batch_dims", "i32", 0))),
    26: ("TransposeOptions", _EMPTY),
    27: ("ReducerOptions", ((0, "keep_dims", "bool", False),)),
    28: ("SubOptions", ((0, "fused_activation_function", "act", 0),
                        (1, "pot_scale_int16", "bool", True))),
    29: ("DivOptions", _ACT_ONLY),
    30: ("SqueezeOptions", ((0, "squeeze_dims", "vec_i32", None),)),
    31: ("SequenceRNNOptions", ((0, "time_major", "bool", False),
                                (1, "fused_activation_function", "act", 0),
                                (2, "asymmetric_quantize_inputs", "bool", False))),
    32: ("StridedSliceOptions",
         ((0, "begin_mask", "i32", 0), (1, "end_mask", "i32", 0), (2, "ellipsis_mask", "i32", 0),
          (3, "new_axis_mask", "i32", 0), (4, "shrink_axis_mask", "i32", 0),
          (5, "offset", "bool", False))),
    35: ("SplitOptions", ((0, "num_splits", "i32", 0),)),
    38: ("DequantizeOptions", _EMPTY),
    39: ("MaximumMinimumOptions", _EMPTY),
    43: ("PadV2Options", _EMPTY),
    48: ("SliceOptions", _EMPTY),
    49: ("TransposeConvOptions",
         ((0, "padding", "pad", 0), (1, "stride_w", "i32", 0), (2, "stride_h", "i32", 0),
          (3, "fused_activation_function", "act", 0))),
    52: ("ExpandDimsOptions", _EMPTY),
    59: ("PackOptions", ((0, "values_count", "i32", 0), (1, "axis", "i32", 0))),
    64: ("UnpackOptions", ((0, "num", "i32", 0), (1, "axis", "i32", 0))),
    71: ("UnidirectionalSequenceLSTMOptions",
         ((0, "fused_activation_function", "act", 0), (1, "cell_clip", "f32", 0.0),
          (2, "proj_clip", "f32", 0.0), (3, "time_major", "bool", False))),
    74: ("ResizeNearestNeighborOptions", ((0, "align_corners", "bool", False),
                                          (1, "half_pixel_centers", "bool", False))),
    75: ("LeakyReluOptions", ((0, "alpha", "f32", 0.0),)),
    77: ("MirrorPadOptions", ((0, "mode", "i8", 0),)),
    79: ("SplitVOptions", ((0, "num_splits", "i32", 0),)),
    89: ("QuantizeOptions", _EMPTY),
    91: ("HardSwishOptions", _EMPTY),
    101: ("BatchMatMulOptions", ((0, "adj_x", "bool", False), (1, "adj_y", "bool", False))),
    6: ("SVDFOptions", ((0, "rank", "i32", 0), (1, "fused_activation_function", "act", 0),
                        (2, "asymmetric_quantize_inputs", "bool", False))),
    92: ("IfOptions", ((0, "then_subgraph_index", "i32", 0),
                       (1, "else_subgraph_index", "i32", 0))),
    93: ("WhileOptions", ((0, "cond_subgraph_index", "i32", 0),
                          (1, "body_subgraph_index", "i32", 0))),
    103: ("CallOnceOptions", ((0, "init_subgraph_index", "i32", 0),)),
    116: ("GeluOptions", ((0, "approximate", "bool", False),)),
    # 17shape: options of the data-movement / reduce kernels
    12: ("L2NormOptions", _ACT_ONLY),
    19: ("SpaceToDepthOptions", ((0, "block_size", "i32", 0),)),
    94: ("DepthToSpaceOptions", ((0, "block_size", "i32", 0),)),
    102: ("CumsumOptions", ((0, "exclusive", "bool", False), (1, "reverse", "bool", False))),
    # 17 control flow: a resource variable's name (MicroResourceVariables keys on both)
    111: ("VarHandleOptions", ((0, "container", "str", None), (1, "shared_name", "str", None))),
}


def builtin_name(code: int) -> str:
    """The schema name of builtin operator `code`, or `UNKNOWN_<code>` past the known table."""
    if 0 <= code < len(BUILTIN_OPERATORS):
        return BUILTIN_OPERATORS[code]
    return f"UNKNOWN_{code}"
