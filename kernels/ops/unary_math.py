"""LEAKY_RELU, HARD_SWISH, ABS, RSQRT, ELU, GELU and LOG_SOFTMAX: one int8 input, one int8 output,
parameters derived as TFLM's Prepare does (rnnedge.kernels.params_math).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in
kernels/tests/test_unary_math.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params_math, structs
from rnnedge.kernels.ops.base import SingleIO, check_quant, numel
from rnnedge.kernels.params import Quant


class _Requantizing(SingleIO):
    """An elementwise op whose params `derive(input_q, output_q, **options)` computes."""

    struct = None

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, lib=None, **options):
        super().__init__(lib)
        check_quant(input_q, "input", self.op)
        check_quant(output_q, "output", self.op)
        try:
            fields = self.derive(input_q, output_q, **options)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        self._setup(shape, self.struct, fields)

    def derive(self, input_q, output_q, **options):
        raise NotImplementedError


class LeakyRelu(_Requantizing):
    """LEAKY_RELU(alpha): TFLM's QuantizeLeakyRelu."""

    op, entry, struct = "LEAKY_RELU", "rn_leaky_relu", structs.LeakyReluParams

    def derive(self, input_q, output_q, alpha=0.2):
        return params_math.leaky_relu_params(input_q, output_q, alpha)


class HardSwish(_Requantizing):
    """HARD_SWISH: TFLM's int16 fixed-point reference HardSwish."""

    op, entry, struct = "HARD_SWISH", "rn_hard_swish", structs.HardSwishParams

    def derive(self, input_q, output_q):
        return params_math.hard_swish_params(input_q, output_q)


class Abs(_Requantizing):
    """ABS: TFLM's AbsEvalQuantized."""

    op, entry, struct = "ABS", "rn_abs", structs.AbsParams

    def derive(self, input_q, output_q):
        return params_math.abs_params(input_q, output_q)


class Rsqrt(_Requantizing):
    """RSQRT: TFLM's RsqrtEvalQuantized (inputs below the zero point are refused at run time,
    as TFLM refuses them)."""

    op, entry, struct = "RSQRT", "rn_rsqrt", structs.RsqrtParams

    def derive(self, input_q, output_q):
        return params_math.rsqrt_params(input_q, output_q)


class Elu(_Requantizing):
    """ELU: TFLM's int8 lookup table (filled here as TFLM's Prepare fills it)."""

    op, entry, struct = "ELU", "rn_elu", structs.EluParams

    def derive(self, input_q, output_q):
        return dict(table=(structs.ctypes.c_int8 * 256)(
            *[int(v) for v in params_math.elu_table(input_q, output_q)]))


class Gelu(_Requantizing):
    """GELU (`approximate`: the tanh form): TFLite's int8 lookup table (TFLM does not
    register GELU)."""

    op, entry, struct = "GELU", "rn_gelu", structs.GeluParams

    def derive(self, input_q, output_q, approximate=False):
        return dict(table=(structs.ctypes.c_int8 * 256)(
            *[int(v) for v in params_math.gelu_table(input_q, output_q, approximate)]))


class LogSoftmax(SingleIO):
    """LOG_SOFTMAX over the last axis (output scale 16/256, zero point 127)."""

    op, entry = "LOG_SOFTMAX", "rn_log_softmax"

    def __init__(self, shape, input_q: Quant, output_q: Quant, *, lib=None):
        super().__init__(lib)
        check_quant(input_q, "input", self.op)
        shape = tuple(int(d) for d in shape)
        if not shape:
            raise RnnedgeError("LOG_SOFTMAX needs an input of rank 1 or more")
        try:
            fields = params_math.log_softmax_params(input_q, output_q)
        except RnnedgeError as exc:
            raise RnnedgeError(f"{self.op}: {exc}") from None
        self.input_shape = self.output_shape = shape
        self.params = structs.LogSoftmaxParams(outer_size=numel(shape[:-1]), depth=shape[-1],
                                               **fields)
