"""Compile-time folding of shape arithmetic (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE).

Why: converters emit small int32 sub-graphs that compute a RESHAPE's target shape from a
tensor's static shape (Keras `Flatten` does). Their values are known when the model is
compiled, so the firmware evaluates them once here instead of shipping int32 kernels; the
RESHAPE itself reads its shape from its output tensor. An operator is folded when it is one
of FOLDABLE, its inputs are constants or already folded, and its outputs are integer
tensors. Imports numpy, rnnedge.errors and rnnedge.kernels.params only.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params

FOLDABLE = ("SHAPE", "PACK", "STRIDED_SLICE", "CONCATENATION", "RESHAPE", "SQUEEZE",
            "EXPAND_DIMS")
_INTEGER = ("INT32", "INT64")


def _strided_slice(op, values, tensors):
    """STRIDED_SLICE of a constant, with TFLM's mask rules."""
    x = values[0]
    r = params.strided_slice(x.shape, values[1].reshape(-1), values[2].reshape(-1),
                        values[3].reshape(-1), op.options.get("begin_mask", 0),
                        op.options.get("end_mask", 0), op.options.get("shrink_axis_mask", 0),
                        bool(op.options.get("offset", False)))
    padded = x.reshape(r["input_dims"])
    index = np.ix_(*[b + s * np.arange(n) for b, s, n in
                     zip(r["begin"], r["stride"], r["output_dims"])])
    return padded[index].reshape(tensors[op.outputs[0]].shape)


def _evaluate(op, values, tensors, shape_of):
    """The output value of one foldable operator from its input values."""
    out = tensors[op.outputs[0]]
    if op.opcode == "SHAPE":
        return np.asarray(shape_of, dtype=out.dtype)
    if op.opcode == "PACK":
        return np.stack(values, axis=op.options.get("axis", 0)).astype(out.dtype)
    if op.opcode == "STRIDED_SLICE":
        return _strided_slice(op, values, tensors)
    if op.opcode == "CONCATENATION":
        return np.concatenate(values, axis=op.options.get("axis", 0)).astype(out.dtype)
    return values[0].reshape(out.shape).astype(out.dtype)


def fold(subgraph) -> tuple:
    """(values, folded): {tensor index: value} of every tensor a folded operator computes,
    and the set of folded operator indices."""
    tensors = subgraph.tensors
    values, folded = {}, set()
    for op in subgraph.operators:
        if op.opcode not in FOLDABLE or not op.outputs or len(op.outputs) != 1:
            continue
        if tensors[op.outputs[0]].type_name not in _INTEGER:
            continue
        if op.opcode == "SHAPE":
            if not op.inputs or op.inputs[0] < 0:
                continue
            args, shape_of = [], tensors[op.inputs[0]].shape
        else:
            ins = [t for t in op.inputs if t >= 0]
            if not all(t in values or tensors[t].data is not None for t in ins):
                continue
            args = [values[t] if t in values else np.asarray(tensors[t].data) for t in ins]
            shape_of = None
        try:
            values[op.outputs[0]] = _evaluate(op, args, tensors, shape_of)
        except (ValueError, IndexError, TypeError, RnnedgeError) as exc:
            raise RnnedgeError(f"op {op.index} {op.opcode}: cannot evaluate its constant "
                               f"operands ({exc})") from None
        folded.add(op.index)
    return values, folded
