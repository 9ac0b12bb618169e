"""Preparers of the conv category: CONV_2D, DEPTHWISE_CONV_2D (with a fused PAD) and
FULLY_CONNECTED.

Imports numpy, rnnedge.kernels and this package's context.
"""

import numpy as np

from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops
from rnnedge.kernels.params import Quant


def _conv(c: Context, cls):
    """CONV_2D / DEPTHWISE_CONV_2D (`cls`); with a fused PAD it reads the PAD's input with
    explicit padding instead of the padded tensor."""
    x, w, y = c.tensor(0), c.tensor(1, "filter"), c.out()
    source, padding = c.op.inputs[0], c.opt.get("padding", "SAME")
    if c.fused_pad is not None:
        source, padding = c.fused_pad
        x = c.sg.tensors[source]
    bias = None
    if len(c.op.inputs) > 2 and c.op.inputs[2] >= 0:
        bias = c.const(2, "bias")
    kernel = cls(x.shape, c.const(1, "filter"), bias, c.quant(x), c.filter_scales(w),
                 c.quant(y), stride=(c.opt.get("stride_h", 1), c.opt.get("stride_w", 1)),
                 dilation=(c.opt.get("dilation_h_factor", 1), c.opt.get("dilation_w_factor", 1)),
                 padding=padding, activation=c.act(), output_shape=y.shape, lib=c.lib)
    return kernel, (source,)


def _fully_connected(c: Context):
    """FULLY_CONNECTED (per-tensor or per-channel filter)."""
    if c.opt.get("weights_format", 0) != 0:
        c.fail("shuffled weights formats are not supported")
    x, w, y = c.tensor(0), c.tensor(1, "filter"), c.out()
    bias = c.const(2, "bias") if len(c.op.inputs) > 2 and c.op.inputs[2] >= 0 else None
    wq = w.quantization
    if wq is None or len(wq.scales) == 0:
        c.fail(f"filter {w.name} has no quantisation parameters")
    filter_q = Quant(np.asarray(wq.scales, np.float32) if len(wq.scales) > 1
                     else float(wq.scales[0]), int(wq.zero_points[0]))
    kernel = kernel_ops.FullyConnected(x.shape, c.const(1, "filter"), bias, c.quant(x), filter_q,
                              c.quant(y), activation=c.act(),
                              keep_num_dims=bool(c.opt.get("keep_num_dims", False)), lib=c.lib)
    return kernel, (c.op.inputs[0],)


PREPARERS = {
    "CONV_2D": lambda c: _conv(c, kernel_ops.Conv2D),
    "DEPTHWISE_CONV_2D": lambda c: _conv(c, kernel_ops.DepthwiseConv2D),
    "FULLY_CONNECTED": _fully_connected,
}
