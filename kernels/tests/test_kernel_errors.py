"""Bad shapes, buffers and quantisation raise RnnedgeError naming the op, before any
memory is touched; the C kernels reject inconsistent params structs themselves."""

import ctypes

import numpy as np
import pytest

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops, structs
from rnnedge.kernels.params import Quant

Q = Quant(0.05, 0)


def test_buffer_dtype_size_and_layout_are_checked(lib):
    relu = ops.Relu((2, 3), Q, Q, lib=lib)
    with pytest.raises(RnnedgeError, match="RELU: input has dtype float32"):
        relu(np.zeros((2, 3), np.float32))
    with pytest.raises(RnnedgeError, match="RELU: input has 5 elements, expected 6"):
        relu(np.zeros(5, np.int8))
    with pytest.raises(RnnedgeError, match="C-contiguous"):
        relu(np.zeros((3, 2), np.int8).T)
    with pytest.raises(RnnedgeError, match="output has 7 elements"):
        relu(np.zeros((2, 3), np.int8), out=np.zeros(7, np.int8))


@pytest.mark.parametrize("make, message", [
    (lambda lib: ops.Conv2D((1, 4, 4, 3), np.zeros((2, 3, 3, 2), np.int8), None, Q, 0.1, Q,
                            lib=lib), "CONV_2D: input depth 3"),
    (lambda lib: ops.Conv2D((1, 4, 4, 2), np.zeros((2, 3, 3, 2), np.int8), None, Q, 0.1, Q,
                            padding="EXPLICIT", lib=lib), "padding 'EXPLICIT'"),
    (lambda lib: ops.Conv2D((1, 4, 4, 2), np.zeros((2, 3, 3, 2), np.int8), None, Q, 0.1, Q,
                            activation="TANH", lib=lib), "fused activation"),
    (lambda lib: ops.DepthwiseConv2D((1, 4, 4, 3), np.zeros((1, 3, 3, 4), np.int8), None, Q,
                                     0.1, Q, lib=lib), "not a multiple"),
    (lambda lib: ops.FullyConnected((2, 7), np.zeros((3, 4), np.int8), None, Q, Q, Q, lib=lib),
     "not a multiple of the filter depth"),
    (lambda lib: ops.Add((2, 3), (4, 3), Q, Q, Q, lib=lib), "cannot be broadcast"),
    (lambda lib: ops.Mul((2, 1, 3, 4, 5), (1, 1, 1, 1, 5), Q, Q, Q, lib=lib),
     "MUL: broadcasting rank-5"),
    (lambda lib: ops.Tanh((4,), Q, Quant(0.01, 0), lib=lib), "TANH needs output scale"),
    (lambda lib: ops.Logistic((4,), Q, Quant(1 / 256, 0), lib=lib), "LOGISTIC needs"),
    (lambda lib: ops.Softmax((4,), Q, Quant(1 / 128, 0), lib=lib), "SOFTMAX needs"),
    (lambda lib: ops.Relu((4,), Quant(0.0, 0), Q, lib=lib), "scale must be positive"),
    (lambda lib: ops.Relu((4,), Quant(0.1, 300), Q, lib=lib), "outside int8"),
    (lambda lib: ops.StridedSlice((4, 4), (0, 0), (4, 4), (1, 1), ellipsis_mask=1, lib=lib),
     "ellipsis"),
    (lambda lib: ops.StridedSlice((4, 4), (0, 0), (4, 4), (1, 0), lib=lib), "stride of 0"),
    (lambda lib: ops.Transpose((2, 3), (0, 0), lib=lib), "not a permutation"),
    (lambda lib: ops.Pad((2, 3), [[0, -1], [0, 0]], 0, lib=lib), "paddings"),
    (lambda lib: ops.Split((2, 6), 1, [2, 3], lib=lib), "do not sum to 6"),
    (lambda lib: ops.Concatenation([(2, 3), (3, 3)], 1, lib=lib), "differ off axis"),
    (lambda lib: ops.Mean((2, 3), (2,), Q, Q, lib=lib), "axis 2 out of range"),
    (lambda lib: ops.Slice((2, 3), (1, 0), (2, 3), lib=lib), "do not fit"),
    (lambda lib: ops.Reshape((2, 3), (4, 2), lib=lib), "cannot reshape"),
    (lambda lib: ops.Transpose((1,) * 7, tuple(range(7)), lib=lib), "rank 7"),
    (lambda lib: ops.AveragePool2D((1, 4, 4, 1), (2, 2), Q, stride=1, padding="VALID",
                                   output_shape=(1, 9, 9, 1), lib=lib), "entirely in the padding"),
])
def test_invalid_ops_are_rejected_with_a_clear_message(make, message, lib):
    with pytest.raises(RnnedgeError, match=message):
        make(lib)


def test_c_kernels_validate_their_params_struct(lib):
    bad_conv = structs.Conv2DParams(filter_input_depth=0, output_depth=1, stride_height=1,
                                    stride_width=1, dilation_height=1, dilation_width=1)
    assert lib.rn_conv_2d(ctypes.byref(bad_conv), None, None, None, None) == 1
    bad_slice = structs.SliceParams(input_dims=structs.DIMS(1, 1, 1, 1, 1, 4),
                                    begin=structs.DIMS(0, 0, 0, 0, 0, 3),
                                    size=structs.DIMS(1, 1, 1, 1, 1, 2))
    assert lib.rn_slice(ctypes.byref(bad_slice), None, None) == 1


def test_a_rejected_params_struct_raises(lib):
    kernel = ops.Transpose((2, 3), (1, 0), lib=lib)
    kernel.params.perm[5] = kernel.params.perm[4]
    with pytest.raises(RnnedgeError, match="TRANSPOSE: the C kernel rejected"):
        kernel(np.zeros((2, 3), np.int8))


@pytest.mark.parametrize("make", [
    lambda lib: ops.Mul((2, 3), (2, 3), Q, Q, Quant(1e-30, 0), lib=lib),
    lambda lib: ops.Conv2D((1, 4, 4, 2), np.ones((2, 3, 3, 2), np.int8), None, Q,
                           np.array([0.1, 1e25], np.float32), Q, lib=lib),
    lambda lib: ops.FullyConnected((2, 4), np.ones((3, 4), np.int8), None, Q, Quant(1e30, 0), Q,
                                   lib=lib),
], ids=["mul", "conv-per-channel", "fully-connected"])
def test_scales_needing_an_unsafe_shift_are_refused(lib, make):
    """A rescale shift outside [-31, 30] would be undefined behaviour in C: the kernel refuses
    its params (scalar shifts and per-channel shift arrays alike)."""
    with pytest.raises(RnnedgeError, match=r"rescale shift of -?\d+, outside \[-31, 30\]"):
        make(lib)
