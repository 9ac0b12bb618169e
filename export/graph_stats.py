"""Statistics of an int8 .tflite, read from the flatbuffer alone (works for any converter's
output, so the benchmark applies it to the standard route too).

- op counts by type, and the requirements the export promises: only builtins (no CUSTOM /
  Flex / control flow), int8 activations (int16 in a 16x8 file) and weights, int32/int64
  only for biases and index operands (axis, sizes, paddings), int16 otherwise only for a
  fused LSTM's cell state and gate intermediates, CONCATENATION inputs <= 10;
- duplication factor = stored constant bytes (each buffer referenced by a constant tensor,
  counted once) / unique constant bytes (distinct buffer contents): 1.0 when no constant data
  is stored twice, e.g. a recurrent weight stored per time step gives ~T;
- ops per recurrent time step: a conv/FC weight tensor read by several ops where one read
  depends on another is a recurrent weight; the recurrence region is every op lying between its reads
  (descendant of one, ancestor of another) plus the ops feeding that region that do not also
  feed the first read (per-step input slicing). ops_per_step = (region ops - 1) / (longest
  chain of dependent reads - 1), i.e. ops per step with both directions of a pass included;
- graph MACs under rnnedge.op_table's MAC_CONVENTION (the paper's eq. 17, the same count
  `rnnedge arena` prints); `rnn_graph_macs` sums them over ops whose output tensors are named
  in a given scope.

Reads the file with rnnedge's own reader (rnnedge.tflite), which any converter's output
passes; the caller reads it once. `vela_cpu_builtins`: the builtins Vela cannot place at
all (export/vela_check.py; null without Vela), so export never leaves them silent.
May import: rnnedge.op_table, rnnedge.export.vela_check.
"""

from collections import Counter

from rnnedge.op_table import info, is_parameter, op_macs
from rnnedge.export.vela_check import vela_cpu_builtins

LSTM_GATE_BIASES = range(12, 16)   # UNIDIRECTIONAL_SEQUENCE_LSTM's four int32 gate biases


def _producers(sg) -> dict:
    """{tensor index: index of the op writing it}."""
    return {t: op.index for op in sg.operators for t in op.outputs}


def _requirements(sg):
    """Findings that break the export's promises (empty list when all hold)."""
    problems = []
    allowed_int32 = set()
    for op in sg.operators:
        entry = info(op.opcode)
        if entry.category in ("control", "unknown") or op.custom_code:
            problems.append(f"non-builtin or control-flow op {op.custom_code or op.opcode}")
        for pos, t in enumerate(op.inputs):
            if t < 0:
                continue
            tensor = sg.tensors[t]
            if (pos == entry.bias or (tensor.is_constant and not is_parameter(op, tensor))
                    or (op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM" and pos in LSTM_GATE_BIASES)):
                allowed_int32.add(t)
        if entry.max_inputs is not None and len(op.inputs) > entry.max_inputs:
            problems.append(f"{op.opcode} with {len(op.inputs)} inputs (TFLM allows "
                            f"{entry.max_inputs})")
    lstm = [op for op in sg.operators if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    int16 = {t for op in lstm for t in list(op.inputs[19:20]) + list(op.intermediates)}
    activation = "INT16" if any(t.type_name == "INT16" and t.index not in int16
                                for t in sg.tensors) else "INT8"
    for tensor in sg.tensors:
        if tensor.type_name in ("INT8", activation) or (
                tensor.type_name in ("INT32", "INT64") and tensor.index in allowed_int32):
            continue
        if tensor.type_name == "INT16" and tensor.index in int16:   # an integer LSTM's cell
            continue                                                 # state, gate intermediates
        problems.append(f"tensor {tensor.name} is {tensor.type_name}")
    return problems


def _duplication(model):
    """(stored constant bytes, unique constant bytes)."""
    stored = {}
    for tensor in model.main.tensors:
        data = model.buffers[tensor.buffer].data
        if tensor.is_constant and data is not None:
            stored[tensor.buffer] = data.tobytes()
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


def _recurrence(sg):
    """(region ops, recurrent steps) summed over the recurrent weights of the graph."""
    succ, pred = {}, {}
    producer = _producers(sg)
    for i, op in enumerate(sg.operators):
        for t in op.inputs:
            if t >= 0 and t in producer:
                succ.setdefault(producer[t], set()).add(i)
                pred.setdefault(i, set()).add(producer[t])
    readers = {}
    for i, op in enumerate(sg.operators):
        if (info(op.opcode).category == "conv" and len(op.inputs) > 1 and op.inputs[1] >= 0
                and sg.tensors[op.inputs[1]].is_constant):
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


def graph_stats(model, rnn_scopes=()):
    """Statistics of a .tflite read by rnnedge.tflite.read_model (see module docstring) as a
    JSON-ready dict. `rnn_scopes`:
    substrings ("/module.name/") naming the recurrent layers' tensors, for `rnn_graph_macs`."""
    sg = model.main
    stored, unique = _duplication(model)
    region, steps = _recurrence(sg)
    counts = Counter(op.opcode for op in sg.operators)
    macs = [op_macs(op, sg.tensors) or 0 for op in sg.operators]
    rnn_macs = 0
    for op, n in zip(sg.operators, macs):
        names = [sg.tensors[t].name for t in op.outputs]
        if any(s in name for name in names for s in rnn_scopes):
            rnn_macs += n
    concat = [len(op.inputs) for op in sg.operators if op.opcode == "CONCATENATION"]
    return {
        "ops": len(sg.operators),
        "op_counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        "problems": _requirements(sg),
        "max_concat_inputs": max(concat, default=0),
        "stored_constant_bytes": stored,
        "unique_constant_bytes": unique,
        "duplication_factor": stored / unique if unique else 1.0,
        "recurrent_step_intervals": steps,
        "ops_per_step": region / steps if steps else None,
        "graph_macs": int(sum(macs)),
        "rnn_graph_macs": int(rnn_macs),
        "size_bytes": len(model.raw),
        "vela_cpu_builtins": vela_cpu_builtins(counts),
    }
