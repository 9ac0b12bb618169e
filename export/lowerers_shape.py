"""Lowerings of ONNX's shape ops: Reshape, Flatten, Squeeze, Unsqueeze, Gather with a constant
index, and Cast / Dropout of an activation (Shape, Size and all-constant nodes are folded by
the lowering context before any of these run).

The layout rule (lowering.py): a rank-4 ONNX tensor (N, C, H, W) is held as (N, H, W, C), other
ranks as they are. A reshape keeps ONNX's row-major (NCHW) element order, so `relayout` brings a
held 4-D input to NCHW order with a TRANSPOSE, RESHAPEs, and takes a 4-D result back to NHWC
with another, each TRANSPOSE left out when it moves no byte (the axes it moves are of size 1,
e.g. a 1x1 map or a single channel). All ops emitted here are same-scale (op table), so they
never requantise.

A Flatten or Reshape of a map to (N, C*H*W) read only by Gemm emits nothing: FULLY_CONNECTED
flattens its input itself and the Gemm lowering permutes its weight rows to NHWC order.

May import: numpy, rnnedge.errors, rnnedge.export.graph_ir.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.export.graph_ir import NCHW_TO_NHWC_AXIS, Tensor, nhwc

TO_NCHW = (0, 3, 1, 2)   # held (N, H, W, C) -> ONNX order
TO_NHWC = (0, 2, 3, 1)   # ONNX (N, C, H, W) -> held order


def moves_no_byte(shape, perm):
    """True when transposing `shape` by `perm` keeps the byte order (only unit axes move)."""
    kept = [p for p in perm if shape[p] != 1]
    return kept == sorted(kept)


def _transposed(low, x, perm, name, source):
    """TRANSPOSE held tensor x by perm into a new tensor `name`."""
    shape = low.tensors[x].shape
    low.tensors[name] = Tensor(name, tuple(shape[p] for p in perm))
    low.emit("TRANSPOSE", [x, low.int32(f"{name}/perm", list(perm))], [name], source)
    return name


MAX_TRANSPOSE_RANK = 5   # TFLM's transpose_common.cc: "only supports 1D-5D input arrays"


def compact_transpose(shape, perm):
    """(shape, perm) of the same byte permutation with unit axes dropped and axes that stay
    neighbours in `perm` merged (a 6-D patchify becomes 4-D)."""
    kept = [p for p in perm if shape[p] != 1]
    runs = []
    for p in kept:
        if runs and p == runs[-1][-1] + 1 + sum(1 for q in range(runs[-1][-1] + 1, p)
                                                 if shape[q] == 1):
            runs[-1].append(p)
        else:
            runs.append([p])
    order = sorted(range(len(runs)), key=lambda i: runs[i][0])   # runs in input order
    sizes = [int(np.prod([shape[p] for p in runs[i]])) for i in order]
    position = {run_index: k for k, run_index in enumerate(order)}
    return sizes, [position[i] for i in range(len(runs))]


def transpose_within_rank(low, x, perm, out, source):
    """TRANSPOSE held tensor x by perm into the declared tensor `out`; beyond TFLM's 5 dims as
    RESHAPE, a compacted TRANSPOSE, RESHAPE (one line when even that needs more)."""
    shape = low.tensors[x].shape
    if len(perm) <= MAX_TRANSPOSE_RANK:
        low.emit("TRANSPOSE", [x, low.int32(f"{out}/perm", list(perm))], [out], source)
        return
    sizes, small = compact_transpose(shape, perm)
    if len(small) > MAX_TRANSPOSE_RANK:
        raise RnnedgeError(f"Transpose {source}: a {len(perm)}-D permutation that stays "
                           f"{len(small)}-D after merging axes; TFLM's TRANSPOSE takes at most "
                           f"{MAX_TRANSPOSE_RANK} dims (reshape to fewer axes first)")
    flat = _reshaped(low, x, sizes or [1], f"{out}/compact_in", source)
    moved = _transposed(low, flat, small or [0], f"{out}/compact_moved", source)
    out_shape = [int(d) for d in low.tensors[out].shape]
    low.emit("RESHAPE", [moved, low.int32(f"{out}/shape", out_shape)], [out], source,
             new_shape=out_shape)


def _reshaped(low, x, shape, name, source):
    """RESHAPE held tensor x to `shape` into tensor `name`."""
    shape = [int(d) for d in shape]
    low.tensors[name] = Tensor(name, tuple(shape))
    low.emit("RESHAPE", [x, low.int32(f"{name}/shape", shape)], [name], source, new_shape=shape)
    return name


def relayout(low, x, onnx_shape, out, source):
    """Write held tensor x into ONNX tensor `out` of ONNX shape `onnx_shape` with ONNX's element
    order (a reshape): [TRANSPOSE to NCHW] RESHAPE [TRANSPOSE to NHWC]."""
    onnx_shape = tuple(int(d) for d in onnx_shape)
    shape = low.tensors[x].shape
    if len(shape) == 4 and not moves_no_byte(shape, TO_NCHW):
        x = _transposed(low, x, TO_NCHW, f"{out}/nchw", source)
    if len(onnx_shape) == 4 and not moves_no_byte(onnx_shape, TO_NHWC):
        if low.tensors[x].shape != onnx_shape:
            x = _reshaped(low, x, onnx_shape, f"{out}/nchw_out", source)
        _transposed(low, x, TO_NHWC, out, source)
        return out
    target = nhwc(onnx_shape)
    if low.tensors[x].shape == target and out not in low.out_names:
        low.alias[out] = x
        return x
    return _reshaped(low, x, target, out, source)


def _absorbed_by_fully_connected(low, node):
    """Leave a flatten of a map to (N, C*H*W) to the FULLY_CONNECTED that reads it (Gemm only
    consumers, not a graph output); True when it did."""
    x, out = node.input[0], node.output[0]
    if low.rank(x) != 4 or low.name(x) not in low.tensors:
        return False
    n, c, h, w = low.shape(x)
    users = low.consumers.get(out, [])
    if (low.shape(out) != (n, c * h * w) or not users or out in low.out_names
            or not all(u.op_type == "Gemm" and u.input[0] == out for u in users)):
        return False
    low.alias[out] = out + "/flat"
    low.flat_chw[out + "/flat"] = (c, h, w)
    low.flat_source[out + "/flat"] = low.name(x)
    return True


def _reshape_like(low, node, a):
    """Reshape / Flatten / Squeeze / Unsqueeze: a relayout to the inferred output shape."""
    if node.op_type == "Flatten" and not -low.rank(node.input[0]) <= a.get("axis", 1) \
            <= low.rank(node.input[0]):
        raise RnnedgeError(f"Flatten {node.name}: axis {a['axis']} is out of range")
    if node.op_type in ("Flatten", "Reshape") and _absorbed_by_fully_connected(low, node):
        return
    relayout(low, low.name(node.input[0]), low.shape(node.output[0]), node.output[0], node.name)


def _held_axis(rank, axis):
    """An ONNX axis in the held layout of a tensor of `rank`."""
    axis %= rank
    return NCHW_TO_NHWC_AXIS[axis] if rank == 4 else axis


def _slice_axis(low, x, axis, begin, end, stride, name, source):
    """STRIDED_SLICE of held tensor x along held `axis`: begin:end:stride (end None: past the
    start of the axis, for a negative stride)."""
    shape = low.tensors[x].shape
    begins, ends, strides = [0] * len(shape), list(shape), [1] * len(shape)
    begins[axis], strides[axis] = begin, stride
    end_mask = 0
    if end is None:
        end_mask, ends[axis] = 1 << axis, 0
    else:
        ends[axis] = end
    count = len(range(begin, end if end is not None else -1, stride))
    out_shape = list(shape)
    out_shape[axis] = count
    low.tensors[name] = Tensor(name, tuple(out_shape))
    low.emit("STRIDED_SLICE", [x, low.int32(f"{name}/begin", begins),
                               low.int32(f"{name}/end", ends),
                               low.int32(f"{name}/strides", strides)],
             [name], source, begin_mask=0, end_mask=end_mask, shrink_axis_mask=0)
    return name


def _runs(indices):
    """Split indices into (start, stop, step) slices: the whole list when it is an arithmetic
    progression, else maximal runs of consecutive indices."""
    if len(indices) == 1:
        return [(indices[0], indices[0] + 1, 1)]
    step = indices[1] - indices[0]
    if step != 0 and all(b - a == step for a, b in zip(indices, indices[1:])):
        stop = indices[-1] + step
        return [(indices[0], stop if stop >= 0 else None, step)]
    runs, start = [], 0
    for i in range(1, len(indices) + 1):
        if i == len(indices) or indices[i] != indices[i - 1] + 1:
            runs.append((indices[start], indices[i - 1] + 1, 1))
            start = i
    return runs


def _gather(low, node, a):
    """Gather of an activation with a constant scalar or 1-D index: STRIDED_SLICE (the index
    an arithmetic progression), slices joined by CONCATENATION (any other list, up to
    10 runs) or GATHER; a scalar index then drops the axis with a relayout."""
    data, out = node.input[0], node.output[0]
    indices = np.asarray(low.constant(node.input[1])).astype(np.int64)
    rank = low.rank(data)
    if indices.ndim > 1:
        raise RnnedgeError(f"Gather {node.name}: only a scalar or 1-D constant index is "
                           f"supported (got shape {list(indices.shape)}); reshape the index")
    onnx_axis = a.get("axis", 0) % rank
    dim = low.shape(data)[onnx_axis]
    flat = [int(i) + dim if i < 0 else int(i) for i in indices.reshape(-1)]
    if not flat or any(not 0 <= i < dim for i in flat):
        raise RnnedgeError(f"Gather {node.name}: index {indices.tolist()} is outside the axis "
                           f"of size {dim}")
    x, axis = low.name(data), _held_axis(rank, onnx_axis)
    kept_shape = list(low.shape(data))
    kept_shape[onnx_axis] = len(flat)
    sliced = out if indices.ndim == 1 else f"{out}/slice"
    runs = _runs(flat)
    if len(runs) == 1:
        _slice_axis(low, x, axis, *runs[0], sliced, node.name)
    elif len(runs) <= 10:
        parts = [_slice_axis(low, x, axis, *r, f"{out}/run{i}", node.name)
                 for i, r in enumerate(runs)]
        low.act(sliced, kept_shape)
        low.emit("CONCATENATION", parts, [sliced], node.name, axis=axis, activation="NONE")
    else:
        low.act(sliced, kept_shape)
        low.emit("GATHER", [x, low.int32(f"{sliced}/indices", flat)], [sliced], node.name,
                 axis=axis, batch_dims=0)
    if indices.ndim == 0:
        relayout(low, sliced, low.shape(out), out, node.name)


def _cast(low, node, a):
    """Cast of a float activation to float: nothing to do (an alias). Casts of constants are
    folded; other casts of activations have no int8 meaning."""
    import onnx
    if a.get("to") not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16,
                           onnx.TensorProto.DOUBLE):
        raise RnnedgeError(f"Cast {node.name}: a cast of an activation to "
                           f"{onnx.TensorProto.DataType.Name(a.get('to'))} has no int8 form; "
                           "compute integer data from constants only")
    low.alias[node.output[0]] = low.name(node.input[0])


def _dropout(low, node, a):
    """Dropout (inference: the identity): an alias; its mask output must be unused."""
    if len(node.output) > 1 and node.output[1] and low.consumers.get(node.output[1]):
        raise RnnedgeError(f"Dropout {node.name}: its mask output is used; export in eval mode")
    low.alias[node.output[0]] = low.name(node.input[0])


SHAPE_LOWERERS = {
    "Reshape": _reshape_like,
    "Flatten": _reshape_like,
    "Squeeze": _reshape_like,
    "Unsqueeze": _reshape_like,
    "Gather": _gather,
    "Cast": _cast,
    "Dropout": _dropout,
}
