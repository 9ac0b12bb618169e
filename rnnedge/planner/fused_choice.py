"""Which row-fused regions the `fused` planner runs: chosen by the bytes they save.

Every stage of a region holds its row window at once, so a region pays the sum of its
windows: fusing the large early maps saves their whole tensors, fusing a run of small maps
can cost more than it saves. The choice, repeated while it lowers the arena:
  1. on the current schedule (inplace steps, regions chosen so far as one step each), take
     every maximal run of row-capable steps (fused.candidate_runs) and simulate it once, which
     gives each tensor's window;
  2. estimate every sub-range [i, e) of every run: the region's scope holds every buffer
     live in those scopes except the windowed tensors (and the conv rows of fused ADDs
     inside), plus the windows; the plan's peak is the larger of that and the peak of the
     scopes outside; keep the sub-range with the lowest estimated peak;
  3. build it for real (fused.build_region: its own schedule and windows), pack the plan, and
     keep it only when the packed arena is smaller.
Then every depthwise conv left outside the regions whose input dies there runs in place
(fused.inplace_depthwise) wherever that does not make the arena larger. With a recompute
budget (MACs), each region is then tried as 2..MAX_TILES column tiles (fused_tiles.py);
the tiling that lowers the packed arena most within the budget (all regions' recompute
together) is kept, repeated while one helps.
Works on rnnedge.tflite.model objects; imports this package's fused, inplace, best and greedy
modules.
"""

from rnnedge.planner.best import best_plan
from rnnedge.planner.fused import build_region, candidate_runs, inplace_depthwise, row_bytes
from rnnedge.planner.fused_tiles import MAX_TILES, tile_region
from rnnedge.planner.greedy import arena_size
from rnnedge.planner.inplace import inplace_buffers
from rnnedge.planner.lifetimes import ROW_SCRATCH, live_bytes

MAX_ROUNDS = 4


def _packed(subgraph, order, regions, spans=False):
    """(arena bytes, buffers, placement, steps) of the inplace layout with `regions`."""
    buffers, placement, steps, _, _ = inplace_buffers(subgraph, order, regions, spans)
    return arena_size(buffers, best_plan(buffers)), buffers, placement, steps


def _readers(subgraph) -> dict:
    out = {}
    for op in subgraph.operators:
        for t in op.inputs:
            if t >= 0:
                out.setdefault(t, set()).add(op.index)
    return out


def _best_subrange(subgraph, steps, run, buffers, members, live, streamed, readers):
    """(estimated peak, start, end) of the best sub-range of `run` (step positions)."""
    a, b = run
    full = build_region(subgraph, steps[a:b], streamed)
    if full is None:
        return None
    window = {t: full.window_bytes(t) for t in full.windows}
    outputs = set(subgraph.outputs)
    producer = {ro.output: ro.ops[-1] for ro in full.row_ops}
    n_scopes = len(live)
    best = None
    for i in range(a, b):
        for e in range(i + 1, b + 1):
            ops = {k for s in steps[i:e] for k in s}
            windowed = {t for t, p in producer.items() if p in ops and t in window
                        and t not in outputs and readers.get(t, set()) <= ops}
            if streamed is not None and readers.get(streamed, set()) <= ops:
                windowed.add(streamed)
            if not windowed:
                continue
            inside = 0
            lo, hi = i + 1, e  # scopes of steps i..e-1
            for buf in buffers:
                if buf.first > hi or buf.last < lo:
                    continue
                if buf.kind == ROW_SCRATCH and buf.op in ops:
                    continue
                if buf.id in members and members[buf.id] <= windowed:
                    continue
                inside += sum(end - start for start, end, first, last in buf.pieces()
                              if first <= hi and last >= lo)
            inside += sum(window.get(t, row_bytes(subgraph, t) * 3) for t in windowed)
            outside = max([live[s] for s in range(n_scopes) if s < lo or s > hi], default=0)
            peak = max(inside, outside)
            if best is None or peak < best[0]:
                best = (peak, i, e)
    return best


def choose_regions(subgraph, order, stream_input: bool, spans: bool = False,
                   max_recompute_macs: int = 0) -> tuple:
    """The regions of the fused plan (see module docstring); `spans`: the layout is packed
    with per-span lifetimes (inplace_buffers); `max_recompute_macs`: the MACs column tiles
    may compute again (0: no tiles)."""
    streamed = subgraph.inputs[0] if stream_input and subgraph.inputs else None
    readers = _readers(subgraph)
    regions = []
    size, buffers, placement, steps = _packed(subgraph, order, regions, spans)
    for _ in range(MAX_ROUNDS):
        members = {}
        for t, (bid, _) in placement.items():
            members.setdefault(bid, set()).add(t)
        live = live_bytes(buffers, len(steps) + 1)
        taken = streamed if any(r.streamed is not None for r in regions) else None
        options = [_best_subrange(subgraph, steps, run, buffers, members, live,
                                  None if taken else streamed, readers)
                   for run in candidate_runs(subgraph, steps)]
        options = sorted(o for o in options if o is not None)
        accepted = False
        for _, i, e in options:
            region = build_region(subgraph, steps[i:e], None if taken else streamed)
            if region is None:
                continue
            trial = _packed(subgraph, order, regions + [region], spans)
            if trial[0] < size or (region.streamed is not None and trial[0] <= size):
                regions.append(region)
                size, buffers, placement, steps = trial
                accepted = True
                break
        if not accepted:
            break
    for step in list(steps):  # in-place depthwise wherever it costs nothing at the peak
        region = None if step[0] in {i for r in regions for i in r.ops} else \
            inplace_depthwise(subgraph, step, readers)
        if region is None:
            continue
        trial = _packed(subgraph, order, regions + [region], spans)
        if trial[0] <= size:
            regions.append(region)
            size = trial[0]
    if max_recompute_macs > 0:
        regions = _tiled(subgraph, order, regions, size, spans, max_recompute_macs)
    return tuple(regions)


def _tiled(subgraph, order, regions, size, spans, budget) -> list:
    """`regions` with the column tilings that lower the packed arena most within `budget`
    recomputed MACs (module docstring)."""
    base, chosen = list(regions), list(regions)
    while True:
        best = None
        for j, region in enumerate(base):
            others = sum(r.recompute_macs for k, r in enumerate(chosen) if k != j)
            for n in range(2, MAX_TILES + 1):
                tiled = tile_region(subgraph, region, n)
                if tiled is None or len(tiled.tiles) == len(chosen[j].tiles) or \
                        others + tiled.recompute_macs > budget:
                    continue
                trial = chosen[:j] + [tiled] + chosen[j + 1:]
                arena = _packed(subgraph, order, trial, spans)[0]
                key = (arena, tiled.recompute_macs)
                if arena < size and (best is None or key < best[0]):
                    best = (key, trial)
        if best is None:
            return chosen
        size, chosen = best[0][0], best[1]
