"""L2_NORMALIZATION (int8 -> 1/128-scaled int8 over the last dim, TFLM's integer inverse square
root), and CUMSUM and ADD_N (int8 sums of inputs rescaled like ADD inputs with left shift 20,
as TFLM's cumsum.cc and add_n.cc).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_norm_scan.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import INT8, Kernel, SingleIO, check_quant, numel, resolve_axis
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


def _sum_rescale(input_q: Quant, output_q: Quant) -> dict:
    """TFLM's CUMSUM / ADD_N Prepare: ADD's rescale with both inputs `input_q` (double maths),
    left shift 20, no activation."""
    twice = 2.0 * float(f32(input_q.scale))
    mi, si = params.quantize_multiplier_smaller_than_one_exp(float(f32(input_q.scale)) / twice)
    mo, so = params.quantize_multiplier_smaller_than_one_exp(
        twice / ((1 << CUMSUM_LEFT_SHIFT) * float(f32(output_q.scale))))
    lo, hi = params.activation_range("NONE", output_q)
    return dict(input_offset=-int(input_q.zero_point), output_offset=int(output_q.zero_point),
                left_shift=CUMSUM_LEFT_SHIFT, input_multiplier=mi, input_shift=si,
                output_multiplier=mo, output_shift=so, activation_min=lo, activation_max=hi)


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
        self.input_shape = self.output_shape = shape
        self.params = structs.CumsumParams(
            inner=numel(shape[:ax]), depth=shape[ax], outer=numel(shape[ax + 1:]),
            exclusive=int(bool(exclusive)), reverse=int(bool(reverse)),
            **_sum_rescale(input_q, output_q))


class AddN(Kernel):
    """ADD_N of `count` same-shaped int8 inputs sharing `input_q` (TFLM requires one
    quantisation); the compiler passes the inputs as one pointer array."""

    op, entry, input_pointer_array = "ADD_N", "rn_add_n", True

    def __init__(self, shape, count: int, input_q: Quant, output_q: Quant, *, lib=None):
        super().__init__(lib)
        check_quant(input_q, "input", self.op)
        check_quant(output_q, "output", self.op)
        if int(count) < 1:
            raise RnnedgeError(f"{self.op}: needs at least one input")
        shape = tuple(int(d) for d in shape)
        self.input_shapes, self.output_shape = [shape] * int(count), shape
        self.params = structs.AddNParams(size=numel(shape), num_inputs=int(count),
                                         **_sum_rescale(input_q, output_q))

    def __call__(self, inputs, out=None):
        if len(inputs) != len(self.input_shapes):
            raise RnnedgeError(f"{self.op}: expected {len(self.input_shapes)} inputs")
        xs = [self._buffer(x, INT8, s, f"input {i}")
              for i, (x, s) in enumerate(zip(inputs, self.input_shapes))]
        out = self._output(out, INT8, self.output_shape)
        self._run((structs.P_I8 * len(xs))(*[self._ptr(x) for x in xs]), self._ptr(out))
        return out
