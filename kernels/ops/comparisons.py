"""EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL (int8, or bool for EQUAL and
NOT_EQUAL, in; bool out), LOGICAL_AND / LOGICAL_OR / LOGICAL_NOT (bool) and SELECT_V2 (bool
condition, int8 values), broadcasting as TFLM's reference kernels do (4-D; SELECT_V2 5-D).
A bool tensor is one byte per element holding 0 or 1 (numpy bool_).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in
kernels/tests/test_comparisons.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, params_math, structs
from rnnedge.kernels.ops.base import INT8, Kernel, SingleIO, c_dims, check_quant

BOOL = np.dtype(np.bool_)


def _broadcast(op, shape1, shape2, max_rank):
    """(Broadcast struct, output shape) of two input shapes."""
    try:
        bc = params.broadcast(shape1, shape2, max_rank)
    except RnnedgeError as exc:
        raise RnnedgeError(f"{op}: {exc}") from None
    rank = max(len(shape1), len(shape2))
    struct = structs.Broadcast(dims=c_dims(bc["dims"]), strides1=c_dims(bc["strides1"]),
                               strides2=c_dims(bc["strides2"]))
    return struct, tuple(bc["dims"][params.MAX_DIMS - rank:])


class _TwoInputs(Kernel):
    """Two inputs of `input_dtype` (broadcast), one output of `output_dtype`."""

    max_rank = 4
    input_dtype = output_dtype = INT8

    def _shapes(self, shape1, shape2):
        self.shape1, self.shape2 = tuple(shape1), tuple(shape2)
        shape, self.output_shape = _broadcast(self.op, self.shape1, self.shape2, self.max_rank)
        return shape

    def __call__(self, x1, x2, out=None):
        x1 = self._buffer(x1, self.input_dtype, self.shape1, "input1")
        x2 = self._buffer(x2, self.input_dtype, self.shape2, "input2")
        out = self._output(out, self.output_dtype, self.output_shape)
        self._run(self._ptr(x1), self._ptr(x2), self._ptr(out))
        return out


class _Comparison(_TwoInputs):
    """A comparison: int8 inputs with their quantisation (`input1_q`, `input2_q`), or bool
    inputs when both are None (EQUAL / NOT_EQUAL only, as TFLM)."""

    output_dtype = BOOL

    def __init__(self, shape1, shape2, input1_q=None, input2_q=None, *, lib=None):
        super().__init__(lib)
        if (input1_q is None) != (input2_q is None):
            raise RnnedgeError(f"{self.op}: both inputs are int8 (with quantisation) or both "
                               "bool")
        if input1_q is None and self.op not in ("EQUAL", "NOT_EQUAL"):
            raise RnnedgeError(f"{self.op}: TFLM compares bool tensors only for equality")
        self.input_dtype = INT8 if input1_q is not None else BOOL
        for q, what in ((input1_q, "input1"), (input2_q, "input2")):
            if q is not None:
                check_quant(q, what, self.op)
        try:
            fields = params_math.comparison_params(input1_q, input2_q)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        self.params = structs.ComparisonParams(shape=self._shapes(shape1, shape2), **fields)


class Equal(_Comparison):
    op, entry = "EQUAL", "rn_equal"


class NotEqual(_Comparison):
    op, entry = "NOT_EQUAL", "rn_not_equal"


class Less(_Comparison):
    op, entry = "LESS", "rn_less"


class LessEqual(_Comparison):
    op, entry = "LESS_EQUAL", "rn_less_equal"


class Greater(_Comparison):
    op, entry = "GREATER", "rn_greater"


class GreaterEqual(_Comparison):
    op, entry = "GREATER_EQUAL", "rn_greater_equal"


class LogicalAnd(_TwoInputs):
    """LOGICAL_AND of two bool tensors (4-D broadcast)."""

    op, entry = "LOGICAL_AND", "rn_logical_and"
    input_dtype = output_dtype = BOOL

    def __init__(self, shape1, shape2, *, lib=None):
        super().__init__(lib)
        self.params = structs.LogicalParams(shape=self._shapes(shape1, shape2))


class LogicalOr(LogicalAnd):
    op, entry = "LOGICAL_OR", "rn_logical_or"


class LogicalNot(SingleIO):
    """LOGICAL_NOT of a bool tensor."""

    op, entry = "LOGICAL_NOT", "rn_logical_not"

    def __init__(self, shape, *, lib=None):
        super().__init__(lib)
        self._setup(shape, structs.LogicalNotParams, {})

    def __call__(self, x, out=None):
        x = self._buffer(x, BOOL, self.input_shape, "input")
        out = self._output(out, BOOL, self.output_shape)
        self._run(self._ptr(x), self._ptr(out))
        return out


class SelectV2(Kernel):
    """SELECT_V2(condition, x, y): bytes of x where the bool condition holds, else of y
    (x, y and the output share one quantisation, as TFLM's converter gives them)."""

    op, entry = "SELECT_V2", "rn_select_v2"
    max_rank = 5

    def __init__(self, condition_shape, x_shape, y_shape, *, lib=None):
        super().__init__(lib)
        shapes = [tuple(int(d) for d in s) for s in (condition_shape, x_shape, y_shape)]
        rank = max(len(s) for s in shapes)
        if rank > self.max_rank and len(set(shapes)) > 1:
            raise RnnedgeError(f"{self.op}: broadcasting rank-{rank} tensors is not supported "
                               f"(TFLM broadcasts at most {self.max_rank} dimensions)")
        padded = [params.pad_shape(s) for s in shapes]
        dims = []
        for sizes in zip(*padded):
            big = {d for d in sizes if d != 1}
            if len(big) > 1:
                raise RnnedgeError(f"{self.op}: shapes {shapes} cannot be broadcast together")
            dims.append(big.pop() if big else 1)
        strides = [[0 if a == 1 and d != 1 else s for a, d, s in
                    zip(p, dims, params.row_major_strides(p))] for p in padded]
        self.input_shapes = shapes
        self.output_shape = tuple(dims[params.MAX_DIMS - rank:])
        self.params = structs.SelectV2Params(
            dims=c_dims(dims), strides_condition=c_dims(strides[0]),
            strides_x=c_dims(strides[1]), strides_y=c_dims(strides[2]))

    def __call__(self, condition, x, y, out=None):
        condition = self._buffer(condition, BOOL, self.input_shapes[0], "condition")
        x = self._buffer(x, INT8, self.input_shapes[1], "x")
        y = self._buffer(y, INT8, self.input_shapes[2], "y")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(condition), self._ptr(x), self._ptr(y), self._ptr(out))
        return out
