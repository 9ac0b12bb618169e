"""MEAN over constant axes (int32 accumulation, TFLM's rescale).

Prepared kernels (see rnnedge.kernels.ops); tests beside them in kernels/tests/test_mean.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import Kernel, SingleIO, c_dims, check_quant
from rnnedge.kernels.params import Quant


class Mean(SingleIO):
    """MEAN over `axes` (TFLM's integer QuantizedMeanOrSum)."""

    op, entry = "MEAN", "rn_mean"

    def __init__(self, input_shape, axes, input_q: Quant, output_q: Quant, *,
                 keep_dims=False, lib=None):
        Kernel.__init__(self, lib)
        check_quant(input_q, "input", self.op)
        check_quant(output_q, "output", self.op)
        rank = len(input_shape)
        resolved = set()
        for a in np.atleast_1d(np.asarray(axes, dtype=np.int64)).tolist():
            if not -rank <= a < rank:
                raise RnnedgeError(f"{self.op}: axis {a} out of range for rank {rank}")
            resolved.add(a % rank)
        reduce = [1 if d in resolved else 0 for d in range(rank)]
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = tuple(1 if r else d for d, r in zip(self.input_shape, reduce)) \
            if keep_dims else tuple(d for d, r in zip(self.input_shape, reduce) if not r)
        self.params = structs.MeanParams(
            input_dims=c_dims(params.pad_shape(self.input_shape)),
            reduce=c_dims(params.pad_shape(reduce, 0)),
            input_zero_point=int(input_q.zero_point), output_zero_point=int(output_q.zero_point),
            **params.mean_params(input_q, output_q))
