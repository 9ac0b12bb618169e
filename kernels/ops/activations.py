"""TANH, LOGISTIC (TFLM's fixed-point activations), RELU / RELU_N1_TO_1 / RELU_0_TO_1, RELU6.

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_activations.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import math

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import SingleIO, check_quant
from rnnedge.kernels.params import Quant


class _FixedPointActivation(SingleIO):
    """TANH / LOGISTIC: TFLM's fixed-point activations, whose params `derive` computes from
    the input and output quantisation (the output's is fixed by the op)."""

    derive = struct = None

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, lib=None):
        super().__init__(lib)
        check_quant(input_q, "input", self.op)
        try:
            fields = self.derive(input_q, output_q)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        self._setup(shape, self.struct, fields)


class Tanh(_FixedPointActivation):
    """TANH (output scale 1/128, zero point 0)."""

    op, entry = "TANH", "rn_tanh"
    derive, struct = staticmethod(params.tanh_params), structs.TanhParams


class Logistic(_FixedPointActivation):
    """LOGISTIC (output scale 1/256, zero point -128)."""

    op, entry = "LOGISTIC", "rn_logistic"
    derive, struct = staticmethod(params.logistic_params), structs.LogisticParams


class Relu(SingleIO):
    """RELU (act range [0, inf)); RELU_N1_TO_1 / RELU_0_TO_1 via act_min/act_max."""

    op, entry = "RELU", "rn_relu"

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, act_min=0.0,
                 act_max=math.inf, lib=None):
        super().__init__(lib)
        check_quant(input_q, "input", self.op)
        check_quant(output_q, "output", self.op)
        self._setup(shape, structs.ReluParams, params.relu_params(input_q, output_q, act_min, act_max))


class Relu6(SingleIO):
    """RELU6: clamp to the input's quantised [0, 6] (TFLM keeps the input's params)."""

    op, entry = "RELU6", "rn_relu6"

    def __init__(self, shape, input_q: Quant, *, lib=None):
        super().__init__(lib)
        check_quant(input_q, "input", self.op)
        self._setup(shape, structs.Relu6Params, params.relu6_params(input_q))
