"""PRELU, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, DIV: two int8 inputs, broadcasting as TFLM's
reference kernels do (over at most 4 or 5 dimensions, by op), parameters derived as TFLM's
Prepare does (rnnedge.kernels.params_math).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in
kernels/tests/test_binary_math.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.kernels import params_math, structs
from rnnedge.kernels.ops.elementwise import _Binary


class Prelu(_Binary):
    """PRELU(input, alpha): TFLM's Prelu / BroadcastPrelu4DSlow (4-D broadcast)."""

    op, entry, struct = "PRELU", "rn_prelu", structs.PreluParams
    max_rank = 4

    def _fields(self, q1, q2, qo, activation):
        return params_math.prelu_params(q1, q2, qo)


class Maximum(_Binary):
    """MAXIMUM: the larger raw int8 value (TFLM's MaximumMinimumBroadcastSlow, 5-D)."""

    op, entry, struct = "MAXIMUM", "rn_maximum", structs.MaximumMinimumParams
    max_rank = 5

    def _fields(self, q1, q2, qo, activation):
        return {}


class Minimum(Maximum):
    """MINIMUM: the smaller raw int8 value."""

    op, entry = "MINIMUM", "rn_minimum"


class SquaredDifference(_Binary):
    """SQUARED_DIFFERENCE: TFLM's quantised SquaredDifference (4-D broadcast)."""

    op, entry, struct = "SQUARED_DIFFERENCE", "rn_squared_difference", \
        structs.SquaredDifferenceParams
    max_rank = 4

    def _fields(self, q1, q2, qo, activation):
        return params_math.squared_difference_params(q1, q2, qo)


class Div(_Binary):
    """DIV: TFLM's DivElementwise / BroadcastDivSlowQuantized (5-D broadcast); a divisor at
    its zero point is refused at run time."""

    op, entry, struct = "DIV", "rn_div", structs.DivParams
    max_rank = 5

    def _fields(self, q1, q2, qo, activation):
        return params_math.div_params(q1, q2, qo, activation)
