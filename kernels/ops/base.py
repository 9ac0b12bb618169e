"""The base of the prepared kernels and the helpers every op family shares.

`Kernel` holds the library, the params struct (checked against SHIFT_RANGE when set) and the
constant arrays its pointers refer to; `SingleIO` is the base of one-input, one-output ops.
May import: numpy, ctypes, rnnedge.errors and this package's structs.
"""

import ctypes

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import structs
from rnnedge.kernels.params import Quant

INT8 = np.dtype(np.int8)
INT32_MAX = 2**31 - 1
BAD_INPUT = 2  # RN_BAD_INPUT in include/rnnedge_kernels.h


def numel(shape) -> int:
    """Element count of a shape."""
    return int(np.prod([int(d) for d in shape], dtype=np.int64))


def c_dims(values) -> structs.DIMS:
    """A ctypes int32[6] from a padded shape."""
    return structs.DIMS(*[int(v) for v in values])


SHIFT_RANGE = (-31, 30)  # rescale exponents the fixed-point kernels can apply without UB


def _shifts(struct):
    """Every rescale exponent in a params struct (scalar "*shift" fields, nested structs, and
    the per-channel `output_shift` arrays)."""
    for name, ftype in struct._fields_:
        value = getattr(struct, name)
        if isinstance(value, ctypes.Structure):
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
        if array.size != numel(shape):
            raise RnnedgeError(f"{self.op}: {what} has {array.size} elements, expected "
                               f"{numel(shape)} (shape {tuple(shape)})")
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
    def _ptr(array, ctype=structs.P_I8):
        """ctypes pointer to a numpy array's data (None stays NULL)."""
        return None if array is None else array.ctypes.data_as(ctype)

    def _run(self, *args) -> None:
        """Call the C entry point with the params struct; map its status to errors."""
        rc = self._fn(ctypes.byref(self.params), *args)
        if rc == BAD_INPUT:
            raise RnnedgeError(f"{self.op}: the input data is outside the range TFLM's "
                               "fixed-point maths is defined on (TFLM asserts on it too)")
        if rc != 0:
            raise RnnedgeError(f"{self.op}: the C kernel rejected its parameters (code {rc})")


def check_quant(q: Quant, what: str, op: str) -> None:
    """Scales positive and finite, zero point within int8."""
    scale = np.atleast_1d(np.asarray(q.scale, dtype=np.float64))
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise RnnedgeError(f"{op}: {what} scale must be positive and finite")
    if not -128 <= int(q.zero_point) <= 127:
        raise RnnedgeError(f"{op}: {what} zero point {q.zero_point} is outside int8")


def index_math_fits(op, out_hw, filter_hw, stride, dilation, pads) -> None:
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


def hw_pair(v) -> tuple[int, int]:
    """(h, w) from a scalar or a pair."""
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def explicit_pads(padding):
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


class SingleIO(Kernel):
    """Ops with one int8 input and one int8 output (`input_shape`, `output_shape`)."""

    def _setup(self, shape, struct, fields):
        """Element-wise ops: same shape in and out, `size` elements."""
        self.input_shape = self.output_shape = tuple(shape)
        self.params = struct(size=numel(shape), **fields)

    def __call__(self, x, out=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(x), self._ptr(out))
        return out


def resolve_axis(axis: int, rank: int, op: str) -> int:
    """`axis` resolved to [0, rank)."""
    if not -rank <= int(axis) < rank:
        raise RnnedgeError(f"{op}: axis {axis} out of range for rank {rank}")
    return int(axis) % rank
