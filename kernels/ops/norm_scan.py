"""L2_NORMALIZATION (int8 -> 1/128-scaled int8 over the last dim, TFLM's integer inverse square
root) and CUMSUM (int8, rescaled like an ADD input with left shift 20, as TFLM's cumsum.cc).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_norm_scan.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import Kernel, SingleIO, check_quant, numel, resolve_axis
from rnnedge.kernels.params import Quant, f32

L2_OUTPUT = Quant(1.0 / 128.0, 0)  # TFLM's required int8 output quantisation
CUMSUM_LEFT_SHIFT = 20  # TFLM's kCumSumIntegerShift
MAX_L2_DEPTH = 1 << 15  # keeps the int32 sum of squares from overflowing


class L2Normalization(SingleIO):
    """L2_NORMALIZATION over the last dim; the output must be quantised (1/128, 0)."""

    op, entry = "L2_NORMALIZATION", "rn_l2_normalization"

    def __init__(self, input_shape, input_q: Quant, output_q: Quant = L2_OUTPUT, *, lib=None):
        Kernel.__init__(self, lib)
        check_quant(input_q, "input", self.op)
        if f32(output_q.scale) != f32(L2_OUTPUT.scale) or int(output_q.zero_point) != 0:
            raise RnnedgeError(f"{self.op}: the output must be quantised with scale 1/128 and "
                               "zero point 0 (TFLM requires it)")
        shape = tuple(int(d) for d in input_shape)
        if not shape or shape[-1] > MAX_L2_DEPTH:
            raise RnnedgeError(f"{self.op}: the last dim must hold 1 to {MAX_L2_DEPTH} values")
        self.input_shape = self.output_shape = shape
        self.params = structs.L2NormalizationParams(outer_size=numel(shape[:-1]),
                                                    depth=shape[-1],
                                                    input_zero_point=int(input_q.zero_point))


class Cumsum(SingleIO):
    """CUMSUM along `axis` (`exclusive`, `reverse` as TFLite's options)."""

    op, entry = "CUMSUM", "rn_cumsum"

    def __init__(self, input_shape, axis: int, input_q: Quant, output_q: Quant, *,
                 exclusive=False, reverse=False, lib=None):
        Kernel.__init__(self, lib)
        check_quant(input_q, "input", self.op)
        check_quant(output_q, "output", self.op)
        shape = tuple(int(d) for d in input_shape)
        ax = resolve_axis(axis, len(shape), self.op)
        twice = 2.0 * float(f32(input_q.scale))
        mi, si = params.quantize_multiplier_smaller_than_one_exp(float(f32(input_q.scale)) / twice)
        mo, so = params.quantize_multiplier_smaller_than_one_exp(
            twice / ((1 << CUMSUM_LEFT_SHIFT) * float(f32(output_q.scale))))
        lo, hi = params.activation_range("NONE", output_q)
        self.input_shape = self.output_shape = shape
        self.params = structs.CumsumParams(
            inner=numel(shape[:ax]), depth=shape[ax], outer=numel(shape[ax + 1:]),
            exclusive=int(bool(exclusive)), reverse=int(bool(reverse)),
            input_offset=-int(input_q.zero_point), output_offset=int(output_q.zero_point),
            left_shift=CUMSUM_LEFT_SHIFT, input_multiplier=mi, input_shift=si,
            output_multiplier=mo, output_shift=so, activation_min=lo, activation_max=hi)
