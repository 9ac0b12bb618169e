"""Preparers of int32 ADD and int32 comparisons (the loop counters and conditions of the
WHILE loops TF's converter writes): an operator whose data inputs are both int32 goes to
rnnedge.kernels.ops.int32_math, any other to the preparer it had before (`wrap`).

Imports numpy, rnnedge.kernels and this package's context.
"""

import numpy as np

from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops
from rnnedge.kernels.ops.int32_math import COMPARISONS

INT32 = np.dtype(np.int32)


def _int32_pair(c: Context) -> bool:
    return len(c.op.inputs) >= 2 and c.tensor(0).dtype == INT32 and c.tensor(1).dtype == INT32


def _add(c: Context):
    """int32 ADD (TFLM ignores the fused activation for int32)."""
    a, b = c.tensor(0), c.tensor(1)
    return kernel_ops.AddInt32(a.shape, b.shape, lib=c.lib), (c.op.inputs[0], c.op.inputs[1])


def _compare(c: Context):
    """An int32 comparison, raw values."""
    a, b = c.tensor(0), c.tensor(1)
    kernel = kernel_ops.CompareInt32(c.op.opcode, a.shape, b.shape, lib=c.lib)
    return kernel, (c.op.inputs[0], c.op.inputs[1])


def wrap(previous: dict) -> dict:
    """{opcode: preparer} for ADD and the comparisons: int32 pairs to the int32 kernels, the
    rest to `previous[opcode]`."""
    def dispatch(opcode, own):
        before = previous[opcode]

        def prepare(c: Context):
            """(kernel, data operands) for this operator."""
            return own(c) if _int32_pair(c) else before(c)
        return prepare
    table = {"ADD": dispatch("ADD", _add)}
    table.update({name: dispatch(name, _compare) for name in COMPARISONS})
    return table
