"""Statistics of an int8 .tflite, read from the flatbuffer alone (works for any converter's
output, so the benchmark applies it to the standard route too).

- op counts by type, and the requirements the export promises: only builtins (no CUSTOM /
  Flex / control flow), int8 activations and weights, int32 only for biases and index
  operands (axis, sizes, paddings), CONCATENATION inputs <= 10;
- duplication factor = stored constant bytes (each buffer referenced by a constant tensor,
  counted once) / unique constant bytes (distinct buffer contents): 1.0 when no constant data
  is stored twice, e.g. a recurrent weight stored per time step gives ~T;
- ops per recurrent time step: a conv/FC weight tensor read by several ops where one read
  depends on another is a recurrent weight; the recurrence region is every op lying between its reads
  (descendant of one, ancestor of another) plus the ops feeding that region that do not also
  feed the first read (per-step input slicing). ops_per_step = (region ops - 1) / (longest
  chain of dependent reads - 1), i.e. ops per step with both directions of a pass included;
- graph MACs with seed 000's conventions (eq. 17): conv (k^2*Cin/g*Cout + Cout) per output
  position, FC Cin*Cout + Cout, one per output element of ADD/SUB/MUL, one per input element
  of AVERAGE_POOL_2D; `rnn_macs` sums them over ops whose tensors are named in a given scope.

May import: numpy, ai_edge_litert.schema_py_generated.
"""

from collections import Counter

import numpy as np
from ai_edge_litert import schema_py_generated as fb

CONTROL_FLOW = {"WHILE", "IF", "CALL_ONCE", "CUSTOM", "DELEGATE"}
INDEX_OPERAND_OPS = {"SPLIT", "SPLIT_V", "PAD", "STRIDED_SLICE", "RESHAPE",
                     "RESIZE_NEAREST_NEIGHBOR", "MEAN", "CONCATENATION", "GATHER", "TRANSPOSE"}
BIAS_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}
_OP_NAMES = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
_TYPE_NAMES = {v: k for k, v in vars(fb.TensorType).items() if not k.startswith("_")}


class _Model:
    """The parts of the flatbuffer the statistics need, as plain Python values."""

    def __init__(self, tflite_bytes):
        model = fb.ModelT.InitFromPackedBuf(bytearray(tflite_bytes), 0)
        self.sub = model.subgraphs[0]
        self.buffers = [b.data for b in model.buffers]
        self.kinds = []
        self.custom = []
        for op in self.sub.operators:
            code = model.operatorCodes[op.opcodeIndex]
            kind = _OP_NAMES.get(max(code.builtinCode, code.deprecatedBuiltinCode), "UNKNOWN")
            self.kinds.append(kind)
            self.custom.append(code.customCode.decode() if code.customCode else None)
        self.producer = {}
        for i, op in enumerate(self.sub.operators):
            for t in op.outputs:
                self.producer[t] = i

    def is_const(self, t):
        """True when tensor t has data in the file."""
        data = self.buffers[self.sub.tensors[t].buffer]
        return data is not None and len(data) > 0

    def tensor_name(self, t):
        """Tensor t's name as str."""
        name = self.sub.tensors[t].name
        return name.decode() if isinstance(name, bytes) else name


def _requirements(m):
    """Findings that break the export's promises (empty list when all hold)."""
    problems = []
    for kind, custom in zip(m.kinds, m.custom):
        if kind in CONTROL_FLOW or custom:
            problems.append(f"non-builtin or control-flow op {custom or kind}")
    roles = {}
    for kind, op in zip(m.kinds, m.sub.operators):
        for pos, t in enumerate(op.inputs):
            if t < 0:
                continue
            if kind in BIAS_OPS and pos == 2:
                roles[t] = "bias"
            elif kind in INDEX_OPERAND_OPS and m.is_const(t) and pos > 0 or (
                    kind == "SPLIT" and pos == 0):
                roles.setdefault(t, "index")
        if kind == "CONCATENATION" and len(op.inputs) > 10:
            problems.append(f"CONCATENATION with {len(op.inputs)} inputs (TFLM allows 10)")
    for t, tensor in enumerate(m.sub.tensors):
        type_name = _TYPE_NAMES.get(tensor.type, str(tensor.type))
        if type_name == "INT8":
            continue
        if type_name == "INT32" and roles.get(t) in ("bias", "index"):
            continue
        problems.append(f"tensor {m.tensor_name(t)} is {type_name}")
    return problems


def _duplication(m):
    """(stored constant bytes, unique constant bytes)."""
    stored = {}
    for t in range(len(m.sub.tensors)):
        if m.is_const(t):
            stored[m.sub.tensors[t].buffer] = bytes(m.buffers[m.sub.tensors[t].buffer])
    stored_bytes = sum(len(v) for v in stored.values())
    unique_bytes = sum(len(v) for v in set(stored.values()))
    return stored_bytes, unique_bytes


def _closure(start, edges):
    """Every node reachable from `start` along `edges` (start included)."""
    seen, stack = set(start), list(start)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _recurrence(m):
    """(region ops, recurrent steps) summed over the recurrent weights of the graph."""
    succ, pred = {}, {}
    for i, op in enumerate(m.sub.operators):
        for t in op.inputs:
            if t >= 0 and t in m.producer:
                succ.setdefault(m.producer[t], set()).add(i)
                pred.setdefault(i, set()).add(m.producer[t])
    readers = {}
    for i, op in enumerate(m.sub.operators):
        if m.kinds[i] in BIAS_OPS and len(op.inputs) > 1 and m.is_const(op.inputs[1]):
            readers.setdefault(op.inputs[1], []).append(i)
    region_total, steps_total, claimed = 0, 0, set()
    for t, uses in readers.items():
        if len(uses) < 2 or set(uses) <= claimed:
            continue
        use_set = set(uses)
        desc = _closure(use_set, succ)
        anc = _closure(use_set, pred)
        region = desc & anc
        if not region - use_set:
            continue                                  # reads do not depend on each other
        depth = {}
        for i in sorted(region):                      # ops are in execution order
            prev = [depth[p] for p in pred.get(i, ()) if p in depth]
            depth[i] = max(prev, default=0) + (1 if i in use_set else 0)
        chain = max(depth.values())
        first = {u for u in uses if not (pred.get(u, set()) & region)}
        feeds_first = _closure(first, pred)
        feeders = _closure(region, pred) - region - feeds_first
        region |= feeders
        claimed |= region
        region_total += len(region) - 1
        steps_total += chain - 1
    return region_total, steps_total


def _shape(m, t):
    """The shape of tensor t as a list."""
    return list(m.sub.tensors[t].shape)


def op_macs(m, i):
    """MACs of op i with the paper's conventions (see module docstring)."""
    kind, op = m.kinds[i], m.sub.operators[i]
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        out = _shape(m, op.outputs[0])
        w = _shape(m, op.inputs[1])
        per_out = w[1] * w[2] * (w[3] if kind == "CONV_2D" else 1) + 1
        return int(np.prod(out)) * per_out
    if kind == "FULLY_CONNECTED":
        w = _shape(m, op.inputs[1])
        rows = int(np.prod(_shape(m, op.inputs[0]))) // w[1]
        return rows * (w[0] * w[1] + w[0])
    if kind in ("ADD", "SUB", "MUL"):
        return int(np.prod(_shape(m, op.outputs[0])))
    if kind == "AVERAGE_POOL_2D":
        return int(np.prod(_shape(m, op.inputs[0])))
    return 0


def graph_stats(tflite_bytes, rnn_scopes=()):
    """Statistics of a .tflite (see module docstring) as a JSON-ready dict. `rnn_scopes`:
    substrings ("/module.name/") naming the recurrent layers' tensors, for `rnn_graph_macs`."""
    m = _Model(tflite_bytes)
    stored, unique = _duplication(m)
    region, steps = _recurrence(m)
    counts = Counter(m.kinds)
    macs = [op_macs(m, i) for i in range(len(m.kinds))]
    rnn_macs = 0
    for i, op in enumerate(m.sub.operators):
        names = [m.tensor_name(t) for t in op.outputs]
        if any(s in n for n in names for s in rnn_scopes):
            rnn_macs += macs[i]
    concat = [len(op.inputs) for k, op in zip(m.kinds, m.sub.operators) if k == "CONCATENATION"]
    return {
        "ops": len(m.kinds),
        "op_counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        "problems": _requirements(m),
        "max_concat_inputs": max(concat, default=0),
        "stored_constant_bytes": stored,
        "unique_constant_bytes": unique,
        "duplication_factor": stored / unique if unique else 1.0,
        "recurrent_step_intervals": steps,
        "ops_per_step": region / steps if steps else None,
        "graph_macs": int(sum(macs)),
        "rnn_graph_macs": int(rnn_macs),
        "size_bytes": len(tflite_bytes),
    }
