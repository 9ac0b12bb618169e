"""Lowerings of ONNX's weighted, pooling, reduction, softmax and resize ops beyond the zoo's
forms: grouped Conv (SPLIT + CONV_2D per group + CONCATENATION), Conv1d (as a 1xT CONV_2D),
ConvTranspose -> TRANSPOSE_CONV, MatMul -> FULLY_CONNECTED (constant right operand) or
BATCH_MATMUL (two activations), padded / ceil-mode pools, GlobalMaxPool, ReduceMean / ReduceMax
/ ReduceMin / ReduceSum -> MEAN / REDUCE_MAX / REDUCE_MIN / SUM, Softmax / LogSoftmax on any
axis, Resize (nearest and bilinear, each ONNX coordinate mode TFLite implements).

TFLite's conventions followed here (TFLM's reference kernels, int8):
- TRANSPOSE_CONV inputs are (output_shape, weights (Cout, kh, kw, Cin), input, bias); its
  padding is SAME or VALID of the conv it is the adjoint of; ONNX pads and output_padding
  that neither reproduces are taken as a VALID op followed by a STRIDED_SLICE crop.
- MAX_POOL_2D / AVERAGE_POOL_2D with SAME padding leave padded cells out of the window;
  ONNX pads that are not SAME become PADV2 with the lowest int8 value (max pool) or PAD with
  zeros (average pool with count_include_pad=1).
- SOFTMAX / LOG_SOFTMAX work on the innermost axis; another axis is moved there and back with
  TRANSPOSE.
- RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR: align_corners and half_pixel_centers options.

May import: numpy, rnnedge.errors, rnnedge.op_table, rnnedge.export.{graph_ir, lowerers_shape}.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.export.graph_ir import NCHW_TO_NHWC_AXIS, Tensor
from rnnedge.export.lowerers_shape import relayout
from rnnedge.op_table import info

MAX_CONCAT_INPUTS = info("CONCATENATION").max_inputs


def held_axis(rank, axis):
    """An ONNX axis of a tensor of `rank` in the held layout."""
    axis %= rank
    return NCHW_TO_NHWC_AXIS[axis] if rank == 4 else axis


def concat_parts(low, parts, axis, out, source):
    """CONCATENATION of held tensors into `out` (declared by the caller), as a tree of at most
    MAX_CONCAT_INPUTS inputs per op."""
    level = 0
    while len(parts) > MAX_CONCAT_INPUTS:
        merged = []
        for i in range(0, len(parts), MAX_CONCAT_INPUTS):
            chunk = parts[i:i + MAX_CONCAT_INPUTS]
            if len(chunk) == 1:
                merged.append(chunk[0])
                continue
            shape = list(low.tensors[chunk[0]].shape)
            shape[axis] = sum(low.tensors[c].shape[axis] for c in chunk)
            name = f"{out}/tree{level}_{i // MAX_CONCAT_INPUTS}"
            low.tensors[name] = Tensor(name, tuple(shape))
            low.emit("CONCATENATION", chunk, [name], source, axis=axis, activation="NONE")
            merged.append(name)
        parts, level = merged, level + 1
    low.emit("CONCATENATION", parts, [out], source, axis=axis, activation="NONE")


def grouped_conv(low, x, w, bias, out, source, opts):
    """A grouped convolution (1 < groups < channels): SPLIT the channels, one CONV_2D per
    group (its own slice of the weights and bias), CONCATENATION of the results."""
    cin = low.tensors[x].shape[-1]
    groups = cin // w.shape[1]
    per = w.shape[0] // groups
    out_shape = low.tensors[out].shape
    parts = [f"{out}/group{g}_in" for g in range(groups)]
    for p in parts:
        low.tensors[p] = Tensor(p, low.tensors[x].shape[:3] + (w.shape[1],))
    low.emit("SPLIT", [low.int32(f"{out}/group_axis", 3), x], parts, source, num_splits=groups)
    results = []
    for g, p in enumerate(parts):
        wg = np.ascontiguousarray(np.transpose(w[g * per:(g + 1) * per], (0, 2, 3, 1)))
        bg = (bias[g * per:(g + 1) * per] if bias is not None
              else np.zeros(per, np.float32)).astype(np.float32)
        r = f"{out}/group{g}"
        low.tensors[r] = Tensor(r, out_shape[:3] + (per,))
        low.emit("CONV_2D", [p, low.const(f"{r}/weight", wg, "weight", 0),
                             low.const(f"{r}/bias", bg, "bias", 0)], [r], source, **opts)
        results.append(r)
    concat_parts(low, results, 3, out, source)


def _conv_transpose(low, node, a):
    """ConvTranspose (2-D, group 1, dilation 1) -> TRANSPOSE_CONV [+ STRIDED_SLICE crop]."""
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise RnnedgeError(f"ConvTranspose {node.name}: grouped or dilated transposed "
                           "convolution has no TFLM form; use group 1 and dilation 1")
    if low.rank(node.input[0]) != 4:
        raise RnnedgeError(f"ConvTranspose {node.name}: only 2-D transposed convolution is "
                           "supported; reshape a 1-D one to (N, C, 1, T)")
    if a.get("auto_pad", "NOTSET") != "NOTSET":
        raise RnnedgeError(f"ConvTranspose {node.name}: auto_pad is not supported; export with "
                           "explicit pads")
    x = low.name(node.input[0])
    w = low.constant(node.input[1]).astype(np.float32)          # (Cin, Cout, kh, kw)
    bias = (low.constant(node.input[2]).astype(np.float32)
            if len(node.input) > 2 and node.input[2] else np.zeros(w.shape[1], np.float32))
    _, h, wd, _ = low.tensors[x].shape
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    act, out = low.fused_activation(node.output[0])
    low.act(out, low.shape(node.output[0]))
    n, oh, ow, cout = low.tensors[out].shape

    def same(size, k, s, begin, o):
        total = max((size - 1) * s + k - o, 0)
        return -(-o // s) == size and begin == total // 2

    full_h, full_w = sh * (h - 1) + kh, sw * (wd - 1) + kw
    if same(h, kh, sh, pt, oh) and same(wd, kw, sw, pl, ow):
        padding, target, crop = "SAME", out, None
    else:
        if pt + oh > full_h or pl + ow > full_w:
            raise RnnedgeError(f"ConvTranspose {node.name}: output_padding beyond the kernel's "
                               "reach has no TFLM form")
        padding, crop = "VALID", (pt, pl)
        target = f"{out}/full" if (full_h, full_w) != (oh, ow) else out
        low.tensors[target] = Tensor(target, (n, full_h, full_w, cout))
    wt = low.const(node.input[1] + "/ohwi", np.ascontiguousarray(np.transpose(w, (1, 2, 3, 0))),
                   "weight", 0)
    shape = low.int32(f"{target}/output_shape", list(low.tensors[target].shape))
    low.emit("TRANSPOSE_CONV", [shape, wt, x, low.const(f"{node.input[1]}/bias", bias, "bias", 0)],
             [target], node.name, padding=padding, stride_h=sh, stride_w=sw, activation=act)
    if target != out:
        begin = [0, crop[0], crop[1], 0]
        end = [n, crop[0] + oh, crop[1] + ow, cout]
        low.emit("STRIDED_SLICE", [target, low.int32(f"{out}/begin", begin),
                                   low.int32(f"{out}/end", end),
                                   low.int32(f"{out}/strides", [1, 1, 1, 1])], [out], node.name)


def _onnx_order(low, onnx_name, role):
    """The held tensor of `onnx_name` with its elements in ONNX order (rank-4 maps transposed
    from NHWC), for ops that work on the last axes of the ONNX shape."""
    x, shape = low.name(onnx_name), low.shape(onnx_name)
    if len(shape) != 4:
        return x
    name = f"{onnx_name}/{role}_nchw"
    if name not in low.tensors:
        relayout(low, x, (int(np.prod(shape[:2])),) + tuple(shape[2:]), name, "")
    return name


def _matmul(low, node, a):
    """MatMul -> FULLY_CONNECTED (constant 2-D right operand, over the last axis) or
    BATCH_MATMUL (two activations, batch dims broadcast as TFLite allows)."""
    left, right, out = node.input[0], node.input[1], node.output[0]
    if left in low.consts:
        raise RnnedgeError(f"MatMul {node.name}: a constant left operand has no int8 TFLite "
                           "form; transpose the product so the constant is on the right")
    out_shape = low.shape(out)
    if right in low.consts and low.constant(right).ndim == 2:
        w = np.ascontiguousarray(low.constant(right).astype(np.float32).T)   # (out, in)
        x = _onnx_order(low, left, "matmul_in")
        act, out = low.fused_activation(out)
        fc_shape = out_shape if len(out_shape) != 4 else low.tensors[x].shape[:-1] + (w.shape[0],)
        target = out if len(out_shape) != 4 else f"{out}/fc"
        low.tensors[target] = Tensor(target, tuple(fc_shape))
        low.emit("FULLY_CONNECTED", [x, low.const(right, w, "weight", 0)], [target], node.name,
                 activation=act, keep_num_dims=len(fc_shape) > 2)
        if target != out:
            relayout(low, target, out_shape, out, node.name)
        return
    operands = []
    for side, name in (("lhs", left), ("rhs", right)):
        if name in low.consts:
            raise RnnedgeError(f"MatMul {node.name}: a constant operand of rank > 2 has no int8 "
                               "FULLY_CONNECTED form; reshape it to 2-D")
        operands.append(_onnx_order(low, name, side))
    target = out if len(out_shape) != 4 else f"{out}/bmm"
    low.tensors[target] = Tensor(target, (int(np.prod(out_shape[:2])),) + tuple(out_shape[2:])
                                 if len(out_shape) == 4 else tuple(out_shape))
    low.emit("BATCH_MATMUL", operands, [target], node.name, adj_x=False, adj_y=False)
    if target != out:
        relayout(low, target, out_shape, out, node.name)


def _pool_padding(size, k, s, begin, end, out):
    """SAME when TFLite's SAME padding gives ONNX's output size and begin pad; else None."""
    total = max((out - 1) * s + k - size, 0)
    return -(-size // s) == out and begin == total // 2 and begin + end >= total


def pool(low, node, a, kind):
    """MaxPool / AveragePool with any pads and ceil mode -> [PAD/PADV2] pool (2-D only)."""
    x = low.name(node.input[0])
    if low.rank(node.input[0]) != 4:
        raise RnnedgeError(f"{node.op_type} {node.name}: only 2-D pooling is supported; "
                           "reshape a 1-D input to (N, C, 1, T)")
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise RnnedgeError(f"{node.op_type} {node.name}: dilated pooling has no TFLM form")
    k = list(a["kernel_shape"])
    s = list(a.get("strides", [1, 1]))
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    out = low.act(node.output[0], low.shape(node.output[0]))
    n, h, w, c = low.tensors[x].shape
    _, oh, ow, _ = low.tensors[out].shape
    # the pads a VALID pool needs for this output size (ceil mode adds cells at the end)
    need_b, need_r = (oh - 1) * s[0] + k[0] - h - pt, (ow - 1) * s[1] + k[1] - w - pl
    include_pad = kind == "AVERAGE_POOL_2D" and a.get("count_include_pad", 0)
    if not any((pt, pl, need_b > 0, need_r > 0)):
        padding = "VALID"
    elif not include_pad and _pool_padding(h, k[0], s[0], pt, pb, oh) and \
            _pool_padding(w, k[1], s[1], pl, pr, ow):
        padding = "SAME"
    elif kind == "AVERAGE_POOL_2D" and not include_pad:
        raise RnnedgeError(f"AveragePool {node.name}: pads that exclude padded cells from the "
                           "average and are not TFLite's SAME padding have no TFLM form; use "
                           "count_include_pad=True or SAME-like pads")
    else:
        pads = [[0, 0], [pt, max(need_b, 0)], [pl, max(need_r, 0)], [0, 0]]
        padded = low.act(f"{out}/pad", (n, c, h + pt + max(need_b, 0), w + pl + max(need_r, 0)))
        if kind == "MAX_POOL_2D":       # pad with the lowest int8 value: never the maximum
            low.emit("PADV2", [x, low.int32(f"{out}/paddings", pads),
                               low.const(f"{out}/pad_value", np.zeros((), np.int8), "lowest")],
                     [padded], node.name)
        else:
            low.emit("PAD", [x, low.int32(f"{out}/paddings", pads)], [padded], node.name)
        x, padding = padded, "VALID"
    low.emit(kind, [x], [out], node.name, padding=padding, stride_h=s[0], stride_w=s[1],
             filter_h=k[0], filter_w=k[1], activation="NONE")


def _global_max_pool(low, node, a):
    """GlobalMaxPool -> MAX_POOL_2D over the whole map."""
    x = low.name(node.input[0])
    _, h, w, _ = low.tensors[x].shape
    out = low.act(node.output[0], low.shape(node.output[0]))
    low.emit("MAX_POOL_2D", [x], [out], node.name, padding="VALID", stride_h=h, stride_w=w,
             filter_h=h, filter_w=w, activation="NONE")


REDUCE_KINDS = {"ReduceMean": "MEAN", "ReduceMax": "REDUCE_MAX", "ReduceMin": "REDUCE_MIN",
                "ReduceSum": "SUM"}


def _reduce(low, node, a):
    """ReduceMean / ReduceMax / ReduceMin / ReduceSum over constant axes (an input, or the
    attribute of older opsets) -> MEAN / REDUCE_MAX / REDUCE_MIN / SUM (keep_dims, then a
    relayout when ONNX drops axes in another order). TFLM's int8 SUM follows the float sum;
    TFLite's reference one does not (export/verify_user.py)."""
    x, out = node.input[0], node.output[0]
    rank = low.rank(x)
    if len(node.input) > 1 and node.input[1]:
        axes = [int(v) for v in np.asarray(low.constant(node.input[1])).reshape(-1)]
    else:
        axes = list(a.get("axes", []))
    if not axes:
        if a.get("noop_with_empty_axes", 0):
            low.alias[out] = low.name(x)
            return
        axes = list(range(rank))
    held_axes = sorted({held_axis(rank, ax) for ax in axes})
    keep = bool(a.get("keepdims", 1))
    kept = [d for i, d in enumerate(low.tensors[low.name(x)].shape) if i not in held_axes]
    onnx_kept = [d for i, d in enumerate(low.shape(x)) if i % rank not in {v % rank for v in axes}]
    direct = keep or rank != 4 or kept == onnx_kept
    target = out if direct else f"{out}/kept"
    if direct:
        low.act(out, low.shape(out))
    else:
        shape = list(low.tensors[low.name(x)].shape)
        for ax in held_axes:
            shape[ax] = 1
        low.tensors[target] = Tensor(target, tuple(shape))
    low.emit(REDUCE_KINDS[node.op_type], [low.name(x), low.int32(f"{out}/axes", held_axes)],
             [target], node.name, keep_dims=keep or not direct)
    if not direct:
        relayout(low, target, low.shape(out), out, node.name)


def _softmax(low, node, a):
    """Softmax / LogSoftmax -> SOFTMAX (beta 1) / LOG_SOFTMAX over the held innermost axis,
    moving another axis there and back with TRANSPOSE."""
    kind = "SOFTMAX" if node.op_type == "Softmax" else "LOG_SOFTMAX"
    x, out = low.name(node.input[0]), node.output[0]
    rank = low.rank(node.input[0])
    axis = held_axis(rank, a.get("axis", -1))
    low.act(out, low.shape(out))
    opts = {"beta": 1.0} if kind == "SOFTMAX" else {}
    if axis == rank - 1:
        low.emit(kind, [x], [out], node.name, **opts)
        return
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    moved, result = f"{out}/moved", f"{out}/moved_{kind.lower()}"
    shape = low.tensors[x].shape
    for name in (moved, result):
        low.tensors[name] = Tensor(name, tuple(shape[p] for p in perm))
    low.emit("TRANSPOSE", [x, low.int32(f"{out}/perm", perm)], [moved], node.name)
    low.emit(kind, [moved], [result], node.name, **opts)
    low.emit("TRANSPOSE", [result, low.int32(f"{out}/perm", perm)], [out], node.name)


RESIZE_MODES = {"asymmetric": (False, False), "align_corners": (True, False),
                "half_pixel": (False, True), "pytorch_half_pixel": (False, True)}


def resize(low, node, a):
    """Resize (2-D, nearest or linear) -> RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR."""
    mode = a.get("mode", "nearest")
    ctm = a.get("coordinate_transformation_mode", "half_pixel")
    if mode not in ("nearest", "linear") or ctm not in RESIZE_MODES:
        raise RnnedgeError(f"Resize {node.name}: mode {mode} with coordinates {ctm} has no "
                           "TFLite form; use nearest or bilinear with align_corners, "
                           "half_pixel or asymmetric coordinates")
    if a.get("antialias", 0) or low.rank(node.input[0]) != 4:
        raise RnnedgeError(f"Resize {node.name}: only 2-D resizing without antialias is "
                           "supported")
    out = low.act(node.output[0], low.shape(node.output[0]))
    n, h, w, c = low.tensors[out].shape
    if low.shape(node.input[0])[:2] != (n, c):
        raise RnnedgeError(f"Resize {node.name}: resizing the batch or channel axis has no "
                           "TFLite form")
    align, half = RESIZE_MODES[ctm]
    if ctm == "pytorch_half_pixel" and 1 in (h, w):
        half = False   # pytorch_half_pixel maps a size-1 axis to coordinate 0
    if mode == "nearest":
        nearest = a.get("nearest_mode", "round_prefer_floor")
        if (ctm, nearest) not in (("asymmetric", "floor"), ("half_pixel", "round_prefer_ceil"),
                                  ("pytorch_half_pixel", "round_prefer_ceil"),
                                  ("align_corners", "round_prefer_ceil")):
            if not (h % low.shape(node.input[0])[2] == 0 and w % low.shape(node.input[0])[3] == 0):
                raise RnnedgeError(f"Resize {node.name}: nearest mode {nearest} with "
                                   f"coordinates {ctm} differs from TFLite's rounding; export "
                                   "with integer scale factors or asymmetric/floor")
        kind = "RESIZE_NEAREST_NEIGHBOR"
    else:
        kind = "RESIZE_BILINEAR"
    low.emit(kind, [low.name(node.input[0]), low.int32(f"{out}/size", [h, w])], [out], node.name,
             align_corners=align, half_pixel_centers=half)


NN_LOWERERS = {
    "ConvTranspose": _conv_transpose,
    "MatMul": _matmul,
    "GlobalMaxPool": _global_max_pool,
    "ReduceMean": _reduce,
    "ReduceMax": _reduce,
    "ReduceMin": _reduce,
    "ReduceSum": _reduce,
    "Softmax": _softmax,
    "LogSoftmax": _softmax,
}
