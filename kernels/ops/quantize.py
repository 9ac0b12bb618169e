"""QUANTIZE (float32 -> int8, int8 -> int8 requantisation) and DEQUANTIZE.

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_quantize.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import Kernel, SingleIO, INT8, numel, check_quant
from rnnedge.kernels.params import Quant


class Requantize(SingleIO):
    """QUANTIZE int8 -> int8 (rescale to the output's quantisation)."""

    op, entry = "QUANTIZE", "rn_requantize"

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, lib=None):
        super().__init__(lib)
        check_quant(input_q, "input", self.op)
        check_quant(output_q, "output", self.op)
        self._setup(shape, structs.RequantizeParams, params.requantize_params(input_q, output_q))


class Quantize(Kernel):
    """QUANTIZE float32 -> int8."""

    op, entry = "QUANTIZE", "rn_quantize"

    def __init__(self, shape, output_q: Quant, *, lib=None):
        super().__init__(lib)
        check_quant(output_q, "output", self.op)
        self.input_shape = self.output_shape = tuple(shape)
        self.params = structs.QuantizeParams(size=numel(shape), scale=float(params.f32(output_q.scale)),
                                       zero_point=int(output_q.zero_point))

    def __call__(self, x, out=None):
        x = self._buffer(x, np.float32, self.input_shape, "input")
        out = self._output(out, INT8, self.output_shape)
        self._run(self._ptr(x, structs.P_F32), self._ptr(out))
        return out


class Dequantize(Kernel):
    """DEQUANTIZE int8 -> float32."""

    op, entry = "DEQUANTIZE", "rn_dequantize"

    def __init__(self, shape, input_q: Quant, *, lib=None):
        super().__init__(lib)
        check_quant(input_q, "input", self.op)
        self.input_shape = self.output_shape = tuple(shape)
        self.params = structs.DequantizeParams(size=numel(shape), zero_point=int(input_q.zero_point),
                                         scale=float(params.f32(input_q.scale)))

    def __call__(self, x, out=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        out = self._output(out, np.float32, self.output_shape)
        self._run(self._ptr(x), self._ptr(out, structs.P_F32))
        return out
