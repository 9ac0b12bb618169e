"""Column tiles inside a row-fused region: patches whose horizontal halos are recomputed.

A row-fused region (planner/fused.py) keeps a window of k full-width rows per intermediate
tensor. Split into N column tiles (MCUNetV2's patches crossed with the region's stream
buffers), the region runs its row schedule once per tile over that tile's columns: the
vertical halos stay cached in the row windows, only the horizontal halos are computed again,
and every window holds rows of one tile's columns (tile width + halo) instead of full rows.

Tile i of a region output (a tensor read after the region, kept whole) is its columns
[i W / N, (i+1) W / N). Going backwards through the region's row ops, the input columns an
op's output columns [a, b) read are [a s - p, (b-1) s - p + (k-1) d + 1) clipped to the
input (an ADD reads the same columns of both inputs); a tensor several ops read (or a region
output also read inside) gets the hull of what is asked of it. Every op then computes the
output columns of its tile range in every tile:

    extra MACs = sum over ops of (sum over tiles of computed columns - W_out) x MACs per column

(MACs per column = the op's MACs under rnnedge.op_table's convention / W_out). A whole
region input read by a band of several rows (a k x k conv) is *staged*: its tile columns
are fetched row by row from the arena into a window, since a band of a column range is not
contiguous in the tensor; the streamed graph input is fetched by columns the same way.

`tile_region(subgraph, region, n)` builds the tiled Region, or None when it cannot run
(a tile with no column, an in-place depthwise region, a whole tensor made inside the region
read by a multi-row band). Works on rnnedge.tflite.model objects; imports rnnedge.op_table
and this package's fused module.
"""

from dataclasses import replace

from rnnedge.op_table import op_macs
from rnnedge.planner.fused import schedule

MAX_TILES = 8


def _hull(a, b):
    return b if a is None else (min(a[0], b[0]), max(a[1], b[1]))


def tile_columns(subgraph, row_ops, windowed, n: int):
    """Per tile, {tensor: (first, end) column} of every tensor of the region, or None when
    some tile would get no column."""
    tiles = []
    for i in range(n):
        cols = {}
        for ro in reversed(row_ops):
            t = ro.output
            if t not in windowed:
                width = int(subgraph.tensors[t].shape[2])
                a, b = i * width // n, (i + 1) * width // n
                if b <= a:
                    return None
                cols[t] = _hull(cols.get(t), (a, b))
            if t not in cols:
                return None
            a, b = cols[t]
            wanted = (a, b) if ro.opcode == "ADD" else ro.columns(a, b)
            if wanted[1] <= wanted[0]:
                return None
            for u in ro.inputs:
                cols[u] = _hull(cols.get(u), wanted)
        tiles.append(cols)
    return tiles


def recompute_macs(subgraph, row_ops, tiles) -> int:
    """MACs the tiles compute beyond one pass (module docstring's formula)."""
    extra = 0
    for ro in row_ops:
        computed = sum(cols[ro.output][1] - cols[ro.output][0] for cols in tiles)
        macs = sum(op_macs(subgraph.operators[i], subgraph.tensors) or 0 for i in ro.ops)
        extra += macs * (computed - ro.out_width) // ro.out_width
    return extra


def tile_region(subgraph, region, n: int):
    """`region` run as `n` column tiles (module docstring), or None."""
    if n < 2 or region.copied is not None or region.tiles:
        return None
    windowed = set(region.windows)
    produced = {ro.output for ro in region.row_ops}
    staged = set()
    for ro in region.row_ops:
        for u in ro.inputs:
            if u in windowed or ro.extent == 1:
                continue
            if u in produced:
                return None
            staged.add(u)
    tiles = tile_columns(subgraph, region.row_ops, windowed, n)
    if tiles is None:
        return None
    windowed |= staged
    _, need = schedule(region.row_ops, windowed, region.streamed, None, staged)
    events, _ = schedule(region.row_ops, windowed, region.streamed, need, staged)
    depth = {t: int(subgraph.tensors[t].shape[3]) for t in windowed}
    row_bytes = {t: max(c[t][1] - c[t][0] for c in tiles) * depth[t] for t in windowed}
    return replace(region, windows=dict(need), row_bytes=row_bytes, events=events,
                   tiles=tuple(tiles), staged=tuple(sorted(staged)),
                   recompute_macs=recompute_macs(subgraph, region.row_ops, tiles))
