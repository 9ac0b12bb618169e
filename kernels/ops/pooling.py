"""AVERAGE_POOL_2D and MAX_POOL_2D.

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_pooling.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import Kernel, SingleIO, check_quant, hw_pair, index_math_fits
from rnnedge.kernels.params import Quant


class _Pool(SingleIO):
    """Shared prepare of the 2-D pools (input and output share quantisation)."""

    def __init__(self, input_shape, filter_size, output_q: Quant, *, stride=1,
                 padding="VALID", activation="NONE", output_shape=None, lib=None):
        Kernel.__init__(self, lib)
        check_quant(output_q, "output", self.op)
        if len(input_shape) != 4:
            raise RnnedgeError(f"{self.op}: input must be 4-D NHWC")
        n, h, w, c = (int(d) for d in input_shape)
        (fh, fw), (sh, sw) = hw_pair(filter_size), hw_pair(stride)
        if min(fh, fw, sh, sw) <= 0:
            raise RnnedgeError(f"{self.op}: filter size and strides must be positive")
        if output_shape is None:
            output_shape = (n, params.output_size(padding, h, fh, sh), params.output_size(padding, w, fw, sw),
                            c)
        output_shape = tuple(int(d) for d in output_shape)
        if len(output_shape) != 4 or output_shape[0] != n or output_shape[3] != c:
            raise RnnedgeError(f"{self.op}: output shape {output_shape} does not match input "
                               f"{tuple(input_shape)}")
        ph = params.compute_padding(sh, 1, h, fh, output_shape[1])
        pw = params.compute_padding(sw, 1, w, fw, output_shape[2])
        index_math_fits(self.op, output_shape[1:3], (fh, fw), (sh, sw), (1, 1), (ph, pw))
        if (output_shape[1] > 0 and (output_shape[1] - 1) * sh - ph >= h) or \
                (output_shape[2] > 0 and (output_shape[2] - 1) * sw - pw >= w):
            raise RnnedgeError(f"{self.op}: a pooling window lies entirely in the padding")
        lo, hi = params.activation_range(activation, output_q)
        self.input_shape, self.output_shape = (n, h, w, c), output_shape
        self.params = structs.Pool2DParams(
            batches=n, input_height=h, input_width=w, depth=c, output_height=output_shape[1],
            output_width=output_shape[2], filter_height=fh, filter_width=fw,
            stride_height=sh, stride_width=sw, pad_height=ph, pad_width=pw,
            activation_min=lo, activation_max=hi)


class AveragePool2D(_Pool):
    """AVERAGE_POOL_2D."""

    op, entry = "AVERAGE_POOL_2D", "rn_average_pool_2d"


class MaxPool2D(_Pool):
    """MAX_POOL_2D."""

    op, entry = "MAX_POOL_2D", "rn_max_pool_2d"
