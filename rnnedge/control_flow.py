"""Control flow of a TFLite model (WHILE, IF, CALL_ONCE): which subgraphs an operator runs,
a WHILE loop's static trip count, and the MACs of a control-flow operator counted inside the
subgraphs it runs (rnnedge.op_table's MAC_CONVENTION).

Why: a model exported with WHILE loops (a Keras 3 LSTM, the paper authors' SyNet WS-BiRNN)
has its weights and its arithmetic inside loop bodies; a report of subgraph 0 alone misses
them. A trip count is static when the loop condition is a comparison (or a LOGICAL_AND of
comparisons) of loop variables with constants, every compared variable starts from a
constant and the body adds a constant to it: the tf.while_loop counters the converter
writes. Otherwise the count is unknown (None) and so are the loop's total MACs; the MACs of
one iteration are still given.

Works on rnnedge.tflite Model objects; imports numpy, rnnedge.op_table and
rnnedge.planner.subgraphs (the one reading of the subgraph indices).
"""

import math

import numpy as np

from rnnedge.op_table import op_macs
from rnnedge.planner.subgraphs import called_subgraphs

_COMPARE = ("LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "NOT_EQUAL")


def _scalar(tensor):
    """The int value of a constant one-element integer tensor, or None."""
    if tensor.data is None or tensor.num_elements != 1 or tensor.dtype is None:
        return None
    if not np.issubdtype(tensor.dtype, np.integer):
        return None
    return int(np.asarray(tensor.data).reshape(-1)[0])


def _producers(sg) -> dict:
    return {t: op for op in sg.operators for t in op.outputs}


def _bounds(cond, tensor, made):
    """[(loop variable k, comparison, limit, variable on the left)] that all must hold, or
    None when the condition is not of the static kind."""
    op = made.get(tensor)
    if op is None:
        return None
    if op.opcode == "LOGICAL_AND" and len(op.inputs) == 2:
        left, right = (_bounds(cond, t, made) for t in op.inputs)
        return None if left is None or right is None else left + right
    if op.opcode not in _COMPARE or len(op.inputs) != 2:
        return None
    a, b = op.inputs
    if a in cond.inputs and _scalar(cond.tensors[b]) is not None:
        return [(cond.inputs.index(a), op.opcode, _scalar(cond.tensors[b]), True)]
    if b in cond.inputs and _scalar(cond.tensors[a]) is not None:
        return [(cond.inputs.index(b), op.opcode, _scalar(cond.tensors[a]), False)]
    return None


def _step(body, k):
    """The constant the body adds to loop variable k each iteration, or None."""
    if k >= len(body.outputs) or k >= len(body.inputs):
        return None
    op = _producers(body).get(body.outputs[k])
    if op is None or op.opcode not in ("ADD", "SUB") or len(op.inputs) != 2:
        return None
    a, b = op.inputs
    sign = -1 if op.opcode == "SUB" else 1
    if a == body.inputs[k] and _scalar(body.tensors[b]) is not None:
        return sign * _scalar(body.tensors[b])
    if op.opcode == "ADD" and b == body.inputs[k] and _scalar(body.tensors[a]) is not None:
        return _scalar(body.tensors[a])
    return None


def _iterations(start, step, comparison, limit, left):
    """Iterations while `x cmp limit` (x on the left, else `limit cmp x`) holds for
    x = start, start + step, ...; None when it would never stop."""
    if not left:
        comparison = {"LESS": "GREATER", "GREATER": "LESS", "LESS_EQUAL": "GREATER_EQUAL",
                      "GREATER_EQUAL": "LESS_EQUAL", "NOT_EQUAL": "NOT_EQUAL"}[comparison]
    holds = {"LESS": start < limit, "LESS_EQUAL": start <= limit, "GREATER": start > limit,
             "GREATER_EQUAL": start >= limit, "NOT_EQUAL": start != limit}[comparison]
    if not holds:
        return 0
    if comparison == "NOT_EQUAL":
        if step == 0 or (limit - start) % step or (limit - start) // step < 0:
            return None
        return (limit - start) // step
    if step == 0 or (step > 0) != (comparison in ("LESS", "LESS_EQUAL")):
        return None
    gap = abs(limit - start) + (1 if comparison in ("LESS_EQUAL", "GREATER_EQUAL") else 0)
    return math.ceil(gap / abs(step))


def trip_count(model, sg, op):
    """Static number of iterations of WHILE operator `op` of subgraph `sg`, or None."""
    cond_index, body_index = called_subgraphs(model, op)
    cond, body = model.subgraphs[cond_index], model.subgraphs[body_index]
    if len(cond.outputs) != 1:
        return None
    bounds = _bounds(cond, cond.outputs[0], _producers(cond))
    if not bounds:
        return None
    counts = []
    for k, comparison, limit, left in bounds:
        start = _scalar(sg.tensors[op.inputs[k]]) if k < len(op.inputs) else None
        step = _step(body, k)
        if start is None or step is None:
            return None
        n = _iterations(start, step, comparison, limit, left)
        if n is None:
            return None
        counts.append(n)
    return min(counts)


def subgraph_macs(model, index: int, _memo=None, _active=()):
    """MACs of one run of subgraph `index` (control flow counted inside), or None when some
    op's MACs are unknown (or the subgraph calls itself)."""
    memo = {} if _memo is None else _memo
    if index in memo:
        return memo[index]
    if index in _active:
        return None
    sg = model.subgraphs[index]
    total = 0
    for op in sg.operators:
        macs = operator_macs(model, sg, op, memo, _active + (index,))["macs"]
        if macs is None:
            total = None
            break
        total += macs
    memo[index] = total
    return total


def operator_macs(model, sg, op, _memo=None, _active=()) -> dict:
    """{"macs": int or None, and for control flow "macs_per_iteration" / "trip_count"
    (WHILE), "macs_per_branch" (IF)} of operator `op` of subgraph `sg`."""
    if op.opcode not in ("WHILE", "IF", "CALL_ONCE"):
        return {"macs": op_macs(op, sg.tensors)}
    memo = {} if _memo is None else _memo
    inner = [subgraph_macs(model, i, memo, _active) for i in called_subgraphs(model, op)]
    if op.opcode == "CALL_ONCE":
        return {"macs": inner[0]}
    if op.opcode == "IF":
        return {"macs": inner[0] if inner[0] == inner[1] else None, "macs_per_branch": inner}
    per = None if None in inner else sum(inner)
    trips = trip_count(model, sg, op)
    # the condition runs once more than the body
    total = None if per is None or trips is None else trips * per + inner[0]
    return {"macs": total, "macs_per_iteration": per, "trip_count": trips}
