"""Preparer of TRANSPOSE_CONV (int8 and int16x8): inputs are the constant output shape, the
filter [output_depth, H, W, input_depth], the data and an optional bias (int32 for int8;
int64, or int16 which TFLM widens, for 16x8).

Imports numpy, rnnedge.kernels and this package's context.
"""

import numpy as np

from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops

INT16 = np.dtype(np.int16)
BIAS_TYPES = {False: (np.int32,), True: (np.int64, np.int16)}


def _transpose_conv(c: Context):
    """TRANSPOSE_CONV; the data operand is input 2."""
    x, w, y = c.tensor(2), c.tensor(1, "filter"), c.out()
    wide = x.dtype == INT16
    if c.opt.get("fused_activation_function", "NONE") != "NONE":
        c.fail("a fused activation is not supported (TFLM's kernel ignores it)")
    bias = None
    if len(c.op.inputs) > 3 and c.op.inputs[3] >= 0:
        bias = c.const(3, "bias")
        if bias.dtype not in BIAS_TYPES[wide]:
            c.fail(f"bias is {bias.dtype}; TFLM's {'16x8' if wide else 'int8'} kernel takes "
                   f"{' or '.join(np.dtype(t).name for t in BIAS_TYPES[wide])}")
    shape = tuple(int(d) for d in c.const(0, "output shape").reshape(-1))
    if shape != tuple(y.shape):
        c.fail(f"the output shape operand {shape} differs from the output tensor {y.shape}")
    cls = kernel_ops.TransposeConv16x8 if wide else kernel_ops.TransposeConv
    kernel = cls(x.shape, c.const(1, "filter"), bias, c.quant(x), c.filter_scales(w), c.quant(y),
                 shape, stride=(c.opt.get("stride_h", 1), c.opt.get("stride_w", 1)),
                 padding=c.opt.get("padding", "SAME"), lib=c.lib)
    return kernel, (c.op.inputs[2],)


PREPARERS = {"TRANSPOSE_CONV": _transpose_conv}
