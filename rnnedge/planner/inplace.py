"""In-place rules a firmware runtime can honour, which take the arena below the live-set bound.

Rules, applied in execution order (each firing is recorded with the operator and tensors):
  fused_residual_add  a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED whose output feeds only an
                      ADD (same shape, no broadcast) is fused with it; the fused op runs at the
                      ADD's position, never stores the conv output, and writes conv + skip over
                      the skip input, which must die at the ADD and share no bytes with the
                      conv's inputs (without that, the fusion stands but writes a new buffer).
                      The step gets a scratch buffer of one conv output row (fused_row_bytes),
                      where the conv computes each row before the ADD writes it out.
  fused_pad           a PAD / PADV2 feeding only a CONV_2D / DEPTHWISE_CONV_2D (fused_pad.py says
                      exactly when) is folded into it: the pair runs as one step at the conv's
                      position, the conv reads the PAD's input with explicit padding offsets,
                      and the padded tensor takes no arena space. A conv may carry both a fused
                      PAD and a fused residual ADD: the step is then (PAD, conv, ADD), and the
                      skip input must share no bytes with the PAD's input.
  view                RESHAPE / SQUEEZE / EXPAND_DIMS output shares its input's bytes.
  split_view          a SPLIT / SPLIT_V whose pieces are contiguous (every dimension before the
                      axis is 1) and keep the input's quantisation: each piece is its slice of
                      the input's bytes.
  elementwise         a unary elementwise op (activations, QUANTIZE int8->int8, ...) or a binary
                      one without broadcasting writes its output over an input that dies there.
  concat_run          a CONCATENATION (contiguous, same quantisation) whose inputs already lie
                      one after another in one buffer is that span of bytes.
  concat_in_output    a CONCATENATION whose inputs are contiguous slices of the output (every
                      dimension before the axis is 1) and have the output's quantisation: each
                      input read only by the concat is written straight into its slice.
Writes are checked per byte span (_Groups.writable): the tensor written over must die at the
op, every other tensor sharing its bytes must be dead before, none may be a graph input
(graph inputs are never overwritten), and the op's other inputs must not share those bytes.
Tensors joined by rules form one group placed as a unit (offset + relative offset); groups
and scratch buffers are then packed by best.py.
Which ops each rule applies to is the op table's `inplace` capability (rnnedge.op_table).
Works on rnnedge.tflite.model objects; imports numpy, rnnedge.op_table and this package's
fused_pad and lifetimes modules.
"""

import numpy as np

from rnnedge.op_table import info, scratch_requests
from rnnedge.planner.fused_pad import explicit_padding, find_pad_fusions, same_quant
from rnnedge.planner.lifetimes import (KERNEL_SCRATCH, ROW_SCRATCH, ROW_WINDOW, Buffer, align,
                                       arena_tensors, tensor_lifetimes)


def _consumers(subgraph) -> dict:
    out = {}
    for op in subgraph.operators:
        for t in op.inputs:
            if t >= 0:
                out.setdefault(t, []).append(op.index)
    return out


def find_fusions(subgraph, pad_fusions=()) -> list:
    """[(conv op index, add op index, skip tensor)] for the fused_residual_add rule;
    `pad_fusions` ([(pad, conv)]) makes a conv's fused PAD input count as the conv's input."""
    ops, tensors = subgraph.operators, subgraph.tensors
    reads = {conv: tuple(ops[conv].inputs) + (ops[pad].inputs[0],) for pad, conv in pad_fusions}
    consumers = _consumers(subgraph)
    producer = {t: op.index for op in ops for t in op.outputs}
    outputs, inputs = set(subgraph.outputs), set(subgraph.inputs)
    fusions = []
    for add in ops:
        if (add.opcode != "ADD" or len(add.inputs) != 2 or len(add.outputs) != 1
                or add.inputs[0] == add.inputs[1] or min(add.inputs) < 0
                or tensors[add.outputs[0]].type_name != "INT8"):  # the fused row ADD is int8
            continue
        out = tensors[add.outputs[0]]
        candidates = []
        for y, s in (add.inputs, add.inputs[::-1]):
            j = producer.get(y)
            if (j is None or "fuse_add" not in info(ops[j].opcode).inplace or consumers.get(y) != [add.index]
                    or y in outputs or s in outputs or s in inputs or s not in producer
                    or tensors[s].is_constant or s in reads.get(j, ops[j].inputs)
                    or tensors[y].shape != out.shape or tensors[s].shape != out.shape
                    or max(consumers.get(s, [])) != add.index):
                continue
            candidates.append((j == add.index - 1, j, s))
        if candidates:
            _, j, s = max(candidates)
            fusions.append((j, add.index, s))
    return fusions


class _Groups:
    """Union of tensors sharing memory, each at a byte offset relative to its group.

    Invariant kept by every rule: two members whose byte spans overlap either hold the same
    bytes by construction (a view, a slice of a concatenation) or have lifetimes that meet at
    most in the scope where an in-place op reads one and writes the other at the same span."""

    def __init__(self, subgraph, life, graph_inputs):
        self.tensors, self.life, self.graph_inputs = subgraph.tensors, life, graph_inputs
        self.root, self.rel, self.members = {}, {}, {}

    def add(self, t):
        if t not in self.root:
            self.root[t], self.rel[t], self.members[t] = t, 0, [t]

    def size(self, t) -> int:
        g = self.root[t]
        return max(self.rel[m] + self.tensors[m].nbytes for m in self.members[g])

    def span(self, t) -> tuple:
        """[start, end) of t's bytes relative to its group."""
        return self.rel[t], self.rel[t] + self.tensors[t].nbytes

    def overlap(self, a, b) -> bool:
        """True when tensors a and b share bytes (same group, intersecting spans)."""
        if self.root.get(a) is None or self.root.get(a) != self.root.get(b):
            return False
        (a0, a1), (b0, b1) = self.span(a), self.span(b)
        return a0 < b1 and b0 < a1

    def standalone(self, t) -> bool:
        """True when t covers its whole group (the group can move as a unit under t)."""
        return self.rel[t] == 0 and self.size(t) == self.tensors[t].nbytes

    def writable(self, t, scope, readers=()) -> bool:
        """True when an op running in `scope` may write a tensor of t's size over t: t dies in
        this scope, every other tensor sharing its bytes is dead before it, none of them is a
        graph input, and no other input the op reads (`readers`) shares those bytes."""
        if self.life.get(t, (-1, -1))[1] > scope:
            return False
        for m in self.members[self.root[t]]:
            if m == t or not self.overlap(m, t):
                continue
            if m in self.graph_inputs or self.life.get(m, (-1, -1))[1] >= scope:
                return False
        return t not in self.graph_inputs and not any(
            r != t and self.overlap(r, t) for r in readers)

    def merge(self, child, parent, offset):
        """Move child's whole group into parent's group at parent-relative `offset` (no-op
        when they already share a group)."""
        g, h = self.root[child], self.root[parent]
        if g == h:
            return
        shift = offset - self.rel[child]
        for m in self.members.pop(g):
            self.root[m], self.rel[m] = h, self.rel[m] + shift
            self.members[h].append(m)


def inplace_buffers(subgraph, order=None, regions=(), spans: bool = False):
    """(buffers, groups, steps, fusions, rules): the arena buffers after applying the in-place
    rules on execution order `order` (default file order). `groups` maps each arena tensor to
    (buffer id, offset inside that buffer). `regions` (planner/fused.py Regions, each a run
    of consecutive steps) become one step each: their windowed tensors get no buffer, each
    window one ROW_WINDOW buffer, and no in-place rule applies inside them, except that an
    in-place depthwise region (Region.copied) writes its output over its input when the
    input is writable there (rule `inplace_depthwise`).
    `spans` (the fused planner): each group's buffer carries per-span lifetimes (a byte
    range lives while some member covering it does: a SPLIT piece dies at its last reader,
    not with the whole tensor), and an elementwise op whose output is read only by a
    CONCATENATION that can take it in its slice (concat_in_output) writes there instead of
    over its input."""
    order = list(range(len(subgraph.operators))) if order is None else list(order)
    tensors, ops = subgraph.tensors, subgraph.operators
    pad_fusions = find_pad_fusions(subgraph)
    pad_of = {conv: pad for pad, conv in pad_fusions}
    pad_ops = set(pad_of.values())
    fusions = find_fusions(subgraph, pad_fusions)
    fused_conv = {j: (k, s) for j, k, s in fusions}
    fused_add = {k: (j, s) for j, k, s in fusions}
    steps = []
    for i in order:
        if i in fused_conv or i in pad_ops:
            continue
        group = (fused_add[i][0], i) if i in fused_add else (i,)
        steps.append(((pad_of[group[0]],) if group[0] in pad_of else ()) + group)
    steps, in_region = merge_regions(steps, regions)
    skip = {ops[j].outputs[0] for j in fused_conv} | {ops[p].outputs[0] for p in pad_ops}
    skip |= {t for r in regions for t in r.windows if t != r.copied and t not in r.staged}
    life = tensor_lifetimes(subgraph, steps)
    arena = [t for t in arena_tensors(subgraph) if t not in skip]
    in_arena = set(arena)
    groups = _Groups(subgraph, life, set(subgraph.inputs))
    for t in arena:
        groups.add(t)
    consumers = _consumers(subgraph)
    rules = []

    def fired(rule, op_indices, pair, **extra):
        rules.append({"rule": rule, "ops": list(op_indices),
                      "tensors": [tensors[pair[0]].name, tensors[pair[1]].name], **extra})

    copied = {r.ops[0]: r for r in regions if r.copied is not None}
    for p, step in enumerate(steps):
        scope = p + 1
        if step[0] in copied:  # in-place depthwise: the output over its input (fused.py)
            r = copied[step[0]]
            x, y = r.copied, r.row_ops[0].output
            if groups.writable(x, scope) and groups.standalone(x):
                groups.merge(y, x, groups.rel[x])
                fired("inplace_depthwise", list(step), (x, y))
        if step[0] in in_region:
            continue
        if step[0] in pad_ops:
            pad, conv = ops[step[0]], ops[step[1]]
            fired("fused_pad", [pad.index, conv.index], (pad.inputs[0], pad.outputs[0]),
                  padding=[list(a) for a in explicit_padding(subgraph, pad, conv)])
        op = ops[step[-1]]
        if not op.outputs or op.outputs[0] not in in_arena:
            continue
        out = op.outputs[0]
        data = [t for t in op.inputs if t in in_arena]
        if op.index in fused_add:
            j, s = fused_add[op.index]
            conv_reads = ops[j].inputs + ((ops[pad_of[j]].inputs[0],) if j in pad_of else ())
            if (s in in_arena and tensors[s].nbytes == tensors[out].nbytes
                    and groups.writable(s, scope, [t for t in conv_reads if t in in_arena])):
                groups.merge(out, s, groups.rel[s])
                fired("fused_residual_add", [j, op.index], (s, out), moved=j != op.index - 1)
        elif "view" in info(op.opcode).inplace and data and data[0] == op.inputs[0] \
                and tensors[data[0]].nbytes == tensors[out].nbytes:
            groups.merge(out, data[0], groups.rel[data[0]])
            fired("view", [op.index], (data[0], out))
        elif "split_view" in info(op.opcode).inplace:
            _split(op, subgraph, groups, in_arena, fired)
        elif "over_input" in info(op.opcode).inplace and not (
                spans and _into_concat(out, subgraph, consumers, in_arena)):
            for t in data:
                if (tensors[t].shape == tensors[out].shape
                        and tensors[t].nbytes == tensors[out].nbytes
                        and groups.writable(t, scope, [u for u in data if u != t])):
                    groups.merge(out, t, groups.rel[t])
                    fired("elementwise", [op.index], (t, out))
                    break
        elif "concat" in info(op.opcode).inplace:
            _concat(op, tensors, groups, in_arena, consumers, set(subgraph.outputs), fired)
    buffers, placement = [], {}
    for g, members in groups.members.items():
        first = min(life.get(m, (-1, -1))[0] for m in members)
        last = max(life.get(m, (-1, -1))[1] for m in members)
        nbytes = groups.size(g)
        label = " + ".join(tensors[m].name for m in sorted(members))
        bid = len(buffers)
        pieces = _spans(members, groups, life, align(nbytes)) if spans else ()
        buffers.append(Buffer(bid, g, None, nbytes, align(nbytes), first, last, label,
                              spans=pieces))
        for m in members:
            placement[m] = (bid, groups.rel[m])
    scope_of = {i: s + 1 for s, group in enumerate(steps) for i in group}
    requests = [r + (KERNEL_SCRATCH,) for r in scratch_requests(subgraph)] + [
        (j, fused_row_bytes(subgraph, j), f"op{j}+{k} fused conv row", ROW_SCRATCH)
        for j, k, _ in fusions if j not in in_region] + [
        (r.ops[0], r.window_bytes(t), f"row window {tensors[t].name} ({r.windows[t]} rows)",
         ROW_WINDOW) for r in regions for t in sorted(r.windows)]
    for op_index, nbytes, label, kind in requests:
        scope = scope_of[op_index]
        buffers.append(Buffer(len(buffers), None, op_index, nbytes, align(nbytes), scope, scope,
                              label, kind))
    return buffers, placement, steps, fusions, rules


def _spans(members, groups, life, size) -> tuple:
    """Per-span lifetimes of a group: ((start, end, first, last), ...) over the byte ranges
    between member boundaries, each living from the first member covering it to the last;
    () when every range lives as long as the whole group."""
    bounds = [(groups.rel[m], groups.rel[m] + groups.tensors[m].nbytes,
               *life.get(m, (-1, -1))) for m in members]
    cuts = sorted({c for lo, hi, _, _ in bounds for c in (lo, hi)})
    pieces = []
    for lo, hi in zip(cuts, cuts[1:]):
        lives = [(f, l) for a, b, f, l in bounds if a < hi and lo < b]
        if not lives:
            continue
        first, last = min(f for f, _ in lives), max(l for _, l in lives)
        if pieces and pieces[-1][1] == lo and pieces[-1][2:] == (first, last):
            lo = pieces.pop()[0]
        pieces.append((lo, hi, first, last))
    if len(pieces) <= 1:
        return ()
    pieces[-1] = (pieces[-1][0], size) + pieces[-1][2:]
    return tuple(pieces)


def _into_concat(t, subgraph, consumers, in_arena) -> bool:
    """True when tensor t is read only by a CONCATENATION whose inputs are contiguous slices
    of its output with its quantisation (concat_in_output can write t into its slice)."""
    readers = consumers.get(t, [])
    if len(readers) != 1 or t in subgraph.outputs:
        return False
    op = subgraph.operators[readers[0]]
    if op.opcode != "CONCATENATION" or not op.outputs or op.outputs[0] not in in_arena:
        return False
    out = subgraph.tensors[op.outputs[0]]
    axis = op.options.get("axis", 0)
    axis = axis + len(out.shape) if axis < 0 else axis
    return (_outer_is_one(out.shape, axis) and same_quant(subgraph.tensors[t], out)
            and list(op.inputs).count(t) == 1)


def merge_regions(steps, regions) -> tuple:
    """(steps with each region's run of steps replaced by one step of all its operators,
    the set of operators inside regions)."""
    first = {r.ops[0]: r for r in regions}
    in_region = {i for r in regions for i in r.ops}
    if not regions:
        return steps, in_region
    merged = []
    for step in steps:
        if step[0] in first:
            merged.append(tuple(first[step[0]].ops))
        elif step[0] not in in_region:
            merged.append(step)
    return merged, in_region


def fused_row_bytes(subgraph, conv: int) -> int:
    """Bytes of one output row of the fused conv `conv` (W_out x C_out; C_out for a FULLY_
    CONNECTED): the conv computes a row there, then the ADD writes it out (firmware_sim)."""
    out = subgraph.tensors[subgraph.operators[conv].outputs[0]]
    row = out.shape[-1] if subgraph.operators[conv].opcode == "FULLY_CONNECTED" \
        else out.shape[-2] * out.shape[-1]
    return (int(row) * out.bits + 7) // 8  # bits: types numpy lacks have no dtype


def _outer_is_one(shape, axis) -> bool:
    """True when every dimension before `axis` is 1: slices along `axis` are contiguous."""
    return 0 <= axis < len(shape) and int(np.prod(shape[:axis], dtype=np.int64)) == 1


def _split(op, subgraph, groups, in_arena, fired):
    """split_view: contiguous SPLIT / SPLIT_V outputs become slices of the input's bytes."""
    tensors = subgraph.tensors
    x_index, axis_index = (1, 0) if op.opcode == "SPLIT" else (0, 2)
    if len(op.inputs) <= max(x_index, axis_index):
        return
    x, axis_tensor = op.inputs[x_index], tensors[op.inputs[axis_index]]
    if x not in in_arena or axis_tensor.data is None or np.size(axis_tensor.data) != 1:
        return
    shape = tensors[x].shape
    axis = int(np.asarray(axis_tensor.data).reshape(-1)[0])
    axis = axis + len(shape) if axis < 0 else axis
    outs = list(op.outputs)
    if (not _outer_is_one(shape, axis) or not all(o in in_arena for o in outs)
            or sum(tensors[o].nbytes for o in outs) != tensors[x].nbytes
            or any(tensors[o].dtype != tensors[x].dtype or not same_quant(tensors[o], tensors[x])
                   for o in outs)):
        return
    offset = 0
    for o in outs:
        groups.merge(o, x, groups.rel[x] + offset)
        offset += tensors[o].nbytes
    fired("split_view", [op.index], (x, outs[0]), outputs=len(outs))


def _concat(op, tensors, groups, in_arena, consumers, outputs, fired):
    """concat_run (inputs already consecutive in one group: the output is that span) or
    concat_in_output (inputs read only here are written straight into their slices)."""
    if not op.inputs or not op.outputs or -1 in op.inputs:
        return  # malformed: the compiler refuses it with a reason
    out = op.outputs[0]
    shape = tensors[out].shape
    axis = op.options.get("axis", 0)
    axis = axis + len(shape) if axis < 0 else axis
    inputs = list(op.inputs)
    if not _outer_is_one(shape, axis) or not all(t in in_arena for t in inputs):
        return
    if not all(same_quant(tensors[t], tensors[out]) for t in inputs):
        return
    root = groups.root[inputs[0]]
    position = groups.rel[inputs[0]]
    run = True
    for t in inputs:
        run = run and groups.root[t] == root and groups.rel[t] == position
        position += tensors[t].nbytes
    if run and root != groups.root[out]:
        groups.merge(out, inputs[0], groups.rel[inputs[0]])
        fired("concat_run", [op.index], (inputs[0], out), inputs=len(inputs))
        return
    offset = 0
    seen = set()
    for t in inputs:
        nbytes = tensors[t].nbytes
        root = groups.root[t]
        if (consumers.get(t) == [op.index] and t not in outputs and root not in seen
                and root != groups.root[out] and groups.standalone(t)
                and not groups.graph_inputs.intersection(groups.members[root])):
            seen.add(root)
            groups.merge(t, out, groups.rel[out] + offset)
            fired("concat_in_output", [op.index], (t, out), offset=offset)
        offset += nbytes
