"""ctypes mirrors of the params structs in include/rnnedge_kernels.h, and the C
signature of every kernel entry point.

Why: ctypes needs the exact field order and types of each struct; keeping them in
one module next to the header makes a mismatch easy to spot (tests exercise every
struct).  Field names are those of the C header.

May import: ctypes and the standard library only.
"""

import ctypes

MAX_DIMS = 6
I32 = ctypes.c_int32
P_I32 = ctypes.POINTER(ctypes.c_int32)
P_I8 = ctypes.POINTER(ctypes.c_int8)
P_F32 = ctypes.POINTER(ctypes.c_float)
P_I16 = ctypes.POINTER(ctypes.c_int16)
P_I64 = ctypes.POINTER(ctypes.c_int64)
P_VOID = ctypes.c_void_p
DIMS = I32 * MAX_DIMS


def _ints(*names: str) -> list:
    return [(n, I32) for n in names]


class Conv2DParams(ctypes.Structure):
    _fields_ = _ints("batches", "input_height", "input_width", "input_depth",
                     "filter_height", "filter_width", "filter_input_depth",
                     "output_height", "output_width", "output_depth",
                     "stride_height", "stride_width", "dilation_height", "dilation_width",
                     "pad_height", "pad_width", "input_offset", "output_offset",
                     "activation_min", "activation_max") + [
        ("output_multiplier", P_I32), ("output_shift", P_I32)]


class DepthwiseConv2DParams(ctypes.Structure):
    _fields_ = _ints("batches", "input_height", "input_width", "input_depth",
                     "filter_height", "filter_width", "depth_multiplier",
                     "output_height", "output_width", "output_depth",
                     "stride_height", "stride_width", "dilation_height", "dilation_width",
                     "pad_height", "pad_width", "input_offset", "output_offset",
                     "activation_min", "activation_max") + [
        ("output_multiplier", P_I32), ("output_shift", P_I32)]


class FullyConnectedParams(ctypes.Structure):
    _fields_ = _ints("batches", "accum_depth", "output_depth", "input_offset",
                     "filter_offset", "output_offset", "activation_min", "activation_max",
                     "per_channel") + [
        ("output_multiplier", P_I32), ("output_shift", P_I32)]


class Broadcast(ctypes.Structure):
    _fields_ = [("dims", DIMS), ("strides1", DIMS), ("strides2", DIMS)]


_ADD_FIELDS = [("shape", Broadcast)] + _ints(
    "input1_offset", "input2_offset", "output_offset", "left_shift",
    "input1_multiplier", "input1_shift", "input2_multiplier", "input2_shift",
    "output_multiplier", "output_shift", "activation_min", "activation_max")


class AddParams(ctypes.Structure):
    _fields_ = _ADD_FIELDS


class SubParams(ctypes.Structure):
    _fields_ = _ADD_FIELDS


class MulParams(ctypes.Structure):
    _fields_ = [("shape", Broadcast)] + _ints(
        "input1_offset", "input2_offset", "output_offset", "output_multiplier",
        "output_shift", "activation_min", "activation_max")


class TanhParams(ctypes.Structure):
    _fields_ = _ints("size", "input_zero_point", "input_range_radius", "input_multiplier",
                     "input_left_shift")


class LogisticParams(ctypes.Structure):
    _fields_ = TanhParams._fields_


class ReluParams(ctypes.Structure):
    _fields_ = _ints("size", "input_zero_point", "output_zero_point", "output_multiplier",
                     "output_shift", "activation_min", "activation_max")


class Relu6Params(ctypes.Structure):
    _fields_ = _ints("size", "zero", "six")


class Pool2DParams(ctypes.Structure):
    _fields_ = _ints("batches", "input_height", "input_width", "depth", "output_height",
                     "output_width", "filter_height", "filter_width", "stride_height",
                     "stride_width", "pad_height", "pad_width", "activation_min",
                     "activation_max")


class MeanParams(ctypes.Structure):
    _fields_ = [("input_dims", DIMS), ("reduce", DIMS)] + _ints(
        "input_zero_point", "output_zero_point", "output_multiplier", "output_shift")


class PadParams(ctypes.Structure):
    _fields_ = [("input_dims", DIMS), ("pad_before", DIMS), ("output_dims", DIMS),
                ("pad_value", I32)]


class ConcatenationParams(ctypes.Structure):
    _fields_ = _ints("num_inputs", "outer_size") + [("copy_sizes", P_I32)]


class SplitParams(ctypes.Structure):
    _fields_ = _ints("num_outputs", "outer_size") + [("copy_sizes", P_I32)]


class StridedSliceParams(ctypes.Structure):
    _fields_ = [("input_dims", DIMS), ("begin", DIMS), ("stride", DIMS),
                ("output_dims", DIMS)]


class SliceParams(ctypes.Structure):
    _fields_ = [("input_dims", DIMS), ("begin", DIMS), ("size", DIMS)]


class ReshapeParams(ctypes.Structure):
    _fields_ = _ints("size")


class TransposeParams(ctypes.Structure):
    _fields_ = [("input_dims", DIMS), ("perm", DIMS)]


class QuantizeParams(ctypes.Structure):
    _fields_ = [("size", I32), ("scale", ctypes.c_float), ("zero_point", I32)]


class RequantizeParams(ctypes.Structure):
    _fields_ = _ints("size", "input_zero_point", "output_zero_point", "multiplier", "shift")


class DequantizeParams(ctypes.Structure):
    _fields_ = [("size", I32), ("zero_point", I32), ("scale", ctypes.c_double)]


class SoftmaxParams(ctypes.Structure):
    _fields_ = _ints("outer_size", "depth", "input_multiplier", "input_left_shift",
                     "diff_min")


class ResizeNearestNeighborParams(ctypes.Structure):
    _fields_ = _ints("batches", "input_height", "input_width", "depth", "output_height",
                     "output_width", "align_corners", "half_pixel_centers")


class LstmGateParams(ctypes.Structure):
    _fields_ = _ints("input_multiplier", "input_shift", "recurrent_multiplier",
                     "recurrent_shift", "input_weights_offset", "recurrent_weights_offset")


class UnidirectionalSequenceLstmParams(ctypes.Structure):
    _fields_ = _ints("batches", "time_steps", "input_depth", "state_depth", "time_major",
                     "input_offset", "hidden_offset") + [
        ("input_gate", LstmGateParams), ("forget_gate", LstmGateParams),
        ("cell_gate", LstmGateParams), ("output_gate", LstmGateParams)] + _ints(
        "forget_cell_multiplier", "forget_cell_shift",
        "input_cell_multiplier", "input_cell_shift", "hidden_multiplier", "hidden_shift",
        "hidden_zero_point", "cell_tanh_multiplier", "cell_tanh_shift", "use_cell_clip",
        "cell_clip")


class SvdfParams(ctypes.Structure):
    _fields_ = _ints("batches", "input_depth", "num_filters", "num_units", "rank",
                     "memory_size", "state_int16", "input_zero_point", "state_zero_point",
                     "output_zero_point", "feature_multiplier", "feature_shift",
                     "time_multiplier", "time_shift")
# ---- 17shape: data movement, reduce and matmul ops ----
class SumParams(ctypes.Structure):
    _fields_ = MeanParams._fields_


class ReduceParams(ctypes.Structure):
    _fields_ = [("input_dims", DIMS), ("reduce", DIMS)]


class GatherParams(ctypes.Structure):
    _fields_ = _ints("batch_size", "outer_size", "coord_size", "axis_size", "inner_size")


class GatherNdParams(ctypes.Structure):
    _fields_ = _ints("num_slices", "slice_size", "index_depth") + [
        ("dims", DIMS), ("strides", DIMS)]


class BatchMatmulParams(ctypes.Structure):
    _fields_ = [("batch_dims", DIMS), ("lhs_batch_strides", DIMS),
                ("rhs_batch_strides", DIMS)] + _ints(
        "rows", "cols", "depth", "lhs_row_stride", "lhs_depth_stride", "rhs_depth_stride",
        "rhs_col_stride", "lhs_offset", "rhs_offset", "output_offset", "output_multiplier",
        "output_shift")


class ResizeBilinearParams(ctypes.Structure):
    _fields_ = ResizeNearestNeighborParams._fields_


class ArgMinMaxParams(ctypes.Structure):
    _fields_ = _ints("outer_size", "axis_size", "inner_size")


class SpaceToBatchNdParams(ctypes.Structure):
    _fields_ = _ints("input_batches", "input_height", "input_width", "depth", "block_height",
                     "block_width", "pad_top", "pad_left", "output_batches", "output_height",
                     "output_width", "pad_value")


class BatchToSpaceNdParams(ctypes.Structure):
    _fields_ = _ints("input_batches", "input_height", "input_width", "depth", "block_height",
                     "block_width", "crop_top", "crop_left", "output_batches", "output_height",
                     "output_width")


class MirrorPadParams(ctypes.Structure):
    _fields_ = [("input_dims", DIMS), ("pad_before", DIMS), ("output_dims", DIMS),
                ("offset", I32)]


class BroadcastToParams(ctypes.Structure):
    _fields_ = [("shape", Broadcast)]


class L2NormalizationParams(ctypes.Structure):
    _fields_ = _ints("outer_size", "depth", "input_zero_point")


class CumsumParams(ctypes.Structure):
    _fields_ = _ints("inner", "depth", "outer", "exclusive", "reverse", "input_offset",
                     "output_offset", "left_shift", "input_multiplier", "input_shift",
                     "output_multiplier", "output_shift", "activation_min", "activation_max")


class ReverseV2Params(ctypes.Structure):
    _fields_ = [("dims", DIMS), ("reverse", DIMS)]


class FillParams(ctypes.Structure):
    _fields_ = _ints("size")


class ZerosLikeParams(ctypes.Structure):
    _fields_ = _ints("size")


class ShapeParams(ctypes.Structure):
    _fields_ = [("rank", I32), ("dims", DIMS)]



class AddNParams(ctypes.Structure):
    _fields_ = _ints("size", "num_inputs", "input_offset", "output_offset", "left_shift",
                     "input_multiplier", "input_shift", "output_multiplier", "output_shift",
                     "activation_min", "activation_max")


class TransposeConvParams(ctypes.Structure):
    _fields_ = _ints("batches", "input_height", "input_width", "input_depth",
                     "filter_height", "filter_width", "output_height", "output_width",
                     "output_depth", "stride_height", "stride_width", "pad_height",
                     "pad_width", "input_offset", "output_offset", "activation_min",
                     "activation_max") + [
        ("output_multiplier", P_I32), ("output_shift", P_I32)]


class SoftmaxInt16Params(ctypes.Structure):
    _fields_ = _ints("outer_size", "depth", "input_multiplier", "input_left_shift") + [
        ("exp_lut", P_I16), ("one_over_one_plus_x_lut", P_I16)]


INT16_LUT_SIZE = 513  # RN_INT16_LUT_SIZE
P_U16 = ctypes.POINTER(ctypes.c_uint16)


class SigmoidInt16Params(ctypes.Structure):
    _fields_ = _ints("size", "input_multiplier", "input_left_shift") + [
        ("sigmoid_lut", P_U16)]


SIGMOID_LUT_SIZE = 256  # RN_SIGMOID_LUT_SIZE


P_P_I8 = ctypes.POINTER(P_I8)

# Entry point name -> (params struct, argument types after the params pointer).
SIGNATURES = {
    "rn_conv_2d": (Conv2DParams, [P_I8, P_I8, P_I32, P_I8]),
    "rn_depthwise_conv_2d": (DepthwiseConv2DParams, [P_I8, P_I8, P_I32, P_I8]),
    "rn_fully_connected": (FullyConnectedParams, [P_I8, P_I8, P_I32, P_I8]),
    "rn_add": (AddParams, [P_I8, P_I8, P_I8]),
    "rn_sub": (SubParams, [P_I8, P_I8, P_I8]),
    "rn_mul": (MulParams, [P_I8, P_I8, P_I8]),
    "rn_tanh": (TanhParams, [P_I8, P_I8]),
    "rn_logistic": (LogisticParams, [P_I8, P_I8]),
    "rn_relu": (ReluParams, [P_I8, P_I8]),
    "rn_relu6": (Relu6Params, [P_I8, P_I8]),
    "rn_average_pool_2d": (Pool2DParams, [P_I8, P_I8]),
    "rn_max_pool_2d": (Pool2DParams, [P_I8, P_I8]),
    "rn_mean": (MeanParams, [P_I8, P_I8]),
    "rn_pad": (PadParams, [P_I8, P_I8]),
    "rn_concatenation": (ConcatenationParams, [P_P_I8, P_I8]),
    "rn_split": (SplitParams, [P_I8, P_P_I8]),
    "rn_strided_slice": (StridedSliceParams, [P_I8, P_I8]),
    "rn_slice": (SliceParams, [P_I8, P_I8]),
    "rn_reshape": (ReshapeParams, [P_I8, P_I8]),
    "rn_transpose": (TransposeParams, [P_I8, P_I8]),
    "rn_quantize": (QuantizeParams, [P_F32, P_I8]),
    "rn_requantize": (RequantizeParams, [P_I8, P_I8]),
    "rn_dequantize": (DequantizeParams, [P_I8, P_F32]),
    "rn_softmax": (SoftmaxParams, [P_I8, P_I8]),
    "rn_resize_nearest_neighbor": (ResizeNearestNeighborParams, [P_I8, P_I8]),
    "rn_unidirectional_sequence_lstm": (UnidirectionalSequenceLstmParams,
                                        [P_I8, P_I8, P_I32, P_I8, P_I16, P_I16, P_I8]),
    "rn_unidirectional_sequence_lstm_int16": (UnidirectionalSequenceLstmParams,
                                              [P_I16, P_I8, P_I64, P_I16, P_I16, P_I16, P_I16]),
    "rn_svdf": (SvdfParams, [P_I8, P_I8, P_VOID, P_I32, P_VOID, P_I32, P_I8]),
    # 17shape
    "rn_sum": (SumParams, [P_I8, P_I8]),
    "rn_reduce_max": (ReduceParams, [P_I8, P_I8]),
    "rn_reduce_min": (ReduceParams, [P_I8, P_I8]),
    "rn_gather": (GatherParams, [P_I8, P_I32, P_I8]),
    "rn_gather_nd": (GatherNdParams, [P_I8, P_I32, P_I8]),
    "rn_batch_matmul": (BatchMatmulParams, [P_I8, P_I8, P_I8]),
    "rn_resize_bilinear": (ResizeBilinearParams, [P_I8, P_I8]),
    "rn_arg_max": (ArgMinMaxParams, [P_I8, P_I32]),
    "rn_arg_min": (ArgMinMaxParams, [P_I8, P_I32]),
    "rn_space_to_batch_nd": (SpaceToBatchNdParams, [P_I8, P_I8]),
    "rn_batch_to_space_nd": (BatchToSpaceNdParams, [P_I8, P_I8]),
    "rn_mirror_pad": (MirrorPadParams, [P_I8, P_I8]),
    "rn_broadcast_to": (BroadcastToParams, [P_I8, P_I8]),
    "rn_l2_normalization": (L2NormalizationParams, [P_I8, P_I8]),
    "rn_cumsum": (CumsumParams, [P_I8, P_I8]),
    "rn_reverse_v2": (ReverseV2Params, [P_I8, P_I8]),
    "rn_fill": (FillParams, [P_I8, P_I8]),
    "rn_zeros_like": (ZerosLikeParams, [P_I8, P_I8]),
    "rn_shape": (ShapeParams, [P_I8, P_I32]),
    "rn_add_n": (AddNParams, [P_P_I8, P_I8]),
    "rn_transpose_conv": (TransposeConvParams, [P_I8, P_I8, P_I32, P_I8]),
    "rn_conv_2d_16x8": (Conv2DParams, [P_I16, P_I8, P_I64, P_I16]),
    "rn_depthwise_conv_2d_16x8": (DepthwiseConv2DParams, [P_I16, P_I8, P_I64, P_I16]),
    "rn_fully_connected_16x8": (FullyConnectedParams, [P_I16, P_I8, P_I64, P_I16]),
    "rn_transpose_conv_16x8": (TransposeConvParams, [P_I16, P_I8, P_I64, P_I16]),
    "rn_add_int16": (AddParams, [P_I16, P_I16, P_I16]),
    "rn_sub_int16": (SubParams, [P_I16, P_I16, P_I16]),
    "rn_mul_int16": (MulParams, [P_I16, P_I16, P_I16]),
    "rn_average_pool_2d_int16": (Pool2DParams, [P_I16, P_I16]),
    "rn_max_pool_2d_int16": (Pool2DParams, [P_I16, P_I16]),
    "rn_quantize_int16": (QuantizeParams, [P_F32, P_I16]),
    "rn_requantize_int8_int16": (RequantizeParams, [P_I8, P_I16]),
    "rn_requantize_int16_int8": (RequantizeParams, [P_I16, P_I8]),
    "rn_requantize_int16_int16": (RequantizeParams, [P_I16, P_I16]),
    "rn_dequantize_int16": (DequantizeParams, [P_I16, P_F32]),
    "rn_mean_int16": (MeanParams, [P_I16, P_I16]),
    "rn_softmax_int16": (SoftmaxInt16Params, [P_I16, P_I16]),
    "rn_tanh_int16": (SigmoidInt16Params, [P_I16, P_I16]),
    "rn_logistic_int16": (SigmoidInt16Params, [P_I16, P_I16]),
}


# ---- elementwise math (issue 17) ----
class LeakyReluParams(ctypes.Structure):
    _fields_ = _ints("size", "input_zero_point", "output_zero_point", "output_multiplier_alpha",
                     "output_shift_alpha", "output_multiplier_identity", "output_shift_identity")


class HardSwishParams(ctypes.Structure):
    _fields_ = _ints("size", "input_zero_point", "output_zero_point",
                     "reluish_multiplier_fixedpoint_int16", "reluish_multiplier_exponent",
                     "output_multiplier_fixedpoint_int16", "output_multiplier_exponent")


class AbsParams(ctypes.Structure):
    _fields_ = _ints("size", "input_offset", "output_offset", "needs_rescale", "multiplier",
                     "shift")


class RsqrtParams(ctypes.Structure):
    _fields_ = _ints("size", "input_offset", "output_offset", "multiplier", "shift")


class PreluParams(ctypes.Structure):
    _fields_ = [("shape", Broadcast)] + _ints(
        "input_offset", "alpha_offset", "output_offset", "output_multiplier_1", "output_shift_1",
        "output_multiplier_2", "output_shift_2")


class MaximumMinimumParams(ctypes.Structure):
    _fields_ = [("shape", Broadcast)]


class SquaredDifferenceParams(ctypes.Structure):
    _fields_ = _ADD_FIELDS


class DivParams(ctypes.Structure):
    _fields_ = MulParams._fields_


class ComparisonParams(ctypes.Structure):
    _fields_ = [("shape", Broadcast)] + _ints(
        "rescale", "left_shift", "input1_offset", "input1_multiplier", "input1_shift",
        "input2_offset", "input2_multiplier", "input2_shift")


class LogicalParams(ctypes.Structure):
    _fields_ = [("shape", Broadcast)]


class LogicalNotParams(ctypes.Structure):
    _fields_ = _ints("size")


class SelectV2Params(ctypes.Structure):
    _fields_ = [("dims", DIMS), ("strides_condition", DIMS), ("strides_x", DIMS),
                ("strides_y", DIMS)]


class LogSoftmaxParams(ctypes.Structure):
    _fields_ = _ints("outer_size", "depth", "input_multiplier", "input_left_shift",
                     "reverse_scaling_divisor", "reverse_scaling_right_shift", "diff_min")


class EluParams(ctypes.Structure):
    _fields_ = [("size", I32), ("table", ctypes.c_int8 * 256)]


class GeluParams(ctypes.Structure):
    _fields_ = EluParams._fields_


class CastParams(ctypes.Structure):
    _fields_ = _ints("size", "input_type", "output_type")


_BINARY_I8 = [P_I8, P_I8, P_I8]
SIGNATURES.update({
    "rn_leaky_relu": (LeakyReluParams, [P_I8, P_I8]),
    "rn_hard_swish": (HardSwishParams, [P_I8, P_I8]),
    "rn_abs": (AbsParams, [P_I8, P_I8]),
    "rn_rsqrt": (RsqrtParams, [P_I8, P_I8]),
    "rn_prelu": (PreluParams, _BINARY_I8),
    "rn_maximum": (MaximumMinimumParams, _BINARY_I8),
    "rn_minimum": (MaximumMinimumParams, _BINARY_I8),
    "rn_squared_difference": (SquaredDifferenceParams, _BINARY_I8),
    "rn_div": (DivParams, _BINARY_I8),
    "rn_equal": (ComparisonParams, _BINARY_I8),
    "rn_not_equal": (ComparisonParams, _BINARY_I8),
    "rn_less": (ComparisonParams, _BINARY_I8),
    "rn_less_equal": (ComparisonParams, _BINARY_I8),
    "rn_greater": (ComparisonParams, _BINARY_I8),
    "rn_greater_equal": (ComparisonParams, _BINARY_I8),
    "rn_logical_and": (LogicalParams, _BINARY_I8),
    "rn_logical_or": (LogicalParams, _BINARY_I8),
    "rn_logical_not": (LogicalNotParams, [P_I8, P_I8]),
    "rn_select_v2": (SelectV2Params, [P_I8, P_I8, P_I8, P_I8]),
    "rn_log_softmax": (LogSoftmaxParams, [P_I8, P_I8]),
    "rn_elu": (EluParams, [P_I8, P_I8]),
    "rn_gelu": (GeluParams, [P_I8, P_I8]),
    "rn_cast": (CastParams, [ctypes.c_void_p, ctypes.c_void_p]),
})


# 17 control flow: int32 ADD and comparisons of WHILE loop counters
class Int32BinaryParams(ctypes.Structure):
    _fields_ = [("shape", Broadcast)]


class Int32CompareParams(ctypes.Structure):
    _fields_ = [("shape", Broadcast)] + _ints("which")


SIGNATURES.update({
    "rn_add_int32": (Int32BinaryParams, [P_I32, P_I32, P_I32]),
    "rn_compare_int32": (Int32CompareParams, [P_I32, P_I32, P_I8]),
})


def declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Set argtypes/restype of every entry point of a loaded kernel library."""
    for name, (struct, args) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.POINTER(struct), *args]
        fn.restype = ctypes.c_int
    return lib
