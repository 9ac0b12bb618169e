"""Prepared int8 kernels, one class per TFLite op, over caller-owned numpy buffers.

Why: the firmware runtime prepares each op once (shapes, constant tensors,
quantisation parameters derived as TFLM's Prepare does) and then runs it on views
of its static arena without allocating.  Each class mirrors that split:
``__init__`` validates everything the C kernel relies on and builds its params
struct; ``__call__(inputs..., out=None)`` checks the buffers' dtype and size (so a
bad call raises `RnnedgeError` naming the op instead of reading out of bounds) and
runs the kernel, allocating ``out`` only when none is given.

Shapes are tuples of ints in TFLite order (NHWC images).  Quantisation is passed as
`params.Quant(scale, zero_point)`.

May import: numpy, ctypes, the standard library, rnnedge.errors and this package.
"""

import ctypes as C
import math

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params as P
from rnnedge.kernels import structs as S
from rnnedge.kernels.params import Quant

INT8 = np.dtype(np.int8)
INT32_MAX = 2**31 - 1
BAD_INPUT = 2  # RN_BAD_INPUT in include/rnnedge_kernels.h


def _numel(shape) -> int:
    """Element count of a shape."""
    return int(np.prod([int(d) for d in shape], dtype=np.int64))


def _dims(values) -> S.DIMS:
    """A ctypes int32[6] from a padded shape."""
    return S.DIMS(*[int(v) for v in values])


SHIFT_RANGE = (-31, 30)  # rescale exponents the fixed-point kernels can apply without UB


def _shifts(struct):
    """Every rescale exponent in a params struct (scalar "*shift" fields, nested structs, and
    the per-channel `output_shift` arrays)."""
    for name, ftype in struct._fields_:
        value = getattr(struct, name)
        if isinstance(value, C.Structure):
            yield from _shifts(value)
        elif "shift" in name and isinstance(value, int):
            yield value
        elif name == "output_shift" and hasattr(ftype, "contents") and value:
            count = struct.output_depth if getattr(struct, "per_channel", 1) else 1
            yield from (value[i] for i in range(count))


class Kernel:
    """Base of the prepared kernels: holds the library, the params struct and the
    constant arrays its pointers refer to."""

    op = "KERNEL"
    entry = ""

    def __init__(self, lib=None):
        if lib is None:
            from rnnedge.kernels import load
            lib = load()
        self._fn = getattr(lib, self.entry)
        self._keep: list = []
        self._params = None

    @property
    def params(self):
        """The C params struct. Setting it checks every rescale shift in it (SHIFT_RANGE):
        a corrupted scale can ask for a shift the C kernels cannot apply without UB."""
        return self._params

    @params.setter
    def params(self, struct):
        lo, hi = SHIFT_RANGE
        bad = [s for s in _shifts(struct) if not lo <= s <= hi] if struct is not None else []
        if bad:
            raise RnnedgeError(f"{self.op}: the tensor scales need a rescale shift of {bad[0]}, "
                               f"outside [{lo}, {hi}]: check the quantisation parameters")
        self._params = struct

    def _const(self, array, dtype) -> np.ndarray:
        """A contiguous copy of a constant tensor, kept alive with the kernel."""
        arr = np.ascontiguousarray(array, dtype=dtype)
        self._keep.append(arr)
        return arr

    def _buffer(self, array, dtype, shape, what: str) -> np.ndarray:
        """Check that a runtime buffer has the dtype and element count expected."""
        if not isinstance(array, np.ndarray):
            raise RnnedgeError(f"{self.op}: {what} must be a numpy array")
        if array.dtype != np.dtype(dtype):
            raise RnnedgeError(f"{self.op}: {what} has dtype {array.dtype}, expected "
                               f"{np.dtype(dtype)}")
        if array.size != _numel(shape):
            raise RnnedgeError(f"{self.op}: {what} has {array.size} elements, expected "
                               f"{_numel(shape)} (shape {tuple(shape)})")
        if not array.flags.c_contiguous:
            raise RnnedgeError(f"{self.op}: {what} must be C-contiguous")
        return array

    def _output(self, out, dtype, shape) -> np.ndarray:
        """`out` checked like an input (and writable), or a new array when None."""
        if out is None:
            return np.empty(tuple(shape), dtype=dtype)
        if not out.flags.writeable:
            raise RnnedgeError(f"{self.op}: output buffer is read-only")
        return self._buffer(out, dtype, shape, "output")

    @staticmethod
    def _ptr(array, ctype=S.P_I8):
        """ctypes pointer to a numpy array's data (None stays NULL)."""
        return None if array is None else array.ctypes.data_as(ctype)

    def _run(self, *args) -> None:
        """Call the C entry point with the params struct; map its status to errors."""
        rc = self._fn(C.byref(self.params), *args)
        if rc == BAD_INPUT:
            raise RnnedgeError(f"{self.op}: the input data is outside the range TFLM's "
                               "fixed-point maths is defined on (TFLM asserts on it too)")
        if rc != 0:
            raise RnnedgeError(f"{self.op}: the C kernel rejected its parameters (code {rc})")


def _quant_check(q: Quant, what: str, op: str) -> None:
    """Scales positive and finite, zero point within int8."""
    scale = np.atleast_1d(np.asarray(q.scale, dtype=np.float64))
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise RnnedgeError(f"{op}: {what} scale must be positive and finite")
    if not -128 <= int(q.zero_point) <= 127:
        raise RnnedgeError(f"{op}: {what} zero point {q.zero_point} is outside int8")


def _index_math_fits(op, out_hw, filter_hw, stride, dilation, pads) -> None:
    """Refuse windows whose int32 index arithmetic in the C kernels could overflow: every
    `o * stride - pad + f * dilation` (o < output size, f < filter size) and every pad must
    lie within int32 (TFLM would overflow silently; C calls it undefined)."""
    for out, f, st, dil, pad, axis in zip(out_hw, filter_hw, stride, dilation, pads,
                                          ("height", "width")):
        reach = max(out - 1, 0) * st + max(f - 1, 0) * dil
        if reach > INT32_MAX or not 0 <= pad <= INT32_MAX or max(f, st, dil) > INT32_MAX:
            raise RnnedgeError(f"{op}: stride {st}, dilation {dil} and filter {f} along the "
                               f"{axis} reach index {reach:,}, beyond the int32 range the "
                               "kernels index with")


def _pair(v) -> tuple[int, int]:
    """(h, w) from a scalar or a pair."""
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def _explicit(padding):
    """((top, bottom), (left, right)) from an explicit `padding`, or None for "SAME"/"VALID"
    (checked later); raises on a malformed or negative explicit padding."""
    if isinstance(padding, str):
        return None
    try:
        pads = np.asarray(padding, dtype=np.int64)
    except (TypeError, ValueError):
        pads = None
    if pads is None or pads.shape != (2, 2) or np.any(pads < 0):
        raise RnnedgeError(f"padding {padding!r} must be \"SAME\", \"VALID\" or non-negative "
                           "((top, bottom), (left, right))")
    return tuple((int(a), int(b)) for a, b in pads)


class _Weighted(Kernel):
    """Ops computing one int8 output from an int8 input, a constant int8 filter
    (`self.filter`) and an optional int32 bias (`self.bias`): convolutions and FC."""

    def __call__(self, x, out=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(x), self._ptr(self.filter), self._ptr(self.bias, S.P_I32),
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
        _quant_check(input_q, "input", self.op)
        _quant_check(output_q, "output", self.op)
        _quant_check(Quant(filter_scales, 0), "filter", self.op)
        n, h, w, _ = (int(d) for d in input_shape)
        (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
        if min(sh, sw, dh, dw) <= 0:
            raise RnnedgeError(f"{self.op}: strides and dilations must be positive")
        fh, fw = filter_hw
        explicit = _explicit(padding)
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
            output_shape = (n, P.output_size(padding, h, fh, sh, dh),
                            P.output_size(padding, w, fw, sw, dw), output_depth)
        output_shape = tuple(int(d) for d in output_shape)
        if len(output_shape) != 4 or output_shape[0] != n or output_shape[3] != output_depth:
            raise RnnedgeError(f"{self.op}: output shape {output_shape} does not match the "
                               f"input batch {n} and {output_depth} output channels")
        if bias is not None:
            bias = self._const(bias, np.int32)
            if bias.size != output_depth:
                raise RnnedgeError(f"{self.op}: bias has {bias.size} entries for "
                                   f"{output_depth} output channels")
        mults, shifts = P.per_channel_multipliers(input_q.scale, filter_scales,
                                                  output_q.scale, output_depth)
        lo, hi = P.activation_range(activation, output_q)
        pad_h = (explicit[0][0] if explicit is not None
                 else P.compute_padding(sh, dh, h, fh, output_shape[1]))
        pad_w = (explicit[1][0] if explicit is not None
                 else P.compute_padding(sw, dw, w, fw, output_shape[2]))
        _index_math_fits(self.op, output_shape[1:3], (fh, fw), (sh, sw), (dh, dw),
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
            output_multiplier=self._const(mults, np.int32).ctypes.data_as(S.P_I32),
            output_shift=self._const(shifts, np.int32).ctypes.data_as(S.P_I32))


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
        self.params = S.Conv2DParams(input_depth=int(input_shape[3]),
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
        self.params = S.DepthwiseConv2DParams(input_depth=ic, depth_multiplier=oc // ic,
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
            _quant_check(q, what, self.op)
        self.filter = self._const(filter, np.int8)
        if self.filter.ndim != 2:
            raise RnnedgeError(f"{self.op}: filter must be 2-D [out, in]")
        out_depth, accum = self.filter.shape
        total = _numel(input_shape)
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
            mults, shifts = P.per_channel_multipliers(input_q.scale, scales, output_q.scale,
                                                      out_depth)
        else:
            m, s = P.fc_per_tensor_multiplier(input_q.scale, scales[0], output_q.scale)
            mults, shifts = np.array([m], np.int32), np.array([s], np.int32)
        lo, hi = P.activation_range(activation, output_q)
        self.input_shape = tuple(input_shape)
        self.output_shape = (tuple(input_shape[:-1]) + (out_depth,) if keep_num_dims
                             else (batches, out_depth))
        self.params = S.FullyConnectedParams(
            batches=batches, accum_depth=accum, output_depth=out_depth,
            input_offset=-int(input_q.zero_point), filter_offset=-int(filter_q.zero_point),
            output_offset=int(output_q.zero_point), activation_min=lo, activation_max=hi,
            per_channel=int(per_channel),
            output_multiplier=self._const(mults, np.int32).ctypes.data_as(S.P_I32),
            output_shift=self._const(shifts, np.int32).ctypes.data_as(S.P_I32))


class _Binary(Kernel):
    """Shared prepare/run of the broadcasting element-wise ops."""

    struct = None
    max_rank = P.MAX_DIMS

    def __init__(self, shape1, shape2, input1_q: Quant, input2_q: Quant, output_q: Quant,
                 *, activation="NONE", lib=None):
        super().__init__(lib)
        for q, what in ((input1_q, "input1"), (input2_q, "input2"), (output_q, "output")):
            _quant_check(q, what, self.op)
        try:
            bc = P.broadcast(shape1, shape2, self.max_rank)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        self.shape1, self.shape2 = tuple(shape1), tuple(shape2)
        rank = max(len(self.shape1), len(self.shape2))
        self.output_shape = tuple(bc["dims"][P.MAX_DIMS - rank:])
        fields = self._fields(input1_q, input2_q, output_q, activation)
        shape = S.Broadcast(dims=_dims(bc["dims"]), strides1=_dims(bc["strides1"]),
                            strides2=_dims(bc["strides2"]))
        self.params = self.struct(shape=shape, **fields)

    def __call__(self, x1, x2, out=None):
        x1 = self._buffer(x1, INT8, self.shape1, "input1")
        x2 = self._buffer(x2, INT8, self.shape2, "input2")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(x1), self._ptr(x2), self._ptr(out))
        return out


class Add(_Binary):
    """ADD with TFLM's int8 rescaling (left shift 20) and N-D broadcasting."""

    op, entry, struct = "ADD", "rn_add", S.AddParams

    def _fields(self, q1, q2, qo, activation):
        return P.add_params(q1, q2, qo, activation)


class Sub(_Binary):
    """SUB with TFLM's int8 rescaling (float32 scale ratios) and broadcasting."""

    op, entry, struct = "SUB", "rn_sub", S.SubParams

    def _fields(self, q1, q2, qo, activation):
        return P.sub_params(q1, q2, qo, activation)


class Mul(_Binary):
    """MUL; TFLM broadcasts int8 MUL over at most 4 dimensions."""

    op, entry, struct = "MUL", "rn_mul", S.MulParams
    max_rank = 4

    def _fields(self, q1, q2, qo, activation):
        return P.mul_params(q1, q2, qo, activation)


class _SingleIO(Kernel):
    """Ops with one int8 input and one int8 output (`input_shape`, `output_shape`)."""

    def _setup(self, shape, struct, fields):
        """Element-wise ops: same shape in and out, `size` elements."""
        self.input_shape = self.output_shape = tuple(shape)
        self.params = struct(size=_numel(shape), **fields)

    def __call__(self, x, out=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(x), self._ptr(out))
        return out


class _FixedPointActivation(_SingleIO):
    """TANH / LOGISTIC: TFLM's fixed-point activations, whose params `derive` computes from
    the input and output quantisation (the output's is fixed by the op)."""

    derive = struct = None

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, lib=None):
        super().__init__(lib)
        _quant_check(input_q, "input", self.op)
        try:
            fields = self.derive(input_q, output_q)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        self._setup(shape, self.struct, fields)


class Tanh(_FixedPointActivation):
    """TANH (output scale 1/128, zero point 0)."""

    op, entry = "TANH", "rn_tanh"
    derive, struct = staticmethod(P.tanh_params), S.TanhParams


class Logistic(_FixedPointActivation):
    """LOGISTIC (output scale 1/256, zero point -128)."""

    op, entry = "LOGISTIC", "rn_logistic"
    derive, struct = staticmethod(P.logistic_params), S.LogisticParams


class Relu(_SingleIO):
    """RELU (act range [0, inf)); RELU_N1_TO_1 / RELU_0_TO_1 via act_min/act_max."""

    op, entry = "RELU", "rn_relu"

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, act_min=0.0,
                 act_max=math.inf, lib=None):
        super().__init__(lib)
        _quant_check(input_q, "input", self.op)
        _quant_check(output_q, "output", self.op)
        self._setup(shape, S.ReluParams, P.relu_params(input_q, output_q, act_min, act_max))


class Relu6(_SingleIO):
    """RELU6: clamp to the input's quantised [0, 6] (TFLM keeps the input's params)."""

    op, entry = "RELU6", "rn_relu6"

    def __init__(self, shape, input_q: Quant, *, lib=None):
        super().__init__(lib)
        _quant_check(input_q, "input", self.op)
        self._setup(shape, S.Relu6Params, P.relu6_params(input_q))


class Requantize(_SingleIO):
    """QUANTIZE int8 -> int8 (rescale to the output's quantisation)."""

    op, entry = "QUANTIZE", "rn_requantize"

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, lib=None):
        super().__init__(lib)
        _quant_check(input_q, "input", self.op)
        _quant_check(output_q, "output", self.op)
        self._setup(shape, S.RequantizeParams, P.requantize_params(input_q, output_q))


class Quantize(Kernel):
    """QUANTIZE float32 -> int8."""

    op, entry = "QUANTIZE", "rn_quantize"

    def __init__(self, shape, output_q: Quant, *, lib=None):
        super().__init__(lib)
        _quant_check(output_q, "output", self.op)
        self.input_shape = self.output_shape = tuple(shape)
        self.params = S.QuantizeParams(size=_numel(shape), scale=float(P.f32(output_q.scale)),
                                       zero_point=int(output_q.zero_point))

    def __call__(self, x, out=None):
        x = self._buffer(x, np.float32, self.input_shape, "input")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(x, S.P_F32), self._ptr(out))
        return out


class Dequantize(Kernel):
    """DEQUANTIZE int8 -> float32."""

    op, entry = "DEQUANTIZE", "rn_dequantize"

    def __init__(self, shape, input_q: Quant, *, lib=None):
        super().__init__(lib)
        _quant_check(input_q, "input", self.op)
        self.input_shape = self.output_shape = tuple(shape)
        self.params = S.DequantizeParams(size=_numel(shape), zero_point=int(input_q.zero_point),
                                         scale=float(P.f32(input_q.scale)))

    def __call__(self, x, out=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        out = self._output(out, np.float32, self.output_shape)
        self._run(self._ptr(x), self._ptr(out, S.P_F32))
        return out


class _Pool(_SingleIO):
    """Shared prepare of the 2-D pools (input and output share quantisation)."""

    def __init__(self, input_shape, filter_size, output_q: Quant, *, stride=1,
                 padding="VALID", activation="NONE", output_shape=None, lib=None):
        Kernel.__init__(self, lib)
        _quant_check(output_q, "output", self.op)
        if len(input_shape) != 4:
            raise RnnedgeError(f"{self.op}: input must be 4-D NHWC")
        n, h, w, c = (int(d) for d in input_shape)
        (fh, fw), (sh, sw) = _pair(filter_size), _pair(stride)
        if min(fh, fw, sh, sw) <= 0:
            raise RnnedgeError(f"{self.op}: filter size and strides must be positive")
        if output_shape is None:
            output_shape = (n, P.output_size(padding, h, fh, sh), P.output_size(padding, w, fw, sw),
                            c)
        output_shape = tuple(int(d) for d in output_shape)
        if len(output_shape) != 4 or output_shape[0] != n or output_shape[3] != c:
            raise RnnedgeError(f"{self.op}: output shape {output_shape} does not match input "
                               f"{tuple(input_shape)}")
        ph = P.compute_padding(sh, 1, h, fh, output_shape[1])
        pw = P.compute_padding(sw, 1, w, fw, output_shape[2])
        _index_math_fits(self.op, output_shape[1:3], (fh, fw), (sh, sw), (1, 1), (ph, pw))
        if (output_shape[1] > 0 and (output_shape[1] - 1) * sh - ph >= h) or \
                (output_shape[2] > 0 and (output_shape[2] - 1) * sw - pw >= w):
            raise RnnedgeError(f"{self.op}: a pooling window lies entirely in the padding")
        lo, hi = P.activation_range(activation, output_q)
        self.input_shape, self.output_shape = (n, h, w, c), output_shape
        self.params = S.Pool2DParams(
            batches=n, input_height=h, input_width=w, depth=c, output_height=output_shape[1],
            output_width=output_shape[2], filter_height=fh, filter_width=fw,
            stride_height=sh, stride_width=sw, pad_height=ph, pad_width=pw,
            activation_min=lo, activation_max=hi)


class AveragePool2D(_Pool):
    """AVERAGE_POOL_2D."""

    op, entry = "AVERAGE_POOL_2D", "rn_average_pool_2d"


class MaxPool2D(_Pool):
    """MAX_POOL_2D."""

    op, entry = "MAX_POOL_2D", "rn_max_pool_2d"


class Mean(_SingleIO):
    """MEAN over `axes` (TFLM's integer QuantizedMeanOrSum)."""

    op, entry = "MEAN", "rn_mean"

    def __init__(self, input_shape, axes, input_q: Quant, output_q: Quant, *,
                 keep_dims=False, lib=None):
        Kernel.__init__(self, lib)
        _quant_check(input_q, "input", self.op)
        _quant_check(output_q, "output", self.op)
        rank = len(input_shape)
        resolved = set()
        for a in np.atleast_1d(np.asarray(axes, dtype=np.int64)).tolist():
            if not -rank <= a < rank:
                raise RnnedgeError(f"{self.op}: axis {a} out of range for rank {rank}")
            resolved.add(a % rank)
        reduce = [1 if d in resolved else 0 for d in range(rank)]
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = tuple(1 if r else d for d, r in zip(self.input_shape, reduce)) \
            if keep_dims else tuple(d for d, r in zip(self.input_shape, reduce) if not r)
        self.params = S.MeanParams(
            input_dims=_dims(P.pad_shape(self.input_shape)),
            reduce=_dims(P.pad_shape(reduce, 0)),
            input_zero_point=int(input_q.zero_point), output_zero_point=int(output_q.zero_point),
            **P.mean_params(input_q, output_q))


class Pad(_SingleIO):
    """PAD / PADV2: `paddings` is [[before, after], ...]; `pad_value` is the int8
    fill (the output zero point for PAD)."""

    op, entry = "PAD", "rn_pad"

    def __init__(self, input_shape, paddings, pad_value: int, *, lib=None):
        Kernel.__init__(self, lib)
        pads = np.asarray(paddings, dtype=np.int64).reshape(-1, 2)
        if pads.shape[0] != len(input_shape) or np.any(pads < 0):
            raise RnnedgeError(f"{self.op}: paddings {pads.tolist()} do not fit input "
                               f"{tuple(input_shape)}")
        if not -128 <= int(pad_value) <= 127:
            raise RnnedgeError(f"{self.op}: pad value {pad_value} is outside int8")
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = tuple(int(d + b + a) for d, (b, a) in zip(self.input_shape, pads))
        self.params = S.PadParams(input_dims=_dims(P.pad_shape(self.input_shape)),
                                  pad_before=_dims(P.pad_shape(pads[:, 0].tolist(), 0)),
                                  output_dims=_dims(P.pad_shape(self.output_shape)),
                                  pad_value=int(pad_value))


def _axis(axis: int, rank: int, op: str) -> int:
    """`axis` resolved to [0, rank)."""
    if not -rank <= int(axis) < rank:
        raise RnnedgeError(f"{op}: axis {axis} out of range for rank {rank}")
    return int(axis) % rank


class Concatenation(Kernel):
    """CONCATENATION along `axis` (int8 inputs share the output quantisation)."""

    op, entry = "CONCATENATION", "rn_concatenation"

    def __init__(self, input_shapes, axis: int, *, lib=None):
        super().__init__(lib)
        shapes = [tuple(int(d) for d in s) for s in input_shapes]
        if not shapes:
            raise RnnedgeError(f"{self.op}: needs at least one input")
        rank = len(shapes[0])
        ax = _axis(axis, rank, self.op)
        for s in shapes:
            if len(s) != rank or s[:ax] != shapes[0][:ax] or s[ax + 1:] != shapes[0][ax + 1:]:
                raise RnnedgeError(f"{self.op}: input shapes {shapes} differ off axis {ax}")
        inner = _numel(shapes[0][ax + 1:])
        self.input_shapes = shapes
        self.output_shape = shapes[0][:ax] + (sum(s[ax] for s in shapes),) + shapes[0][ax + 1:]
        sizes = self._const([s[ax] * inner for s in shapes], np.int32)
        self.params = S.ConcatenationParams(num_inputs=len(shapes),
                                            outer_size=_numel(shapes[0][:ax]),
                                            copy_sizes=sizes.ctypes.data_as(S.P_I32))

    def __call__(self, inputs, out=None):
        if len(inputs) != len(self.input_shapes):
            raise RnnedgeError(f"{self.op}: expected {len(self.input_shapes)} inputs")
        xs = [self._buffer(x, INT8, s, f"input {i}")
              for i, (x, s) in enumerate(zip(inputs, self.input_shapes))]
        out = self._output(out, INT8, self.output_shape)
        ptrs = (S.P_I8 * len(xs))(*[self._ptr(x) for x in xs])
        self._run(ptrs, self._ptr(out))
        return out


class Split(Kernel):
    """SPLIT / SPLIT_V along `axis` into pieces of `sizes` (a count for SPLIT)."""

    op, entry = "SPLIT", "rn_split"

    def __init__(self, input_shape, axis: int, sizes, *, lib=None):
        super().__init__(lib)
        shape = tuple(int(d) for d in input_shape)
        ax = _axis(axis, len(shape), self.op)
        if np.isscalar(sizes):
            n = int(sizes)
            if n <= 0 or shape[ax] % n:
                raise RnnedgeError(f"{self.op}: cannot split {shape[ax]} into {n} equal parts")
            sizes = [shape[ax] // n] * n
        sizes = [int(s) for s in sizes]
        if any(s < 0 for s in sizes) or sum(sizes) != shape[ax]:
            raise RnnedgeError(f"{self.op}: sizes {sizes} do not sum to {shape[ax]}")
        inner = _numel(shape[ax + 1:])
        self.input_shape = shape
        self.output_shapes = [shape[:ax] + (s,) + shape[ax + 1:] for s in sizes]
        copy = self._const([s * inner for s in sizes], np.int32)
        self.params = S.SplitParams(num_outputs=len(sizes), outer_size=_numel(shape[:ax]),
                                    copy_sizes=copy.ctypes.data_as(S.P_I32))

    def __call__(self, x, outs=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        outs = [None] * len(self.output_shapes) if outs is None else list(outs)
        if len(outs) != len(self.output_shapes):
            raise RnnedgeError(f"{self.op}: expected {len(self.output_shapes)} outputs")
        outs = [self._output(o, INT8, s) for o, s in zip(outs, self.output_shapes)]
        ptrs = (S.P_I8 * len(outs))(*[self._ptr(o) for o in outs])
        self._run(self._ptr(x), ptrs)
        return outs


class StridedSlice(_SingleIO):
    """STRIDED_SLICE with TFLM's begin/end/shrink mask semantics."""

    op, entry = "STRIDED_SLICE", "rn_strided_slice"

    def __init__(self, input_shape, begin, end, strides, *, begin_mask=0, end_mask=0,
                 shrink_axis_mask=0, ellipsis_mask=0, new_axis_mask=0, offset=False,
                 lib=None):
        Kernel.__init__(self, lib)
        if ellipsis_mask or new_axis_mask:
            raise RnnedgeError(f"{self.op}: ellipsis and new-axis masks are not supported "
                               "(TFLM does not support them either)")
        try:
            r = P.strided_slice(input_shape, begin, end, strides, begin_mask, end_mask,
                                shrink_axis_mask, offset)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        rank = len(input_shape)
        outs = r["output_dims"][P.MAX_DIMS - rank:]
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = tuple(d for i, d in enumerate(outs)
                                  if not shrink_axis_mask & (1 << i))
        self.params = S.StridedSliceParams(
            input_dims=_dims(r["input_dims"]), begin=_dims(r["begin"]),
            stride=_dims(r["stride"]), output_dims=_dims(r["output_dims"]))


class Slice(_SingleIO):
    """SLICE: `size` entries of -1 mean "to the end"."""

    op, entry = "SLICE", "rn_slice"

    def __init__(self, input_shape, begin, size, *, lib=None):
        Kernel.__init__(self, lib)
        shape = tuple(int(d) for d in input_shape)
        begin = [int(b) for b in begin]
        size = [d - b if int(s) == -1 else int(s) for d, b, s in zip(shape, begin, size)]
        if len(begin) != len(shape) or len(size) != len(shape) or any(
                b < 0 or s < 0 or b + s > d for b, s, d in zip(begin, size, shape)):
            raise RnnedgeError(f"{self.op}: begin {begin} / size {size} do not fit {shape}")
        self.input_shape, self.output_shape = shape, tuple(size)
        self.params = S.SliceParams(input_dims=_dims(P.pad_shape(shape)),
                                    begin=_dims(P.pad_shape(begin, 0)),
                                    size=_dims(P.pad_shape(size)))


class Reshape(_SingleIO):
    """RESHAPE / SQUEEZE / EXPAND_DIMS: same bytes, new shape (in place allowed)."""

    op, entry = "RESHAPE", "rn_reshape"

    def __init__(self, input_shape, output_shape, *, lib=None):
        Kernel.__init__(self, lib)
        if _numel(input_shape) != _numel(output_shape):
            raise RnnedgeError(f"{self.op}: cannot reshape {tuple(input_shape)} to "
                               f"{tuple(output_shape)}")
        self.input_shape, self.output_shape = tuple(input_shape), tuple(output_shape)
        self.params = S.ReshapeParams(size=_numel(input_shape))


class Transpose(_SingleIO):
    """TRANSPOSE by `perm`."""

    op, entry = "TRANSPOSE", "rn_transpose"

    def __init__(self, input_shape, perm, *, lib=None):
        Kernel.__init__(self, lib)
        shape = tuple(int(d) for d in input_shape)
        perm = [int(p) for p in perm]
        if sorted(perm) != list(range(len(shape))):
            raise RnnedgeError(f"{self.op}: perm {perm} is not a permutation of {len(shape)} dims")
        pad = P.MAX_DIMS - len(shape)
        self.input_shape = shape
        self.output_shape = tuple(shape[p] for p in perm)
        self.params = S.TransposeParams(input_dims=_dims(P.pad_shape(shape)),
                                        perm=_dims(list(range(pad)) + [p + pad for p in perm]))


class Softmax(_SingleIO):
    """SOFTMAX over the last axis, int8 -> int8 (output 1/256, zero point -128)."""

    op, entry = "SOFTMAX", "rn_softmax"

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, beta=1.0, lib=None):
        Kernel.__init__(self, lib)
        _quant_check(input_q, "input", self.op)
        if not shape or int(shape[-1]) <= 0:
            raise RnnedgeError(f"{self.op}: input needs a non-empty last axis")
        try:
            fields = P.softmax_params(input_q, output_q, beta)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        depth = int(shape[-1])
        self.input_shape = self.output_shape = tuple(shape)
        self.params = S.SoftmaxParams(outer_size=_numel(shape) // depth, depth=depth, **fields)


class ResizeNearestNeighbor(_SingleIO):
    """RESIZE_NEAREST_NEIGHBOR of an NHWC tensor to `size` = (height, width)."""

    op, entry = "RESIZE_NEAREST_NEIGHBOR", "rn_resize_nearest_neighbor"

    def __init__(self, input_shape, size, *, align_corners=False, half_pixel_centers=False,
                 lib=None):
        Kernel.__init__(self, lib)
        if len(input_shape) != 4 or min(int(d) for d in input_shape[1:3]) <= 0:
            raise RnnedgeError(f"{self.op}: input must be 4-D NHWC with non-empty H and W")
        n, h, w, c = (int(d) for d in input_shape)
        oh, ow = _pair(size)
        if oh < 0 or ow < 0:
            raise RnnedgeError(f"{self.op}: output size must not be negative")
        self.input_shape, self.output_shape = (n, h, w, c), (n, oh, ow, c)
        self.params = S.ResizeNearestNeighborParams(
            batches=n, input_height=h, input_width=w, depth=c, output_height=oh,
            output_width=ow, align_corners=int(bool(align_corners)),
            half_pixel_centers=int(bool(half_pixel_centers)))
