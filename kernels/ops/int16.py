"""The int16x8 prepared kernels: int16 activations, int8 weights, int64 biases (TFLM's
16x8 quantisation mode), and `Int16Bytes`, which runs a byte-moving int8 kernel on int16
tensors.

Each class is the int8 class of the same op with TFLM's int16 path: the C entry point
`*_16x8` / `*_int16`, the int16 activation range, int64 biases for CONV_2D,
DEPTHWISE_CONV_2D and FULLY_CONNECTED (TFLM's AccumScalar = int64_t), the ADD/SUB left shift
15, and zero points of 0 where TFLM's int16 kernels require them (the convolutions and the
fully-connected layer ignore the zero point, so a non-zero one is refused).
Tests: kernels/tests/test_int16.py, against TFLM on models converted with
EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, params_int16, structs
from rnnedge.kernels.ops.base import Kernel, numel
from rnnedge.kernels.ops.conv import Conv2D, DepthwiseConv2D, FullyConnected
from rnnedge.kernels.ops.elementwise import Add, Mul, Sub
from rnnedge.kernels.ops.mean import Mean
from rnnedge.kernels.ops.pooling import AveragePool2D, MaxPool2D
from rnnedge.kernels.params import Quant

INT16 = np.dtype(np.int16)
INT8 = np.dtype(np.int8)
FLOAT32 = np.dtype(np.float32)


def require_zero_point(q: Quant, what: str, op: str) -> None:
    """TFLM's int16 kernels take symmetric int16 tensors (zero point 0)."""
    if int(q.zero_point) != 0:
        raise RnnedgeError(f"{op}: int16 {what} has zero point {q.zero_point}; TFLM's 16x8 "
                           "kernels require 0")


def int64_bias(kernel, bias, channels: int):
    """A constant int64 bias of `channels` entries (or None)."""
    if bias is None:
        return None
    values = np.asarray(bias)
    if values.dtype.kind not in "iu":
        raise RnnedgeError(f"{kernel.op}: a 16x8 bias must be an integer tensor")
    bias = kernel._const(values.astype(np.int64), np.int64)
    if bias.size != channels:
        raise RnnedgeError(f"{kernel.op}: bias has {bias.size} entries for {channels} output "
                           "channels")
    return bias


class _Weighted16x8:
    """The int16 in / int8 filter / int64 bias / int16 out call of the weighted kernels."""

    def _finish_16x8(self, bias, channels, activation, input_q, output_q):
        for q, what in ((input_q, "input"), (output_q, "output")):
            require_zero_point(q, what, self.op)
        self.bias = int64_bias(self, bias, channels)
        self.params.activation_min, self.params.activation_max = params.activation_range(
            activation, output_q, 16)

    def __call__(self, x, out=None):
        x = self._buffer(x, INT16, self.input_shape, "input")
        out = self._output(out, INT16, self.output_shape)
        self._run(self._ptr(x, structs.P_I16), self._ptr(self.filter),
                  self._ptr(self.bias, structs.P_I64), self._ptr(out, structs.P_I16))
        return out


class Conv2D16x8(_Weighted16x8, Conv2D):
    """CONV_2D int16x8 (TFLM ConvPerChannel<int64_t>)."""

    entry = "rn_conv_2d_16x8"

    def __init__(self, input_shape, filter, bias, input_q: Quant, filter_scales,
                 output_q: Quant, *, activation="NONE", **kw):
        super().__init__(input_shape, filter, None, input_q, filter_scales, output_q,
                         activation="NONE", **kw)
        self._finish_16x8(bias, self.output_shape[3], activation, input_q, output_q)


class DepthwiseConv2D16x8(_Weighted16x8, DepthwiseConv2D):
    """DEPTHWISE_CONV_2D int16x8 (TFLM DepthwiseConvPerChannel<int64_t>)."""

    entry = "rn_depthwise_conv_2d_16x8"

    def __init__(self, input_shape, filter, bias, input_q: Quant, filter_scales,
                 output_q: Quant, *, activation="NONE", **kw):
        super().__init__(input_shape, filter, None, input_q, filter_scales, output_q,
                         activation="NONE", **kw)
        self._finish_16x8(bias, self.output_shape[3], activation, input_q, output_q)


class FullyConnected16x8(_Weighted16x8, FullyConnected):
    """FULLY_CONNECTED int16x8 (per-tensor or per-channel filter, int64 bias)."""

    entry = "rn_fully_connected_16x8"

    def __init__(self, input_shape, filter, bias, input_q: Quant, filter_q: Quant,
                 output_q: Quant, *, activation="NONE", **kw):
        super().__init__(input_shape, filter, None, input_q, filter_q, output_q,
                         activation="NONE", **kw)
        self._finish_16x8(bias, self.output_shape[-1], activation, input_q, output_q)


class _BinaryInt16:
    """int16 ADD / SUB / MUL: TFLM's int16 Prepare (`bits` 16) and int16 buffers."""

    def _fields(self, q1, q2, qo, activation):
        return self.params_fn(q1, q2, qo, activation, bits=16)

    def __call__(self, x1, x2, out=None):
        x1 = self._buffer(x1, INT16, self.shape1, "input1")
        x2 = self._buffer(x2, INT16, self.shape2, "input2")
        out = self._output(out, INT16, self.output_shape)
        self._run(self._ptr(x1, structs.P_I16), self._ptr(x2, structs.P_I16),
                  self._ptr(out, structs.P_I16))
        return out


class AddInt16(_BinaryInt16, Add):
    """ADD int16 (left shift 15)."""

    entry, params_fn = "rn_add_int16", staticmethod(params.add_params)


class SubInt16(_BinaryInt16, Sub):
    """SUB int16 (left shift 15)."""

    entry, params_fn = "rn_sub_int16", staticmethod(params.sub_params)


class MulInt16(_BinaryInt16, Mul):
    """MUL int16."""

    entry, params_fn = "rn_mul_int16", staticmethod(params.mul_params)


class _PoolInt16:
    """int16 pools: the int16 activation range and buffers."""

    def __init__(self, input_shape, filter_size, output_q: Quant, *, activation="NONE", **kw):
        super().__init__(input_shape, filter_size, output_q, activation=activation, **kw)
        self.params.activation_min, self.params.activation_max = params.activation_range(
            activation, output_q, 16)

    def __call__(self, x, out=None):
        x = self._buffer(x, INT16, self.input_shape, "input")
        out = self._output(out, INT16, self.output_shape)
        self._run(self._ptr(x, structs.P_I16), self._ptr(out, structs.P_I16))
        return out


class AveragePool2DInt16(_PoolInt16, AveragePool2D):
    """AVERAGE_POOL_2D int16."""

    entry = "rn_average_pool_2d_int16"


class MaxPool2DInt16(_PoolInt16, MaxPool2D):
    """MAX_POOL_2D int16."""

    entry = "rn_max_pool_2d_int16"


class MeanInt16(Mean):
    """MEAN int16 (TFLM's QuantizedMeanOrSum<int16_t>)."""

    entry = "rn_mean_int16"

    def __call__(self, x, out=None):
        x = self._buffer(x, INT16, self.input_shape, "input")
        out = self._output(out, INT16, self.output_shape)
        self._run(self._ptr(x, structs.P_I16), self._ptr(out, structs.P_I16))
        return out


class SoftmaxInt16(Kernel):
    """SOFTMAX int16 -> int16 over the last axis (TFLM's LUT path; the LUTs are kept as
    constants of the kernel, as TFLM keeps them in its persistent arena)."""

    op, entry = "SOFTMAX", "rn_softmax_int16"

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, beta=1.0, lib=None):
        super().__init__(lib)
        shape = tuple(int(d) for d in shape)
        if not shape or shape[-1] <= 0:
            raise RnnedgeError(f"{self.op}: needs a non-empty last axis, got {shape}")
        fields = params_int16.softmax_int16_params(input_q, output_q, beta)
        luts = {k: self._const(fields.pop(k), np.int16).ctypes.data_as(structs.P_I16)
                for k in ("exp_lut", "one_over_one_plus_x_lut")}
        self.input_shape = self.output_shape = shape
        self.params = structs.SoftmaxInt16Params(outer_size=numel(shape[:-1]),
                                                 depth=shape[-1], **fields, **luts)

    def __call__(self, x, out=None):
        x = self._buffer(x, INT16, self.input_shape, "input")
        out = self._output(out, INT16, self.output_shape)
        self._run(self._ptr(x, structs.P_I16), self._ptr(out, structs.P_I16))
        return out


class _SigmoidInt16(Kernel):
    """TANH / LOGISTIC int16 (`tanh`): TFLM's sigmoid-table kernels."""

    tanh = True

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, lib=None):
        super().__init__(lib)
        try:
            fields = params_int16.sigmoid_int16_params(input_q, output_q, self.tanh)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        table = self._const(params_int16.sigmoid_table_uint16(), np.uint16)
        self.input_shape = self.output_shape = tuple(int(d) for d in shape)
        self.params = structs.SigmoidInt16Params(
            size=numel(shape), sigmoid_lut=table.ctypes.data_as(structs.P_U16), **fields)

    def __call__(self, x, out=None):
        x = self._buffer(x, INT16, self.input_shape, "input")
        out = self._output(out, INT16, self.output_shape)
        self._run(self._ptr(x, structs.P_I16), self._ptr(out, structs.P_I16))
        return out


class TanhInt16(_SigmoidInt16):
    """TANH int16."""

    op, entry, tanh = "TANH", "rn_tanh_int16", True


class LogisticInt16(_SigmoidInt16):
    """LOGISTIC int16."""

    op, entry, tanh = "LOGISTIC", "rn_logistic_int16", False


_PTRS = {INT8: structs.P_I8, INT16: structs.P_I16, FLOAT32: structs.P_F32}


class _Cast(Kernel):
    """One-input, one-output conversion between element types (`in_dtype` -> `out_dtype`)."""

    in_dtype = out_dtype = INT16

    def __call__(self, x, out=None):
        x = self._buffer(x, self.in_dtype, self.input_shape, "input")
        out = self._output(out, self.out_dtype, self.output_shape)
        self._run(self._ptr(x, _PTRS[self.in_dtype]), self._ptr(out, _PTRS[self.out_dtype]))
        return out


class QuantizeInt16(_Cast):
    """QUANTIZE float32 -> int16 (TFLM AffineQuantize<int16_t>)."""

    op, entry, in_dtype = "QUANTIZE", "rn_quantize_int16", FLOAT32

    def __init__(self, shape, output_q: Quant, *, lib=None):
        super().__init__(lib)
        self.input_shape = self.output_shape = tuple(shape)
        self.params = structs.QuantizeParams(size=numel(shape),
                                             scale=float(params.f32(output_q.scale)),
                                             zero_point=int(output_q.zero_point))


REQUANTIZE_ENTRIES = {(INT8, INT16): "rn_requantize_int8_int16",
                      (INT16, INT8): "rn_requantize_int16_int8",
                      (INT16, INT16): "rn_requantize_int16_int16"}


class RequantizeInt16(_Cast):
    """QUANTIZE int8 -> int16, int16 -> int8 or int16 -> int16 (TFLM Requantize with
    QuantizeMultiplier(input scale / output scale))."""

    op = "QUANTIZE"

    def __init__(self, shape, input_q: Quant, output_q: Quant, in_dtype, out_dtype, *,
                 lib=None):
        self.in_dtype, self.out_dtype = np.dtype(in_dtype), np.dtype(out_dtype)
        if (self.in_dtype, self.out_dtype) not in REQUANTIZE_ENTRIES:
            raise RnnedgeError(f"{self.op}: no int16 requantisation from {self.in_dtype} to "
                               f"{self.out_dtype}")
        self.entry = REQUANTIZE_ENTRIES[(self.in_dtype, self.out_dtype)]
        super().__init__(lib)
        for q in (input_q, output_q):
            if not np.isfinite(q.scale) or q.scale <= 0:
                raise RnnedgeError(f"{self.op}: scales must be positive and finite")
        self.input_shape = self.output_shape = tuple(shape)
        self.params = structs.RequantizeParams(size=numel(shape),
                                               **params.requantize_params(input_q, output_q))


class DequantizeInt16(_Cast):
    """DEQUANTIZE int16 -> float32."""

    op, entry, out_dtype = "DEQUANTIZE", "rn_dequantize_int16", FLOAT32

    def __init__(self, shape, input_q: Quant, *, lib=None):
        super().__init__(lib)
        self.input_shape = self.output_shape = tuple(shape)
        self.params = structs.DequantizeParams(size=numel(shape),
                                               zero_point=int(input_q.zero_point),
                                               scale=float(params.f32(input_q.scale)))


class Int16Bytes:
    """A byte-moving int8 kernel (`kernel`, built over the tensors' bytes: an extra trailing
    dimension of 2) run on int16 tensors, which it moves as whole 2-byte elements. Exposes
    the wrapped kernel's entry and params, and shapes in int16 elements."""

    def __init__(self, kernel):
        self.kernel, self.op, self.entry = kernel, kernel.op, kernel.entry
        self.params, self._keep = kernel.params, kernel._keep
        if hasattr(kernel, "input_shapes"):
            self.input_shapes = [self._elements(s) for s in kernel.input_shapes]
        else:
            self.input_shape = self._elements(kernel.input_shape)
        if hasattr(kernel, "output_shapes"):
            self.output_shapes = [self._elements(s) for s in kernel.output_shapes]
        else:
            self.output_shape = self._elements(kernel.output_shape)

    def _elements(self, byte_shape) -> tuple:
        """The int16 shape of a byte shape ending in 2."""
        if not byte_shape or byte_shape[-1] != 2:
            raise RnnedgeError(f"{self.op}: an int16 byte view must end in a dimension of 2")
        return tuple(byte_shape[:-1])

    @staticmethod
    def _bytes(x):
        """An int16 array seen as its bytes (shape + (2,))."""
        if not isinstance(x, np.ndarray) or x.dtype != INT16:
            raise RnnedgeError("an int16 byte-moving kernel takes int16 arrays")
        return np.ascontiguousarray(x).view(np.int8).reshape(x.shape + (2,))

    def __call__(self, *args):
        """Run on int16 arrays (a list of them for CONCATENATION); returns int16 arrays."""
        args = [[self._bytes(a) for a in x] if isinstance(x, (list, tuple)) else self._bytes(x)
                for x in args]
        out = self.kernel(*args)
        if isinstance(out, list):
            return [o.view(np.int16).reshape(o.shape[:-1]) for o in out]
        return out.view(np.int16).reshape(out.shape[:-1])
