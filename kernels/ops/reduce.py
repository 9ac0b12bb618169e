"""The reductions beside MEAN: SUM (rescaled int32 sum, TFLM's QuantizedMeanOrSum with
compute_sum), REDUCE_MAX / REDUCE_MIN (raw int8 comparisons; TFLM requires the input's
quantisation on the output) and ARG_MAX / ARG_MIN (int32 or int64 indices).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_reduce.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import INT8, Kernel, SingleIO, c_dims, check_quant, numel
from rnnedge.kernels.params import Quant


def reduced_axes(input_shape, axes, op: str) -> list[int]:
    """Per input dim, 1 where `axes` (TFLM's axis tensor: negative values count from the end,
    repeats allowed) reduces it."""
    rank = len(input_shape)
    resolved = set()
    for a in np.atleast_1d(np.asarray(axes, dtype=np.int64)).tolist():
        if not -rank <= a < rank:
            raise RnnedgeError(f"{op}: axis {a} out of range for rank {rank}")
        resolved.add(a % rank)
    return [1 if d in resolved else 0 for d in range(rank)]


def reduced_shape(input_shape, reduce, keep_dims: bool) -> tuple:
    """The output shape of a reduction (`reduce`: the per-dim mask)."""
    if keep_dims:
        return tuple(1 if r else int(d) for d, r in zip(input_shape, reduce))
    return tuple(int(d) for d, r in zip(input_shape, reduce) if not r)


class Sum(SingleIO):
    """SUM over `axes`: int32 sum, minus zero_point * count, rescaled by in/out scale."""

    op, entry = "SUM", "rn_sum"

    def __init__(self, input_shape, axes, input_q: Quant, output_q: Quant, *,
                 keep_dims=False, lib=None):
        Kernel.__init__(self, lib)
        check_quant(input_q, "input", self.op)
        check_quant(output_q, "output", self.op)
        reduce = reduced_axes(input_shape, axes, self.op)
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = reduced_shape(self.input_shape, reduce, keep_dims)
        self.params = structs.SumParams(
            input_dims=c_dims(params.pad_shape(self.input_shape)),
            reduce=c_dims(params.pad_shape(reduce, 0)),
            input_zero_point=int(input_q.zero_point), output_zero_point=int(output_q.zero_point),
            **params.mean_params(input_q, output_q))


class ReduceMax(SingleIO):
    """REDUCE_MAX over `axes` (input and output share one quantisation, as TFLM requires)."""

    op, entry = "REDUCE_MAX", "rn_reduce_max"

    def __init__(self, input_shape, axes, *, keep_dims=False, lib=None):
        Kernel.__init__(self, lib)
        reduce = reduced_axes(input_shape, axes, self.op)
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = reduced_shape(self.input_shape, reduce, keep_dims)
        self.params = structs.ReduceParams(input_dims=c_dims(params.pad_shape(self.input_shape)),
                                           reduce=c_dims(params.pad_shape(reduce, 0)))


class ReduceMin(ReduceMax):
    """REDUCE_MIN over `axes` (input and output share one quantisation)."""

    op, entry = "REDUCE_MIN", "rn_reduce_min"


class ArgMax(Kernel):
    """ARG_MAX along `axis`: the first index of the largest value, as int32 (TFLM's only
    output type)."""

    op, entry, output_dtype = "ARG_MAX", "rn_arg_max", np.dtype(np.int32)

    def __init__(self, input_shape, axis: int, *, lib=None):
        super().__init__(lib)
        shape = tuple(int(d) for d in input_shape)
        ax = int(np.asarray(axis).reshape(-1)[0]) if np.size(axis) == 1 else None
        if ax is None or not -len(shape) <= ax < len(shape):
            raise RnnedgeError(f"{self.op}: axis {axis} must be one value in range for rank "
                               f"{len(shape)}")
        ax %= len(shape)
        if shape[ax] < 1:
            raise RnnedgeError(f"{self.op}: the axis has no elements")
        self.input_shape = shape
        self.output_shape = shape[:ax] + shape[ax + 1:]
        self.params = structs.ArgMinMaxParams(
            outer_size=numel(shape[:ax]), axis_size=shape[ax], inner_size=numel(shape[ax + 1:]))

    def __call__(self, x, out=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        out = self._output(out, self.output_dtype, self.output_shape)
        self._run(self._ptr(x), self._ptr(out, structs.P_I32))
        return out


class ArgMin(ArgMax):
    """ARG_MIN along `axis` (first index of the smallest value)."""

    op, entry = "ARG_MIN", "rn_arg_min"
