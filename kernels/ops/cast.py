"""CAST from bool or int8 to int8, int32, float32 or bool (TFLM's static_cast per element).

Prepared kernel (see rnnedge.kernels.ops); tests in kernels/tests/test_comparisons.py (the bool
tensors CAST reads come from comparisons).
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import ctypes

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import structs
from rnnedge.kernels.ops.base import Kernel, numel

# TFLite TensorType codes (RN_TYPE_* in include/rnnedge_kernels.h)
TYPE_CODES = {np.dtype(np.float32): 0, np.dtype(np.int32): 2, np.dtype(np.bool_): 6,
              np.dtype(np.int8): 9}
INPUT_TYPES = (np.dtype(np.bool_), np.dtype(np.int8))


class Cast(Kernel):
    """CAST of a `shape` tensor from `input_dtype` (bool, int8) to `output_dtype` (int8, int32,
    float32, bool)."""

    op, entry = "CAST", "rn_cast"

    def __init__(self, shape, input_dtype, output_dtype, *, lib=None):
        super().__init__(lib)
        self.input_dtype, self.output_dtype = np.dtype(input_dtype), np.dtype(output_dtype)
        if self.input_dtype not in INPUT_TYPES or self.output_dtype not in TYPE_CODES:
            raise RnnedgeError(f"CAST from {self.input_dtype} to {self.output_dtype} is not "
                               "supported (from bool or int8 to int8, int32, float32 or bool)")
        self.input_shape = self.output_shape = tuple(int(d) for d in shape)
        self.params = structs.CastParams(size=numel(shape),
                                         input_type=TYPE_CODES[self.input_dtype],
                                         output_type=TYPE_CODES[self.output_dtype])

    def __call__(self, x, out=None):
        x = self._buffer(x, self.input_dtype, self.input_shape, "input")
        out = self._output(out, self.output_dtype, self.output_shape)
        self._run(self._ptr(x, ctypes.c_void_p), self._ptr(out, ctypes.c_void_p))
        return out
