"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: the weighted kernels (a constant int8
filter, an optional int32 bias, per-channel or per-tensor rescale).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_conv_2d.py, test_depthwise_conv_2d.py, test_fully_connected.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import Kernel, INT8, numel, hw_pair, explicit_pads, check_quant, index_math_fits
from rnnedge.kernels.params import Quant


class _Weighted(Kernel):
    """Ops computing one int8 output from an int8 input, a constant int8 filter
    (`self.filter`) and an optional int32 bias (`self.bias`): convolutions and FC."""

    def __call__(self, x, out=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(x), self._ptr(self.filter), self._ptr(self.bias, structs.P_I32),
                  self._ptr(out))
        return out


class _Conv(_Weighted):
    """Shared prepare for CONV_2D and DEPTHWISE_CONV_2D. `padding` is "SAME", "VALID" or
    explicit ((top, bottom), (left, right)): taps in the explicit padding are skipped, which
    equals padding the input with its zero point (a PAD fused into the conv)."""

    def _prepare(self, input_shape, filter_hw, output_depth, output_shape, input_q,
                 filter_scales, output_q, stride, dilation, padding, activation, bias):
        if len(input_shape) != 4:
            raise RnnedgeError(f"{self.op}: input must be 4-D NHWC, got {tuple(input_shape)}")
        check_quant(input_q, "input", self.op)
        check_quant(output_q, "output", self.op)
        check_quant(Quant(filter_scales, 0), "filter", self.op)
        n, h, w, _ = (int(d) for d in input_shape)
        (sh, sw), (dh, dw) = hw_pair(stride), hw_pair(dilation)
        if min(sh, sw, dh, dw) <= 0:
            raise RnnedgeError(f"{self.op}: strides and dilations must be positive")
        fh, fw = filter_hw
        explicit = explicit_pads(padding)
        if explicit is not None:
            (top, bottom), (left, right) = explicit
            computed = (n, (h + top + bottom - (fh - 1) * dh - 1) // sh + 1,
                        (w + left + right - (fw - 1) * dw - 1) // sw + 1, output_depth)
            if min(computed[1:3]) <= 0:
                raise RnnedgeError(f"{self.op}: the padded input is smaller than the filter")
            if output_shape is not None and tuple(int(d) for d in output_shape) != computed:
                raise RnnedgeError(f"{self.op}: output shape {tuple(output_shape)} does not "
                                   f"match {computed} of padding {explicit}")
            output_shape = computed
        elif output_shape is None:
            output_shape = (n, params.output_size(padding, h, fh, sh, dh),
                            params.output_size(padding, w, fw, sw, dw), output_depth)
        output_shape = tuple(int(d) for d in output_shape)
        if len(output_shape) != 4 or output_shape[0] != n or output_shape[3] != output_depth:
            raise RnnedgeError(f"{self.op}: output shape {output_shape} does not match the "
                               f"input batch {n} and {output_depth} output channels")
        if bias is not None:
            bias = self._const(bias, np.int32)
            if bias.size != output_depth:
                raise RnnedgeError(f"{self.op}: bias has {bias.size} entries for "
                                   f"{output_depth} output channels")
        mults, shifts = params.per_channel_multipliers(input_q.scale, filter_scales,
                                                  output_q.scale, output_depth)
        lo, hi = params.activation_range(activation, output_q)
        pad_h = (explicit[0][0] if explicit is not None
                 else params.compute_padding(sh, dh, h, fh, output_shape[1]))
        pad_w = (explicit[1][0] if explicit is not None
                 else params.compute_padding(sw, dw, w, fw, output_shape[2]))
        index_math_fits(self.op, output_shape[1:3], (fh, fw), (sh, sw), (dh, dw),
                        (pad_h, pad_w))
        self.input_shape, self.output_shape, self.bias = tuple(input_shape), output_shape, bias
        return dict(
            batches=n, input_height=h, input_width=w,
            output_height=output_shape[1], output_width=output_shape[2],
            output_depth=output_depth, filter_height=fh, filter_width=fw,
            stride_height=sh, stride_width=sw, dilation_height=dh, dilation_width=dw,
            pad_height=pad_h, pad_width=pad_w,
            input_offset=-int(input_q.zero_point), output_offset=int(output_q.zero_point),
            activation_min=lo, activation_max=hi,
            output_multiplier=self._const(mults, np.int32).ctypes.data_as(structs.P_I32),
            output_shift=self._const(shifts, np.int32).ctypes.data_as(structs.P_I32))


class Conv2D(_Conv):
    """CONV_2D: filter OHWI int8, bias int32 (or None), per-channel or per-tensor
    filter scales; grouped when the input depth is a multiple of the filter's."""

    op, entry = "CONV_2D", "rn_conv_2d"

    def __init__(self, input_shape, filter, bias, input_q: Quant, filter_scales,
                 output_q: Quant, *, stride=1, dilation=1, padding="SAME",
                 activation="NONE", output_shape=None, lib=None):
        super().__init__(lib)
        self.filter = self._const(filter, np.int8)
        if self.filter.ndim != 4:
            raise RnnedgeError(f"{self.op}: filter must be 4-D OHWI")
        oc, fh, fw, fic = self.filter.shape
        if fic == 0 or int(input_shape[3]) % fic or oc % (int(input_shape[3]) // fic):
            raise RnnedgeError(f"{self.op}: input depth {input_shape[3]} does not match the "
                               f"filter input depth {fic} and {oc} output channels")
        fields = self._prepare(input_shape, (fh, fw), oc, output_shape, input_q,
                               filter_scales, output_q, stride, dilation, padding,
                               activation, bias)
        self.params = structs.Conv2DParams(input_depth=int(input_shape[3]),
                                     filter_input_depth=fic, **fields)


class DepthwiseConv2D(_Conv):
    """DEPTHWISE_CONV_2D: filter [1, H, W, input_depth * depth_multiplier] int8."""

    op, entry = "DEPTHWISE_CONV_2D", "rn_depthwise_conv_2d"

    def __init__(self, input_shape, filter, bias, input_q: Quant, filter_scales,
                 output_q: Quant, *, stride=1, dilation=1, padding="SAME",
                 activation="NONE", output_shape=None, lib=None):
        super().__init__(lib)
        self.filter = self._const(filter, np.int8)
        if self.filter.ndim != 4 or self.filter.shape[0] != 1:
            raise RnnedgeError(f"{self.op}: filter must be [1, H, W, C]")
        _, fh, fw, oc = self.filter.shape
        ic = int(input_shape[3])
        if ic == 0 or oc % ic:
            raise RnnedgeError(f"{self.op}: {oc} output channels is not a multiple of "
                               f"{ic} input channels")
        fields = self._prepare(input_shape, (fh, fw), oc, output_shape, input_q,
                               filter_scales, output_q, stride, dilation, padding,
                               activation, bias)
        self.params = structs.DepthwiseConv2DParams(input_depth=ic, depth_multiplier=oc // ic,
                                              **fields)


class FullyConnected(_Weighted):
    """FULLY_CONNECTED: filter [output_depth, accum_depth]; the input is read as
    [batches, accum_depth]; the output is [batches, output_depth] (or the input's
    leading dims with keep_num_dims)."""

    op, entry = "FULLY_CONNECTED", "rn_fully_connected"

    def __init__(self, input_shape, filter, bias, input_q: Quant, filter_q: Quant,
                 output_q: Quant, *, activation="NONE", keep_num_dims=False, lib=None):
        super().__init__(lib)
        for q, what in ((input_q, "input"), (output_q, "output"), (filter_q, "filter")):
            check_quant(q, what, self.op)
        self.filter = self._const(filter, np.int8)
        if self.filter.ndim != 2:
            raise RnnedgeError(f"{self.op}: filter must be 2-D [out, in]")
        out_depth, accum = self.filter.shape
        total = numel(input_shape)
        if accum == 0 or total % accum:
            raise RnnedgeError(f"{self.op}: input of {total} elements is not a multiple of the "
                               f"filter depth {accum}")
        batches = total // accum
        self.bias = None if bias is None else self._const(bias, np.int32)
        if self.bias is not None and self.bias.size != out_depth:
            raise RnnedgeError(f"{self.op}: bias has {self.bias.size} entries for {out_depth} "
                               "outputs")
        scales = np.atleast_1d(np.asarray(filter_q.scale, dtype=np.float32))
        per_channel = scales.size > 1
        if per_channel:
            mults, shifts = params.per_channel_multipliers(input_q.scale, scales, output_q.scale,
                                                      out_depth)
        else:
            m, s = params.fc_per_tensor_multiplier(input_q.scale, scales[0], output_q.scale)
            mults, shifts = np.array([m], np.int32), np.array([s], np.int32)
        lo, hi = params.activation_range(activation, output_q)
        self.input_shape = tuple(input_shape)
        self.output_shape = (tuple(input_shape[:-1]) + (out_depth,) if keep_num_dims
                             else (batches, out_depth))
        self.params = structs.FullyConnectedParams(
            batches=batches, accum_depth=accum, output_depth=out_depth,
            input_offset=-int(input_q.zero_point), filter_offset=-int(filter_q.zero_point),
            output_offset=int(output_q.zero_point), activation_min=lo, activation_max=hi,
            per_channel=int(per_channel),
            output_multiplier=self._const(mults, np.int32).ctypes.data_as(structs.P_I32),
            output_shift=self._const(shifts, np.int32).ctypes.data_as(structs.P_I32))
