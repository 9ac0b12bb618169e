"""Preparers of the elementwise ops: ADD, SUB, MUL, TANH, LOGISTIC, the RELUs, QUANTIZE,
DEQUANTIZE and SOFTMAX.

Imports numpy, rnnedge.kernels and this package's context.
"""

import numpy as np

from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops

FLOAT32 = np.dtype(np.float32)


def _binary(cls):
    """Preparer of ADD / SUB / MUL (`cls`)."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        a, b, y = c.tensor(0), c.tensor(1), c.out()
        kernel = cls(a.shape, b.shape, c.quant(a), c.quant(b), c.quant(y),
                     activation=c.act(), lib=c.lib)
        return kernel, (c.op.inputs[0], c.op.inputs[1])
    return prepare


def _tanh_logistic(cls):
    """Preparer of TANH / LOGISTIC (`cls`)."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        x = c.tensor(0)
        return cls(x.shape, c.quant(x), c.quant(c.out()), lib=c.lib), (c.op.inputs[0],)
    return prepare


def _relu(low: float, high: float):
    """Preparer of a RELU clamping to [low, high] (real values)."""
    def prepare(c: Context):
        """(kernel, data operands) for this operator."""
        x = c.tensor(0)
        kernel = kernel_ops.Relu(x.shape, c.quant(x), c.quant(c.out()), act_min=low, act_max=high,
                        lib=c.lib)
        return kernel, (c.op.inputs[0],)
    return prepare


def _relu6(c: Context):
    """RELU6 in the input's quantisation."""
    x = c.tensor(0)
    return kernel_ops.Relu6(x.shape, c.quant(x), lib=c.lib), (c.op.inputs[0],)


def _quantize(c: Context):
    """QUANTIZE: float32 -> int8, or int8 -> int8 requantisation."""
    x, y = c.tensor(0), c.out()
    if x.dtype == FLOAT32:
        return kernel_ops.Quantize(x.shape, c.quant(y), lib=c.lib), (c.op.inputs[0],)
    return kernel_ops.Requantize(x.shape, c.quant(x), c.quant(y), lib=c.lib), (c.op.inputs[0],)


def _dequantize(c: Context):
    """DEQUANTIZE int8 -> float32."""
    x = c.tensor(0)
    return kernel_ops.Dequantize(x.shape, c.quant(x), lib=c.lib), (c.op.inputs[0],)




def _softmax(c: Context):
    """SOFTMAX over the last axis."""
    x = c.tensor(0)
    kernel = kernel_ops.Softmax(x.shape, c.quant(x), c.quant(c.out()), beta=c.opt.get("beta", 1.0),
                       lib=c.lib)
    return kernel, (c.op.inputs[0],)


PREPARERS = {
    "ADD": _binary(kernel_ops.Add),
    "SUB": _binary(kernel_ops.Sub),
    "MUL": _binary(kernel_ops.Mul),
    "TANH": _tanh_logistic(kernel_ops.Tanh),
    "LOGISTIC": _tanh_logistic(kernel_ops.Logistic),
    "RELU": _relu(0.0, float("inf")),
    "RELU_N1_TO_1": _relu(-1.0, 1.0),
    "RELU_0_TO_1": _relu(0.0, 1.0),
    "RELU6": _relu6,
    "QUANTIZE": _quantize,
    "DEQUANTIZE": _dequantize,
    "SOFTMAX": _softmax,
}
