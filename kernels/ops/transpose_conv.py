"""TRANSPOSE_CONV, int8 and int16x8: a constant filter [output_depth, H, W, input_depth],
an optional bias (int32 for int8; int64 for 16x8, or int16, which TFLM widens to int64),
per-channel requantisation, TFLM's padding and no fused activation (TFLM's Prepare uses
kTfLiteActNone).

Padding is TFLM's: ComputePaddingHeightWidth over the *output* size (the forward conv of the
output): with n = ComputeOutSize(padding, out, filter, stride), pad = max(0, (n - 1) * stride +
filter - out) // 2 along each axis; the input size itself does not enter (TFLM does not check
it; the C kernel reads only inputs inside the tensor).
Tests: kernels/tests/test_transpose_conv.py (against TFLM on Keras Conv2DTranspose models).
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import INT8, Kernel, check_quant, hw_pair, index_math_fits
from rnnedge.kernels.ops.int16 import INT16, int64_bias, require_zero_point
from rnnedge.kernels.params import Quant


class TransposeConv(Kernel):
    """TRANSPOSE_CONV int8 (TFLM reference_integer_ops::TransposeConv, int32 sums).
    `output_shape` is the model's constant output-shape operand (NHWC)."""

    op, entry = "TRANSPOSE_CONV", "rn_transpose_conv"
    dtype, bits = INT8, 8

    def __init__(self, input_shape, filter, bias, input_q: Quant, filter_scales,
                 output_q: Quant, output_shape, *, stride=1, padding="SAME", lib=None):
        super().__init__(lib)
        check_quant(input_q, "input", self.op)
        check_quant(output_q, "output", self.op)
        check_quant(Quant(filter_scales, 0), "filter", self.op)
        self.filter = self._const(filter, np.int8)
        if self.filter.ndim != 4 or len(input_shape) != 4 or len(output_shape) != 4:
            raise RnnedgeError(f"{self.op}: input, filter and output must be 4-D")
        oc, fh, fw, ic = self.filter.shape
        n, h, w, c = (int(d) for d in input_shape)
        out = tuple(int(d) for d in output_shape)
        if c != ic or out[0] != n or out[3] != oc or min(out) <= 0 or min(n, h, w, c) <= 0:
            raise RnnedgeError(f"{self.op}: input {tuple(input_shape)}, filter "
                               f"{self.filter.shape} and output {out} do not match")
        sh, sw = hw_pair(stride)
        if min(sh, sw) <= 0:
            raise RnnedgeError(f"{self.op}: strides must be positive")
        pads = []
        for size, f, s in ((out[1], fh, sh), (out[2], fw, sw)):
            forward = params.output_size(padding, size, f, s)  # TFLM's "unused" output size
            pads.append(params.compute_padding(s, 1, size, f, forward))
        index_math_fits(self.op, (h, w), (fh, fw), (sh, sw), (1, 1), pads)
        self.bias = self._bias(bias, oc)
        mults, shifts = params.per_channel_multipliers(input_q.scale, filter_scales,
                                                       output_q.scale, oc)
        lo, hi = params.activation_range("NONE", output_q, self.bits)
        self.input_shape, self.output_shape = (n, h, w, c), out
        self.params = structs.TransposeConvParams(
            batches=n, input_height=h, input_width=w, input_depth=c, filter_height=fh,
            filter_width=fw, output_height=out[1], output_width=out[2], output_depth=oc,
            stride_height=sh, stride_width=sw, pad_height=pads[0], pad_width=pads[1],
            input_offset=-int(input_q.zero_point), output_offset=int(output_q.zero_point),
            activation_min=lo, activation_max=hi,
            output_multiplier=self._const(mults, np.int32).ctypes.data_as(structs.P_I32),
            output_shift=self._const(shifts, np.int32).ctypes.data_as(structs.P_I32))

    def _bias(self, bias, channels):
        """The int32 bias (or None)."""
        if bias is None:
            return None
        bias = self._const(bias, np.int32)
        if bias.size != channels:
            raise RnnedgeError(f"{self.op}: bias has {bias.size} entries for {channels} "
                               "output channels")
        return bias

    def _pointers(self):
        return structs.P_I8, structs.P_I32

    def __call__(self, x, out=None):
        x = self._buffer(x, self.dtype, self.input_shape, "input")
        out = self._output(out, self.dtype, self.output_shape)
        data, bias = self._pointers()
        self._run(self._ptr(x, data), self._ptr(self.filter), self._ptr(self.bias, bias),
                  self._ptr(out, data))
        return out


class TransposeConv16x8(TransposeConv):
    """TRANSPOSE_CONV int16x8 (int64 sums, int64 bias; an int16 bias is widened as TFLM
    does; input and output zero points 0)."""

    entry, dtype, bits = "rn_transpose_conv_16x8", INT16, 16

    def __init__(self, input_shape, filter, bias, input_q: Quant, filter_scales,
                 output_q: Quant, output_shape, **kw):
        require_zero_point(input_q, "input", self.op)
        require_zero_point(output_q, "output", self.op)
        super().__init__(input_shape, filter, bias, input_q, filter_scales, output_q,
                         output_shape, **kw)

    def _bias(self, bias, channels):
        """The int64 bias (or None)."""
        return int64_bias(self, bias, channels)

    def _pointers(self):
        return structs.P_I16, structs.P_I64
