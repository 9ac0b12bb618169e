"""Prepared int8 kernels, one class per TFLite op, over caller-owned numpy buffers; one module
per op family, beside the test files of the same family in kernels/tests/.

Why: the firmware runtime prepares each op once (shapes, constant tensors,
quantisation parameters derived as TFLM's Prepare does) and then runs it on views
of its static arena without allocating.  Each class mirrors that split:
``__init__`` validates everything the C kernel relies on and builds its params
struct; ``__call__(inputs..., out=None)`` checks the buffers' dtype and size (so a
bad call raises `RnnedgeError` naming the op instead of reading out of bounds) and
runs the kernel, allocating ``out`` only when none is given.

Shapes are tuples of ints in TFLite order (NHWC images).  Quantisation is passed as
`params.Quant(scale, zero_point)`.

Modules: base (Kernel, SingleIO, shared helpers), conv, elementwise, activations, quantize,
pooling, mean, shape_ops, softmax, resize_nearest_neighbor, recurrent, unary_math, binary_math,
comparisons, cast; reduce, gather, batch_matmul, resize_bilinear, pack, movement, norm_scan;
int16 (the int16x8 variants), transpose_conv.
May import: numpy, ctypes, the standard library, rnnedge.errors and this package.
"""

from rnnedge.kernels.ops.activations import Tanh, Logistic, Relu, Relu6
from rnnedge.kernels.ops.base import SHIFT_RANGE, Kernel, SingleIO
from rnnedge.kernels.ops.conv import Conv2D, DepthwiseConv2D, FullyConnected
from rnnedge.kernels.ops.elementwise import Add, Sub, Mul
from rnnedge.kernels.ops.mean import Mean
from rnnedge.kernels.ops.pooling import AveragePool2D, MaxPool2D
from rnnedge.kernels.ops.quantize import Requantize, Quantize, Dequantize
from rnnedge.kernels.ops.resize_nearest_neighbor import ResizeNearestNeighbor
from rnnedge.kernels.ops.recurrent import Svdf, UnidirectionalSequenceLstm
from rnnedge.kernels.ops.shape_ops import (Concatenation, Pad, Reshape, Slice, Split,
                                           StridedSlice, Transpose)
from rnnedge.kernels.ops.softmax import Softmax
from rnnedge.kernels.ops.unary_math import (Abs, Elu, Gelu, HardSwish, LeakyRelu, LogSoftmax,
                                            Rsqrt)
from rnnedge.kernels.ops.binary_math import Div, Maximum, Minimum, Prelu, SquaredDifference
from rnnedge.kernels.ops.cast import Cast
from rnnedge.kernels.ops.comparisons import (Equal, Greater, GreaterEqual, Less, LessEqual,
                                             LogicalAnd, LogicalNot, LogicalOr, NotEqual,
                                             SelectV2)
from rnnedge.kernels.ops.batch_matmul import BatchMatmul
from rnnedge.kernels.ops.gather import EmbeddingLookup, Gather, GatherNd
from rnnedge.kernels.ops.pack import Pack, Unpack
from rnnedge.kernels.ops.reduce import ArgMax, ArgMin, ReduceMax, ReduceMin, Sum
from rnnedge.kernels.ops.movement import (BatchToSpaceNd, BroadcastTo, DepthToSpace, Fill,
                                          MirrorPad, ReverseV2, Shape, SpaceToBatchNd,
                                          SpaceToDepth, ZerosLike)
from rnnedge.kernels.ops.norm_scan import AddN, Cumsum, L2Normalization
from rnnedge.kernels.ops.resize_bilinear import ResizeBilinear
from rnnedge.kernels.ops.int16 import (AddInt16, AveragePool2DInt16, Conv2D16x8,
                                       DepthwiseConv2D16x8, DequantizeInt16,
                                       FullyConnected16x8, Int16Bytes, MaxPool2DInt16, MeanInt16,
                                       LogisticInt16, MulInt16, QuantizeInt16,
                                       RequantizeInt16, SoftmaxInt16, SubInt16, TanhInt16)
from rnnedge.kernels.ops.transpose_conv import TransposeConv, TransposeConv16x8
from rnnedge.kernels.ops.int32_math import AddInt32, CompareInt32

__all__ = ["SHIFT_RANGE", "Kernel", "SingleIO", "Conv2D", "DepthwiseConv2D", "FullyConnected",
           "Add", "Sub", "Mul", "Tanh", "Logistic", "Relu", "Relu6", "Requantize", "Quantize",
           "Dequantize", "AveragePool2D", "MaxPool2D", "Mean", "Pad", "Concatenation",
           "Split", "StridedSlice", "Slice", "Reshape", "Transpose", "Softmax",
           "ResizeNearestNeighbor", "UnidirectionalSequenceLstm", "Svdf",
           "Abs", "Elu", "Gelu", "HardSwish", "LeakyRelu", "LogSoftmax", "Rsqrt", "Div", "Maximum",
           "Minimum", "Prelu", "SquaredDifference", "Equal", "Greater", "GreaterEqual", "Less",
           "LessEqual", "LogicalAnd", "LogicalNot", "LogicalOr", "NotEqual", "SelectV2", "Cast",
           "BatchMatmul", "Gather", "GatherNd", "Pack", "Unpack", "ReduceMax", "ReduceMin", "Sum",
           "ResizeBilinear", "ArgMax", "ArgMin", "BatchToSpaceNd", "BroadcastTo", "DepthToSpace",
           "Fill", "MirrorPad", "ReverseV2", "Shape", "SpaceToBatchNd", "SpaceToDepth",
           "ZerosLike", "Cumsum", "L2Normalization", "AddN", "EmbeddingLookup",
           "Conv2D16x8", "DepthwiseConv2D16x8", "FullyConnected16x8", "AddInt16", "SubInt16",
           "MulInt16", "AveragePool2DInt16", "MaxPool2DInt16", "QuantizeInt16",
           "RequantizeInt16", "DequantizeInt16", "MeanInt16", "SoftmaxInt16", "TanhInt16",
           "LogisticInt16", "Int16Bytes", "TransposeConv",
           "TransposeConv16x8", "AddInt32", "CompareInt32"]
