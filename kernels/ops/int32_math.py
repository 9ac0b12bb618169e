"""int32 ADD and the six comparisons of int32 tensors: the loop counters and conditions of
the WHILE loops TF's converter writes (`i + 1`, `i < n`), as TFLM's reference kernels compute
them (EvalAdd's int32 path with the whole int32 range as activation range; the comparisons'
NoScaling path), 4-D broadcast.

Prepared kernels (see rnnedge.kernels.ops); tests in kernels/tests/test_int32_math.py.
May import: numpy and this package.
"""

import numpy as np

from rnnedge.kernels import structs
from rnnedge.kernels.ops.comparisons import BOOL, _TwoInputs

INT32 = np.dtype(np.int32)
#: RN_CMP_* of include/rnnedge_comparison.h
COMPARISONS = {"EQUAL": 0, "NOT_EQUAL": 1, "LESS": 2, "LESS_EQUAL": 3, "GREATER": 4,
               "GREATER_EQUAL": 5}


class _Int32Inputs(_TwoInputs):
    """Two int32 inputs (int32 pointers), one output."""

    input_dtype = INT32

    def __call__(self, x1, x2, out=None):
        x1 = self._buffer(x1, INT32, self.shape1, "input1")
        x2 = self._buffer(x2, INT32, self.shape2, "input2")
        out = self._output(out, self.output_dtype, self.output_shape)
        ptr = structs.P_I32 if self.output_dtype == INT32 else structs.P_I8
        self._run(self._ptr(x1, structs.P_I32), self._ptr(x2, structs.P_I32),
                  self._ptr(out, ptr))
        return out


class AddInt32(_Int32Inputs):
    """ADD of two int32 tensors (wrapping modulo 2^32; TFLM applies no fused activation)."""

    op, entry = "ADD", "rn_add_int32"
    output_dtype = INT32

    def __init__(self, shape1, shape2, *, lib=None):
        super().__init__(lib)
        self.params = structs.Int32BinaryParams(shape=self._shapes(shape1, shape2))


class CompareInt32(_Int32Inputs):
    """Comparison `opcode` (a key of COMPARISONS) of two int32 tensors; bool output."""

    entry = "rn_compare_int32"
    output_dtype = BOOL

    def __init__(self, opcode, shape1, shape2, *, lib=None):
        self.op = opcode
        super().__init__(lib)
        self.params = structs.Int32CompareParams(shape=self._shapes(shape1, shape2),
                                                 which=COMPARISONS[opcode])
