"""SOFTMAX over the last axis (TFLM's int8 lookup-free fixed-point softmax).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_softmax.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import Kernel, SingleIO, numel, check_quant
from rnnedge.kernels.params import Quant


class Softmax(SingleIO):
    """SOFTMAX over the last axis, int8 -> int8 (output 1/256, zero point -128)."""

    op, entry = "SOFTMAX", "rn_softmax"

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, beta=1.0, lib=None):
        Kernel.__init__(self, lib)
        check_quant(input_q, "input", self.op)
        if not shape or int(shape[-1]) <= 0:
            raise RnnedgeError(f"{self.op}: input needs a non-empty last axis")
        try:
            fields = params.softmax_params(input_q, output_q, beta)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        depth = int(shape[-1])
        self.input_shape = self.output_shape = tuple(shape)
        self.params = structs.SoftmaxParams(outer_size=numel(shape) // depth, depth=depth, **fields)
