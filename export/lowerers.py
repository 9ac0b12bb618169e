"""One lowering function per ONNX op type rnnedge's models emit (LOWERERS): each reads an
ONNX node through the lowering context (lowering.py's LoweringContext: names, static shapes,
constants, fused activations) and emits TFLite builtins into the graph (graph_ir.py).

May import: numpy, onnx, rnnedge.errors, rnnedge.op_table, rnnedge.export.graph_ir,
rnnedge.export.lowerers_* (the per-family lowerer modules, whose tables LOWERERS merges),
rnnedge.export.phase_split (DepthToSpace).
"""

import numpy as np
import onnx

from rnnedge.errors import RnnedgeError
from rnnedge.export.graph_ir import NCHW_TO_NHWC_AXIS, Tensor
from rnnedge.export.lowerers_math import MATH_LOWERERS
from rnnedge.export.lowerers_nn import NN_LOWERERS, grouped_conv, pool, resize
from rnnedge.export.lowerers_shape import SHAPE_LOWERERS, transpose_within_rank
from rnnedge.export.lowerers_recurrent import lower_recurrent
from rnnedge.export.phase_split import lower_depth_to_space
from rnnedge.op_table import info

MAX_CONCAT_INPUTS = info("CONCATENATION").max_inputs


def onnx_attrs(node):
    """The node's attributes as a plain dict (strings decoded)."""
    out = {}
    for a in node.attribute:
        value = onnx.helper.get_attribute_value(a)
        out[a.name] = value.decode() if isinstance(value, bytes) else value
    return out


def clip_bounds(low, node):
    """(min, max) of a Clip node from its attributes or constant inputs."""
    a = onnx_attrs(node)
    lo, hi = a.get("min"), a.get("max")
    if len(node.input) > 1 and node.input[1]:
        lo = float(low.constant(node.input[1]))
    if len(node.input) > 2 and node.input[2]:
        hi = float(low.constant(node.input[2]))
    return lo, hi


def _same_padding(size, k, s, d, pad_begin, pad_end):
    """True when TFLite SAME padding reproduces ONNX's explicit pads on this axis."""
    keff = d * (k - 1) + 1
    out = (size + pad_begin + pad_end - keff) // s + 1
    out_same = -(-size // s)
    total = max((out_same - 1) * s + keff - size, 0)
    return out == out_same and pad_begin == total // 2


def _conv(low, node, a):
    """Conv (+ folded BatchNorm, fused ReLU) -> [PAD] CONV_2D / DEPTHWISE_CONV_2D."""
    x = low.name(node.input[0])
    w = low.constant(node.input[1]).astype(np.float32)          # (Cout, Cin/g, kh, kw)
    bias = (low.constant(node.input[2]).astype(np.float32)
            if len(node.input) > 2 and node.input[2] else None)
    out = node.output[0]
    bn = low.single_consumer(out, ("BatchNormalization",))
    if bn is not None:                                          # fold BatchNorm
        scale, beta, mean, var = (low.constant(n).astype(np.float64) for n in bn.input[1:5])
        mul = scale / np.sqrt(var + onnx_attrs(bn).get("epsilon", 1e-5))
        w = (w * mul[:, None, None, None]).astype(np.float32)
        bias = ((bias if bias is not None else 0.0) - mean) * mul + beta
        bias = bias.astype(np.float32)
        low.skip.add(bn.output[0])
        out = bn.output[0]
    act, out = low.fused_activation(out)
    if a.get("auto_pad", "NOTSET") != "NOTSET":
        raise RnnedgeError(f"Conv {node.name}: auto_pad is not supported; export with explicit pads")
    group = a.get("group", 1)
    kh, kw = w.shape[2], w.shape[3]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    _, h, wd, cin = low.tensors[x].shape
    if not any((pt, pl, pb, pr)):
        padding = "VALID"
    elif _same_padding(h, kh, sh, dh, pt, pb) and _same_padding(wd, kw, sw, dw, pl, pr):
        padding = "SAME"
    else:
        padded = low.act(f"{out}/pad", (1, cin, h + pt + pb, wd + pl + pr))
        low.emit("PAD", [x, low.int32(f"{out}/paddings", [[0, 0], [pt, pb], [pl, pr], [0, 0]])],
                 [padded], node.name)
        x, padding = padded, "VALID"
    key = node.input[1] if bn is None else f"{node.input[1]}/bn_folded"
    low.act(out, low.shape(node.output[0]))
    opts = dict(padding=padding, stride_h=sh, stride_w=sw, dilation_h=dh, dilation_w=dw,
                activation=act)
    if group == 1:
        wt = low.const(key, np.ascontiguousarray(np.transpose(w, (0, 2, 3, 1))), "weight", 0)
        kind = "CONV_2D"
    elif group == cin and w.shape[1] == 1:
        wt = low.const(key, np.ascontiguousarray(np.transpose(w, (1, 2, 3, 0))), "weight", 3)
        kind, opts["depth_multiplier"] = "DEPTHWISE_CONV_2D", w.shape[0] // group
    else:
        grouped_conv(low, x, w, bias, out, node.name, opts)
        return
    if bias is None:  # TFLite's int8 conv kernels require a bias: zeros, one per weight
        bkey, bias = f"{key}/zero_bias", np.zeros(w.shape[0], np.float32)
    else:
        bkey = node.input[2] if (bn is None and len(node.input) > 2) else f"{key}/bias"
    low.emit(kind, [x, wt, low.const(bkey, bias, "bias", 0)], [out], node.name, **opts)


def _gemm(low, node, a):
    """Gemm -> FULLY_CONNECTED (reading a flattened map directly)."""
    x = node.input[0]
    if a.get("transA", 0):
        raise RnnedgeError(f"Gemm {node.name}: transA is not supported")
    w = low.constant(node.input[1]).astype(np.float32) * a.get("alpha", 1.0)
    if not a.get("transB", 0):
        w = w.T
    held = low.name(x)
    if held in low.flat_chw:
        c, h, wd = low.flat_chw[held]
        w = w.reshape(-1, c, h, wd).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
        held = low.flat_source[held]
    act, out = low.fused_activation(node.output[0])
    wt = low.const(node.input[1], np.ascontiguousarray(w), "weight", 0)
    inputs = [held, wt]
    if len(node.input) > 2 and node.input[2]:
        b = low.constant(node.input[2]).astype(np.float32).reshape(-1) * a.get("beta", 1.0)
        inputs.append(low.const(node.input[2], b, "bias", None))
    low.act(out, low.shape(node.output[0]))
    low.emit("FULLY_CONNECTED", inputs, [out], node.name, activation=act)


def _elementwise(kind):
    """A lowering for an elementwise op of the given TFLite kind."""
    def lower(low, node, a):
        """ADD/SUB (with a fused ReLU when possible), TANH or LOGISTIC."""
        rank = max(low.rank(n) for n in node.input)
        ins = [low.operand(n, rank) for n in node.input]
        if kind in ("ADD", "SUB", "MUL"):
            act, out = low.fused_activation(node.output[0])
            low.act(out, low.shape(node.output[0]))
            low.emit(kind, ins, [out], node.name, activation=act)
        else:
            low.act(node.output[0], low.shape(node.output[0]))
            low.emit(kind, ins, [node.output[0]], node.name)
    return lower


def _relu(low, node, a):
    """A ReLU that could not be fused -> RELU."""
    low.act(node.output[0], low.shape(node.output[0]))
    low.emit("RELU", [low.name(node.input[0])], [node.output[0]], node.name)


def _axis(low, onnx_name, axis):
    """An ONNX axis of a tensor mapped to the held layout."""
    rank = low.rank(onnx_name)
    axis %= rank
    return NCHW_TO_NHWC_AXIS[axis] if rank == 4 else axis


def _split(low, node, a):
    """Split -> SPLIT (equal parts) or SPLIT_V."""
    x = node.input[0]
    axis = _axis(low, x, a.get("axis", 0))
    for out in node.output:
        low.act(out, low.shape(out))
    sizes = [low.tensors[o].shape[axis] for o in node.output]
    if len(set(sizes)) == 1:
        low.emit("SPLIT", [low.int32(f"{node.output[0]}/axis", axis), low.name(x)],
                 node.output, node.name, num_splits=len(sizes))
    else:
        low.emit("SPLIT_V", [low.name(x), low.int32(f"{node.output[0]}/sizes", sizes),
                             low.int32(f"{node.output[0]}/axis", axis)],
                 node.output, node.name, num_splits=len(sizes))


def _concat(low, node, a):
    """Concat -> CONCATENATION, as a tree when it has more than 10 inputs."""
    rank = max(low.rank(n) for n in node.input)
    axis = _axis(low, node.output[0], a["axis"])
    parts = [low.operand(n, rank) for n in node.input]
    level = 0
    while len(parts) > MAX_CONCAT_INPUTS:                       # build a tree of <= 10 inputs
        merged = []
        for i in range(0, len(parts), MAX_CONCAT_INPUTS):
            chunk = parts[i:i + MAX_CONCAT_INPUTS]
            if len(chunk) == 1:
                merged.append(chunk[0])
                continue
            shape = list(low.tensors[chunk[0]].shape)
            shape[axis] = sum(low.tensors[c].shape[axis] for c in chunk)
            name = f"{node.output[0]}/tree{level}_{i // MAX_CONCAT_INPUTS}"
            low.tensors[name] = Tensor(name, tuple(shape))
            low.emit("CONCATENATION", chunk, [name], node.name, axis=axis, activation="NONE")
            merged.append(name)
        parts, level = merged, level + 1
    low.act(node.output[0], low.shape(node.output[0]))
    low.emit("CONCATENATION", parts, [node.output[0]], node.name, axis=axis, activation="NONE")


def _transpose(low, node, a):
    """Transpose -> TRANSPOSE with the permutation taken to the held layout (for a 4-D map the
    H<->W swap (0, 1, 3, 2) becomes NHWC (0, 2, 1, 3))."""
    x = node.input[0]
    rank = low.rank(x)
    perm = [int(p) % rank for p in a.get("perm", range(rank - 1, -1, -1))]
    if rank == 4:
        nchw_of_nhwc = (0, 2, 3, 1)
        perm = [NCHW_TO_NHWC_AXIS[perm[axis]] for axis in nchw_of_nhwc]
    low.act(node.output[0], low.shape(node.output[0]))
    transpose_within_rank(low, low.name(x), perm, node.output[0], node.name)


def _slice_bounds(start, end, step, dim):
    """ONNX Slice's clamped (begin, end) on an axis of size `dim`; end None means past index 0
    (a negative step to the start: TFLite's end mask)."""
    start = start + dim if start < 0 else start
    end = end + dim if end < 0 else end
    if step > 0:
        return max(0, min(dim, start)), max(0, min(dim, end))
    begin, end = max(0, min(dim - 1, start)), max(-1, min(dim - 1, end))
    return begin, None if end < 0 else end


def _slice(low, node, a):
    """Slice (any steps, negative ones too) -> STRIDED_SLICE."""
    x = node.input[0]
    starts, ends = low.constant(node.input[1]), low.constant(node.input[2])
    axes = (low.constant(node.input[3]) if len(node.input) > 3 and node.input[3]
            else range(len(starts)))
    steps = (low.constant(node.input[4]) if len(node.input) > 4 and node.input[4]
             else [1] * len(starts))
    shape = low.tensors[low.name(x)].shape
    begin, end, strides, end_mask = [0] * len(shape), list(shape), [1] * len(shape), 0
    for s, e, ax, st in zip(starts, ends, axes, steps):
        if int(st) == 0:
            raise RnnedgeError(f"Slice {node.name}: step 0 is not a slice")
        ax = _axis(low, x, int(ax))
        begin[ax], stop = _slice_bounds(int(s), int(e), int(st), shape[ax])
        strides[ax] = int(st)
        if stop is None:
            end[ax], end_mask = 0, end_mask | (1 << ax)
        else:
            end[ax] = stop
    out = low.act(node.output[0], low.shape(node.output[0]))
    low.emit("STRIDED_SLICE", [low.name(x), low.int32(f"{out}/begin", begin),
                               low.int32(f"{out}/end", end),
                               low.int32(f"{out}/strides", strides)],
             [out], node.name, end_mask=end_mask)


def _pool(kind):
    """A lowering for AveragePool / MaxPool / GlobalAveragePool."""
    def lower(low, node, a):
        """The pool as AVERAGE_POOL_2D / MAX_POOL_2D (global: the whole map as the window)."""
        x = low.name(node.input[0])
        if node.op_type == "GlobalAveragePool":
            _, h, w, _ = low.tensors[x].shape
            k, s = [h, w], [h, w]
        else:
            k = list(a["kernel_shape"])
            s = list(a.get("strides", k))
            if any(a.get("pads", [0, 0, 0, 0])) or a.get("ceil_mode", 0) or \
                    any(d != 1 for d in a.get("dilations", [1, 1])):
                pool(low, node, a, kind)
                return
        out = low.act(node.output[0], low.shape(node.output[0]))
        low.emit(kind, [x], [out], node.name, padding="VALID", stride_h=s[0], stride_w=s[1],
                 filter_h=k[0], filter_w=k[1], activation="NONE")
    return lower


def _pad(low, node, a):
    """Pad -> PAD (zeros), PADV2 (another constant) or MIRROR_PAD (reflect)."""
    x = node.input[0]
    pads = ([int(p) for p in low.constant(node.input[1])] if len(node.input) > 1
            else list(a["pads"]))
    if len(node.input) > 3 and node.input[3]:
        raise RnnedgeError(f"Pad {node.name}: padding only some axes is not supported; pad "
                           "every axis")
    mode = a.get("mode", "constant")
    value = (float(np.asarray(low.constant(node.input[2])).reshape(-1)[0])
             if len(node.input) > 2 and node.input[2] else 0.0)
    if mode not in ("constant", "reflect"):
        raise RnnedgeError(f"Pad {node.name}: {mode} padding has no TFLM form; use constant "
                           "or reflect")
    if any(p < 0 for p in pads):
        raise RnnedgeError(f"Pad {node.name}: negative pads (crops) are not supported; use Slice")
    r = len(pads) // 2
    pairs = [[pads[i], pads[i + r]] for i in range(r)]
    if r == 4:
        pairs = [pairs[0], pairs[2], pairs[3], pairs[1]]
    out = low.act(node.output[0], low.shape(node.output[0]))
    paddings = low.int32(f"{out}/paddings", pairs)
    if mode == "reflect":
        low.emit("MIRROR_PAD", [low.name(x), paddings], [out], node.name, mode="REFLECT")
    elif value != 0.0:
        low.consts[f"{out}/pad_value"] = np.float32(value)
        low.emit("PADV2", [low.name(x), paddings, low.operand(f"{out}/pad_value", 0)], [out],
                 node.name)
    else:
        low.emit("PAD", [low.name(x), paddings], [out], node.name)


def _batchnorm(low, node, a):
    """A BatchNorm not preceded by a Conv: a 1x1 depthwise conv with the per-channel scale as
    weight and the shift as bias (one op, quantised per channel)."""
    scale, beta, mean, var = (low.constant(n).astype(np.float64) for n in node.input[1:5])
    mul = scale / np.sqrt(var + a.get("epsilon", 1e-5))
    add = beta - mean * mul
    x = low.name(node.input[0])
    if len(low.tensors[x].shape) != 4:
        raise RnnedgeError(f"BatchNormalization {node.name}: only 4-D inputs are supported")
    c = low.tensors[x].shape[-1]
    wt = low.const(f"{node.input[1]}/bn_dw", mul.astype(np.float32).reshape(1, 1, 1, c), "weight", 3)
    bt = low.const(f"{node.input[1]}/bn_dw_bias", add.astype(np.float32), "bias", 0)
    act, out = low.fused_activation(node.output[0])
    low.act(out, low.shape(node.output[0]))
    low.emit("DEPTHWISE_CONV_2D", [x, wt, bt], [out], node.name, padding="VALID", stride_h=1,
             stride_w=1, dilation_h=1, dilation_w=1, activation=act, depth_multiplier=1)


def _identity(low, node, a):
    """Identity of an activation: an alias, no op."""
    low.alias[node.output[0]] = low.name(node.input[0])


# The supported-op table: ONNX op type -> lowering function(lowerer, node, attrs).


LOWERERS = {
    "Conv": _conv,
    "Gemm": _gemm,
    "BatchNormalization": _batchnorm,
    "Add": _elementwise("ADD"),
    "Sub": _elementwise("SUB"),
    "Tanh": _elementwise("TANH"),
    "Sigmoid": _elementwise("LOGISTIC"),
    "Relu": _relu,
    "Split": _split,
    "Concat": _concat,
    "Slice": _slice,
    "Transpose": _transpose,
    "AveragePool": _pool("AVERAGE_POOL_2D"),
    "MaxPool": _pool("MAX_POOL_2D"),
    "GlobalAveragePool": _pool("AVERAGE_POOL_2D"),
    "Pad": _pad,
    "Identity": _identity,
    "Constant": None,
    **SHAPE_LOWERERS,
    "RNN": lower_recurrent,
    "GRU": lower_recurrent,
    "LSTM": lower_recurrent,
    "Resize": resize,
    **NN_LOWERERS,
    **MATH_LOWERERS,
    "DepthToSpace": lower_depth_to_space,
}
