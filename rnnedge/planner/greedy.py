"""Offset assignment by first fit, including an exact model of TFLM's GreedyMemoryPlanner.

`first_fit(buffers, order)` places buffers one at a time, in `order`, at the lowest offset
where they fit between the already-placed buffers whose lifetimes overlap theirs. With
`tflm_order(buffers)` — offline-planned buffers first (in id order), then the rest by
decreasing size with ties in *decreasing* id order (TFLM fills its sort array from the tail,
then sorts it with a stable bubble sort) — it gives exactly the offsets
GreedyMemoryPlanner computes (greedy_memory_planner.cc). Works on lifetimes.Buffer objects;
imports only the standard library.
"""

import bisect


def tflm_order(buffers, offline=None) -> list:
    """TFLM's placement order: offline-planned ids (in id order), then by size descending,
    equal sizes by descending id."""
    offline = offline or {}
    fixed = [b.id for b in buffers if b.id in offline]
    rest = sorted((b for b in buffers if b.id not in offline), key=lambda b: (-b.size, -b.id))
    return fixed + [b.id for b in rest]


def first_fit(buffers, order, offline=None) -> dict:
    """{buffer id: offset} placing buffers in `order` at the first gap (scanning placed,
    time-overlapping buffers by increasing offset) large enough; `offline` fixes offsets."""
    offline = offline or {}
    by_id = {b.id: b for b in buffers}
    placed_offsets, placed = [], []  # kept sorted by offset, insertion-stable like TFLM's list
    offsets = {}
    for bid in order:
        b = by_id[bid]
        if bid in offline:
            offset = offline[bid]
        else:
            offset = 0
            for other_offset, other in zip(placed_offsets, placed):
                if not b.overlaps(other):
                    continue
                if other_offset - offset >= b.size:
                    break
                offset = max(offset, other_offset + other.size)
        offsets[bid] = offset
        at = bisect.bisect_right(placed_offsets, offset)
        placed_offsets.insert(at, offset)
        placed.insert(at, b)
    return offsets


def arena_size(buffers, offsets) -> int:
    """Bytes spanned by a placement: max(offset + size), 0 for no buffers."""
    return max((offsets[b.id] + b.size for b in buffers), default=0)


def tflm_plan(buffers, offline=None) -> dict:
    """Offsets exactly as TFLM's GreedyMemoryPlanner assigns them."""
    return first_fit(buffers, tflm_order(buffers, offline), offline)
