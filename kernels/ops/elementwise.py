"""ADD, SUB, MUL: two int8 inputs, broadcasting as TFLM does.

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_elementwise_binary.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import Kernel, INT8, c_dims, check_quant
from rnnedge.kernels.params import Quant


class _Binary(Kernel):
    """Shared prepare/run of the broadcasting element-wise ops."""

    struct = None
    max_rank = params.MAX_DIMS

    def __init__(self, shape1, shape2, input1_q: Quant, input2_q: Quant, output_q: Quant,
                 *, activation="NONE", lib=None):
        super().__init__(lib)
        for q, what in ((input1_q, "input1"), (input2_q, "input2"), (output_q, "output")):
            check_quant(q, what, self.op)
        try:
            bc = params.broadcast(shape1, shape2, self.max_rank)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        self.shape1, self.shape2 = tuple(shape1), tuple(shape2)
        rank = max(len(self.shape1), len(self.shape2))
        self.output_shape = tuple(bc["dims"][params.MAX_DIMS - rank:])
        fields = self._fields(input1_q, input2_q, output_q, activation)
        shape = structs.Broadcast(dims=c_dims(bc["dims"]), strides1=c_dims(bc["strides1"]),
                            strides2=c_dims(bc["strides2"]))
        self.params = self.struct(shape=shape, **fields)

    def __call__(self, x1, x2, out=None):
        x1 = self._buffer(x1, INT8, self.shape1, "input1")
        x2 = self._buffer(x2, INT8, self.shape2, "input2")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(x1), self._ptr(x2), self._ptr(out))
        return out


class Add(_Binary):
    """ADD with TFLM's int8 rescaling (left shift 20) and N-D broadcasting."""

    op, entry, struct = "ADD", "rn_add", structs.AddParams

    def _fields(self, q1, q2, qo, activation):
        return params.add_params(q1, q2, qo, activation)


class Sub(_Binary):
    """SUB with TFLM's int8 rescaling (float32 scale ratios) and broadcasting."""

    op, entry, struct = "SUB", "rn_sub", structs.SubParams

    def _fields(self, q1, q2, qo, activation):
        return params.sub_params(q1, q2, qo, activation)


class Mul(_Binary):
    """MUL; TFLM broadcasts int8 MUL over at most 4 dimensions."""

    op, entry, struct = "MUL", "rn_mul", structs.MulParams
    max_rank = 4

    def _fields(self, q1, q2, qo, activation):
        return params.mul_params(q1, q2, qo, activation)
