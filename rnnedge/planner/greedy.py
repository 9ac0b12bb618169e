"""Offset assignment by first fit, including an exact model of TFLM's GreedyMemoryPlanner.

`first_fit(buffers, order)` places buffers one at a time, in `order`, at the lowest offset
where they fit between the already-placed buffers whose lifetimes overlap theirs. With
`tflm_order(buffers)` — offline-planned buffers first (in id order), then the rest by
decreasing size with ties in *decreasing* id order (TFLM fills its sort array from the tail,
then sorts it with a stable bubble sort) — it gives exactly the offsets
GreedyMemoryPlanner computes (greedy_memory_planner.cc). Buffers with per-span lifetimes
(`Buffer.spans`, the fused planner's tensor groups) are fitted span by span (`span_fit`): a
span only keeps out what lives at the same time as it. Works on lifetimes.Buffer objects;
imports only the standard library.
"""

import bisect

ALIGNMENT = 16  # lifetimes.ALIGNMENT (restated: this module imports nothing of the package)


def span_fit(b, placed) -> int:
    """The lowest 16-byte-aligned offset where no piece of `b` shares bytes with a piece of
    a placed buffer ((offset, Buffer) pairs) that lives in one of the same scopes."""
    blocked = []  # open intervals (lo, hi) of offsets b may not take
    mine = b.pieces()
    b_first, b_last = b.first, b.last
    for other_offset, other in placed:
        if b_first > other.last or other.first > b_last:
            continue
        if not other.spans and not b.spans:
            blocked.append((other_offset - b.size, other_offset + other.size))
            continue
        for lo, hi, first, last in other.pieces():
            if b_first > last or first > b_last:
                continue
            for blo, bhi, bfirst, blast in mine:
                if bfirst <= last and first <= blast:
                    blocked.append((other_offset + lo - bhi, other_offset + hi - blo))
    offset = 0
    for lo, hi in sorted(blocked):
        if offset <= lo:
            break
        if offset < hi:
            offset = (hi + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
    return offset


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
    spanned = any(b.spans for b in buffers)
    for bid in order:
        b = by_id[bid]
        if bid in offline:
            offset = offline[bid]
        elif spanned:
            offset = span_fit(b, zip(placed_offsets, placed))
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
