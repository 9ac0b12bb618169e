"""The `best` offset assignment: never worse than TFLM's, the live-set bound when reachable.

Strategy: start from TFLM's greedy placement; try first fit under several other orders
(start time, lifetime length, size x length, end time); stop as soon as one reaches the
live-set lower bound. Otherwise run a depth-first branch and bound over placement orders with
lowest-fit placement, which is exact given enough nodes (any optimal layout is reproduced by
first fit in increasing-offset order), under a node budget. Imports this package's greedy and
lifetimes modules.
"""

from rnnedge.planner.greedy import (Placed, arena_size, first_fit, lowest_fit, span_fit,
                                    tflm_plan)
from rnnedge.planner.lifetimes import lower_bound

NODE_BUDGET = 20000
SPAN_NODE_BUDGET = 1000  # buffers with per-span lifetimes: each fit costs far more


def _orders(buffers) -> list:
    keys = [
        lambda b: (b.first, -b.size, b.id),
        lambda b: (-(b.last - b.first), -b.size, b.id),
        lambda b: (-b.size * (b.last - b.first + 1), b.id),
        lambda b: (b.last, -b.size, b.id),
        lambda b: (-b.size, b.first, b.id),
    ]
    return [[b.id for b in sorted(buffers, key=k)] for k in keys]


def _lowest_fit(b, placed, spanned: bool = False) -> int:
    live = placed.live_during(b)
    return span_fit(b, live) if spanned else lowest_fit(b, live)


def _branch_and_bound(buffers, bound: int, best_size: int, budget: int):
    """Search placement orders depth first (an explicit stack: graphs have thousands of
    buffers, deeper than Python's recursion limit); returns (size, offsets) better than
    best_size, or None. A frame is [candidates, next index, top, seen, choice to undo (the
    placed pair)]; the placed pairs are indexed by lifetime (greedy.Placed)."""
    best_top, best_offsets, nodes = best_size, None, 0
    placed, offsets = Placed(buffers), {}
    spanned = any(b.spans for b in buffers)
    stack = [[sorted(buffers, key=lambda b: (-b.size, b.first, b.id)), 0, 0, set(), None]]
    while stack and best_top != bound and nodes < budget:
        frame = stack[-1]
        remaining, index, top, seen, choice = frame
        if choice is not None:  # back from the child: take the choice back
            placed.remove(choice)
            del offsets[choice[1].id]
            frame[4] = None
        if not remaining:
            best_top, best_offsets = top, dict(offsets)
            stack.pop()
            continue
        if index == len(remaining):
            stack.pop()
            continue
        b = remaining[index]
        frame[1] = index + 1
        nodes += 1
        offset = _lowest_fit(b, placed, spanned)
        end = max(top, offset + b.size)
        key = (b.size, b.first, b.last, b.spans, offset)
        if end >= best_top or key in seen:
            continue
        seen.add(key)
        pair = (offset, b)
        placed.add(pair)
        offsets[b.id] = offset
        frame[4] = pair
        stack.append([[r for r in remaining if r is not b], 0, end, set(), None])
    return None if best_offsets is None else (best_top, best_offsets)


def best_plan(buffers, budget: int | None = None) -> dict:
    """{buffer id: offset}: the smallest placement found for `buffers` (never larger than
    TFLM's; equal to the lower bound whenever the search reaches it). `budget`: nodes of the
    search (default NODE_BUDGET, SPAN_NODE_BUDGET when some buffer has per-span lifetimes)."""
    if budget is None:
        budget = SPAN_NODE_BUDGET if any(b.spans for b in buffers) else NODE_BUDGET
    bound = lower_bound(buffers)
    best = tflm_plan(buffers)
    best_size = arena_size(buffers, best)
    for order in _orders(buffers):
        if best_size == bound:
            break
        offsets = first_fit(buffers, order)
        size = arena_size(buffers, offsets)
        if size < best_size:
            best, best_size = offsets, size
    if best_size == bound:
        return best
    found = _branch_and_bound(buffers, bound, best_size, budget)
    if found is not None:
        best = found[1]
    return best
