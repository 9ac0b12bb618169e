"""Preparers of the elementwise math ops of issue 17: LEAKY_RELU, HARD_SWISH, ABS, RSQRT, ELU,
GELU, LOG_SOFTMAX, PRELU, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, DIV, the six comparisons (bool
output), LOGICAL_AND / LOGICAL_OR / LOGICAL_NOT, SELECT_V2 and CAST (from bool / int8).

Imports numpy, rnnedge.kernels and this package's context.
"""

import numpy as np

from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops

BOOL = np.dtype(np.bool_)


def _unary(cls, **fixed):
    """Preparer of a requantizing unary op (`cls`)."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        x = c.tensor(0)
        return cls(x.shape, c.quant(x), c.quant(c.out()), lib=c.lib, **fixed), (c.op.inputs[0],)
    return prepare


def _leaky_relu(c: Context):
    """LEAKY_RELU with the operator's alpha."""
    x = c.tensor(0)
    kernel = kernel_ops.LeakyRelu(x.shape, c.quant(x), c.quant(c.out()),
                                  alpha=c.opt.get("alpha", 0.0), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _gelu(c: Context):
    """GELU, exact or tanh-approximate as the operator's options say."""
    x = c.tensor(0)
    kernel = kernel_ops.Gelu(x.shape, c.quant(x), c.quant(c.out()),
                             approximate=bool(c.opt.get("approximate", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


def _binary(cls):
    """Preparer of a two-input int8 op (`cls`): PRELU, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE,
    DIV (the only one with a fused activation)."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        a, b, y = c.tensor(0), c.tensor(1), c.out()
        kernel = cls(a.shape, b.shape, c.quant(a), c.quant(b), c.quant(y),
                     activation=c.act(), lib=c.lib)
        return kernel, (c.op.inputs[0], c.op.inputs[1])
    return prepare


def _comparison(cls):
    """Preparer of a comparison: int8 inputs with their quantisation, or bool inputs."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        a, b = c.tensor(0), c.tensor(1)
        if (a.dtype == BOOL) != (b.dtype == BOOL):
            c.fail("compares a bool tensor with a non-bool one")
        quants = (None, None) if a.dtype == BOOL else (c.quant(a), c.quant(b))
        return cls(a.shape, b.shape, *quants, lib=c.lib), (c.op.inputs[0], c.op.inputs[1])
    return prepare


def _logical(cls):
    """Preparer of LOGICAL_AND / LOGICAL_OR."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        a, b = c.tensor(0), c.tensor(1)
        return cls(a.shape, b.shape, lib=c.lib), (c.op.inputs[0], c.op.inputs[1])
    return prepare


def _logical_not(c: Context):
    """LOGICAL_NOT."""
    return kernel_ops.LogicalNot(c.tensor(0).shape, lib=c.lib), (c.op.inputs[0],)


def _select_v2(c: Context):
    """SELECT_V2: copies the bytes of x or y, as TFLM does (TF's converter gives x, y and the
    output one quantisation)."""
    cond, x, y = c.tensor(0), c.tensor(1), c.tensor(2)
    if cond.dtype != BOOL:
        c.fail(f"condition {cond.name} is {cond.type_name}, expected BOOL")
    kernel = kernel_ops.SelectV2(cond.shape, x.shape, y.shape, lib=c.lib)
    return kernel, tuple(c.op.inputs[:3])


def _cast(c: Context):
    """CAST from bool / int8 to int8, int32, float32 or bool."""
    x, y = c.tensor(0), c.out()
    if x.dtype is None or y.dtype is None:
        c.fail("CAST between these tensor types is not supported")
    return kernel_ops.Cast(x.shape, x.dtype, y.dtype, lib=c.lib), (c.op.inputs[0],)


PREPARERS = {
    "LEAKY_RELU": _leaky_relu,
    "HARD_SWISH": _unary(kernel_ops.HardSwish),
    "ABS": _unary(kernel_ops.Abs),
    "RSQRT": _unary(kernel_ops.Rsqrt),
    "ELU": _unary(kernel_ops.Elu),
    "GELU": _gelu,
    "LOG_SOFTMAX": _unary(kernel_ops.LogSoftmax),
    "PRELU": _binary(kernel_ops.Prelu),
    "MAXIMUM": _binary(kernel_ops.Maximum),
    "MINIMUM": _binary(kernel_ops.Minimum),
    "SQUARED_DIFFERENCE": _binary(kernel_ops.SquaredDifference),
    "DIV": _binary(kernel_ops.Div),
    "EQUAL": _comparison(kernel_ops.Equal),
    "NOT_EQUAL": _comparison(kernel_ops.NotEqual),
    "LESS": _comparison(kernel_ops.Less),
    "LESS_EQUAL": _comparison(kernel_ops.LessEqual),
    "GREATER": _comparison(kernel_ops.Greater),
    "GREATER_EQUAL": _comparison(kernel_ops.GreaterEqual),
    "LOGICAL_AND": _logical(kernel_ops.LogicalAnd),
    "LOGICAL_OR": _logical(kernel_ops.LogicalOr),
    "LOGICAL_NOT": _logical_not,
    "SELECT_V2": _select_v2,
    "CAST": _cast,
}
