"""The `fused_pad` rule: a PAD folded into the CONV_2D / DEPTHWISE_CONV_2D that reads it.

Exporters from PyTorch emit an explicit PAD before a conv whose padding TFLite's SAME cannot
express (a stride-2 3x3 conv padded by 1 on every side). A TFLM-style conv skips the taps that
fall outside its input, which equals reading input zero points, so a conv given the PAD's
input and explicit leading offsets computes the same bits as PAD + conv, and the padded tensor
never needs to exist (Vela does the same fusion for the Ethos-U). A PAD (or a PADV2 whose
value is the input zero point) qualifies when:
  - its paddings are constant, non-negative, and pad only the H and W axes of a 4-D tensor;
  - its output is no graph output and is read by exactly one operator, a CONV_2D or
    DEPTHWISE_CONV_2D, only as that conv's input (tensor 0);
  - its output quantisation equals its input's;
  - the conv's leading offset along each axis (the PAD's `before` plus the conv's own SAME
    offset over the padded size) is at most the dilated kernel extent - 1, and the conv's
    declared output shape is what it computes over the padded size (so the explicit-padding
    conv over the unpadded input produces exactly that shape).
`explicit_padding` gives the ((top, bottom), (left, right)) padding the fused conv applies
to the PAD's input; planner/inplace.py schedules the pair as one step and firmware_sim runs
it. Works on rnnedge.tflite.model objects; imports numpy only (the SAME/VALID geometry is
TFLite's ComputeOutSize / ComputePaddingHeightWidth, restated here so the planner stays
independent of the kernels).
"""

import numpy as np

CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def _geometry(padding: str, size: int, extent: int, stride: int):
    """(output size, total padding, leading padding) of a TFLite conv axis."""
    if padding == "VALID":
        return (size + stride - extent) // stride, 0, 0
    n_out = (size + stride - 1) // stride
    total = max(0, (n_out - 1) * stride + extent - size)
    return n_out, total, total // 2


def same_quant(a, b) -> bool:
    """True when tensors `a` and `b` have identical quantisation parameters."""
    qa, qb = a.quantization, b.quantization
    if qa is None or qb is None:
        return qa is qb
    return (np.array_equal(qa.scales, qb.scales)
            and np.array_equal(qa.zero_points, qb.zero_points))


def _constant(subgraph, t):
    """The value of constant tensor `t`, or None."""
    if t < 0 or subgraph.tensors[t].data is None:
        return None
    return np.asarray(subgraph.tensors[t].data)


def _pad_value_ok(subgraph, pad) -> bool:
    """PAD fills with the zero point; a PADV2 must fill with the input zero point too."""
    if pad.opcode == "PAD":
        return True
    if len(pad.inputs) < 3 or pad.inputs[2] < 0:
        return False
    value = _constant(subgraph, pad.inputs[2])
    q = subgraph.tensors[pad.inputs[0]].quantization
    if value is None or value.size != 1 or q is None or len(q.zero_points) != 1:
        return False
    return int(value.reshape(-1)[0]) == int(q.zero_points[0])


def _paddings(subgraph, pad):
    """The PAD's paddings as a (4, 2) int array when they pad only H and W, else None."""
    if len(pad.inputs) < 2 or len(pad.outputs) != 1:
        return None
    pads = _constant(subgraph, pad.inputs[1])
    x = subgraph.tensors[pad.inputs[0]]
    if pads is None or pads.size != 8 or len(x.shape) != 4:
        return None
    pads = pads.astype(np.int64).reshape(4, 2)
    if np.any(pads < 0) or np.any(pads[0] != 0) or np.any(pads[3] != 0):
        return None
    return pads


def explicit_padding(subgraph, pad, conv):
    """((top, bottom), (left, right)) padding of the conv `conv` applied straight to the
    input of `pad`, or None when the pair does not qualify (see module docstring)."""
    if pad.opcode not in ("PAD", "PADV2") or conv.opcode not in CONVS or not pad.outputs:
        return None
    tensors = subgraph.tensors
    if len(conv.inputs) < 2 or conv.inputs[0] != pad.outputs[0] \
            or pad.outputs[0] in conv.inputs[1:] or not conv.outputs:
        return None
    pads = _paddings(subgraph, pad)
    x, p, y = tensors[pad.inputs[0]], tensors[pad.outputs[0]], tensors[conv.outputs[0]]
    w = tensors[conv.inputs[1]]
    if pads is None or not _pad_value_ok(subgraph, pad) or not same_quant(x, p) \
            or len(w.shape) != 4 or len(y.shape) != 4:
        return None
    if tuple(p.shape) != tuple(int(d) + int(a) + int(b) for d, (a, b) in zip(x.shape, pads)):
        return None
    opt = conv.options
    padding = str(opt.get("padding", "SAME")).upper()
    if padding not in ("SAME", "VALID"):
        return None
    strides = (int(opt.get("stride_h", 1)), int(opt.get("stride_w", 1)))
    dilations = (int(opt.get("dilation_h_factor", 1)), int(opt.get("dilation_w_factor", 1)))
    out = []
    for axis, (s, d) in enumerate(zip(strides, dilations), start=1):
        k, padded, n_out = int(w.shape[axis]), int(p.shape[axis]), int(y.shape[axis])
        if min(s, d, k) <= 0:
            return None
        extent = (k - 1) * d + 1
        expected, own, own_before = _geometry(padding, padded, extent, s)
        if n_out != expected:
            return None
        before = int(pads[axis][0]) + own_before
        after = int(pads[axis][1]) + own - own_before
        if before > extent - 1:
            return None
        out.append((before, after))
    return tuple(out)


def find_pad_fusions(subgraph) -> list:
    """[(pad op index, conv op index)] for every PAD the `fused_pad` rule can fold."""
    readers = {}
    for op in subgraph.operators:
        for t in set(op.inputs):
            if t >= 0:
                readers.setdefault(t, []).append(op.index)
    outputs = set(subgraph.outputs)
    fusions = []
    for pad in subgraph.operators:
        if pad.opcode not in ("PAD", "PADV2") or len(pad.outputs) != 1:
            continue
        t = pad.outputs[0]
        users = readers.get(t, [])
        if t in outputs or len(users) != 1 or pad.inputs[0] < 0:
            continue
        conv = subgraph.operators[users[0]]
        if explicit_padding(subgraph, pad, conv) is not None:
            fusions.append((pad.index, conv.index))
    return fusions
