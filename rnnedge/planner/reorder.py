"""Operator reordering that lowers the live-set peak (as tflite-tools does).

Any topological order of the operators computes the same result; the bytes live at once
depend on it. `reorder(subgraph)` builds a greedy topological order — at each step run the
ready operator that leaves the fewest bytes live, ties broken by file order — and returns it
only when its live-set lower bound is strictly below the file order's.
`eager_order(subgraph, order)` (the fused planner) moves every operator that frees bytes
(each of its inputs dies there and its outputs are strictly smaller than them, e.g. the
SWS-BiRNN's direction-sum ADD of two step outputs) to just after the producers of its inputs:
no scope then holds more bytes than before, and the inputs die as early as they can.
Imports this package's lifetimes module.
"""

import bisect

from rnnedge.planner.lifetimes import align, arena_tensors, lower_bound, plan_buffers


def _bound(subgraph, order) -> int:
    return lower_bound(plan_buffers(subgraph, [(i,) for i in order]))


def greedy_order(subgraph):
    """A topological order choosing, at each step, the ready op with the smallest live bytes
    after it runs (ties: file order); None when the operators form no DAG (an op waits on
    itself or a cycle). Incremental: an op's cost is the live bytes, less its inputs that die
    with it, plus its outputs still read later, so a step costs the ready ops' degrees, not
    a pass over the whole graph and live set."""
    ops = subgraph.operators
    sizes = {t: align(subgraph.tensors[t].nbytes) for t in arena_tensors(subgraph)}
    producer = {t: op.index for op in ops for t in op.outputs}
    position = {op.index: p for p, op in enumerate(ops)}
    readers = {}
    for op in ops:
        for t in set(op.inputs):
            if t >= 0:
                readers.setdefault(t, set()).add(op.index)
    unread = {t: len(r) for t, r in readers.items()}  # readers not yet run
    waits = {op.index: {producer[t] for t in op.inputs if t >= 0 and t in producer}
             for op in ops}
    dependents = {}
    for i, w in waits.items():
        for j in w:
            dependents.setdefault(j, []).append(i)
    ready = sorted((position[i] for i, w in waits.items() if not w))
    pinned = set(subgraph.outputs)
    order = []
    live = {t for t in subgraph.inputs if t in sizes and (t in pinned or unread.get(t, 0))}
    live_bytes = sum(sizes[t] for t in live)
    while len(order) < len(ops):
        best = None
        for p in ready:
            op = ops[p]
            cost = live_bytes
            for t in set(op.inputs):
                if t in live and t not in pinned and unread[t] == 1:
                    cost -= sizes[t]  # dies here
            for t in set(op.outputs):
                if t in sizes and t not in live and (
                        t in pinned or unread.get(t, 0) > (op.index in readers.get(t, ()))):
                    cost += sizes[t]
            if best is None or cost < best[0]:
                best = (cost, p)
        if best is None:
            return None
        live_bytes, p = best
        op = ops[p]
        del ready[bisect.bisect_left(ready, p)]
        for t in set(op.inputs):
            if t >= 0:
                unread[t] -= 1
                if t in live and t not in pinned and unread[t] == 0:
                    live.discard(t)
        for t in set(op.outputs):
            if t in sizes and (t in pinned or unread.get(t, 0)):
                live.add(t)
        order.append(op.index)
        for j in dependents.get(op.index, ()):
            waits[j].discard(op.index)
            if not waits[j]:
                bisect.insort(ready, position[j])
    return order


def reorder(subgraph):
    """(order, bound) of a strictly better operator order, or None when file order is best."""
    n = len(subgraph.operators)
    if n < 2:
        return None
    base = _bound(subgraph, range(n))
    order = greedy_order(subgraph)
    if order is None:
        return None
    bound = _bound(subgraph, order)
    return (order, bound) if bound < base else None


def eager_order(subgraph, order) -> list:
    """`order` with every operator that frees bytes run right after its inputs' producers
    (see module docstring); the relative order of everything else is kept."""
    ops, tensors = subgraph.operators, subgraph.tensors
    sizes = {t: tensors[t].nbytes for t in arena_tensors(subgraph)}
    last = {}
    for position, i in enumerate(order):
        for t in ops[i].inputs:
            if t in sizes:
                last[t] = position
    producer = {t: op.index for op in ops for t in op.outputs}
    pinned = set(subgraph.outputs)
    # out = head 0, its run, head 1, its run, ...: an op that stays is a head; a moved op
    # goes after the latest of its producers and the moved ops already there, i.e. at the
    # end of the run of the head at or before that producer; place[j] = (head, index in run)
    heads, runs, place = [None], [[]], {}  # head 0: ops moved before every head
    for position, i in enumerate(order):
        ins = {t for t in ops[i].inputs if t in sizes}
        freed = sum(sizes[t] for t in ins)
        made = sum(sizes.get(t, 0) for t in ops[i].outputs)
        if not ins or any(last[t] != position or t in pinned or t not in producer for t in ins) \
                or made >= freed or any(t in pinned for t in ops[i].outputs):
            place[i] = (len(heads), -1)
            heads.append(i)
            runs.append([])
            continue
        group = max(place.get(producer[t], (0, -1)) for t in ins)[0]
        place[i] = (group, len(runs[group]))
        runs[group].append(i)
    return [j for head, run in zip(heads, runs) for j in (head, *run) if j is not None]
