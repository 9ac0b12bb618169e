"""Row-fused regions: the `fused` planner's way below the live-set bound.

A region is a run of consecutive steps of the inplace schedule whose operators all compute
their output one row at a time from a band of input rows: CONV_2D and DEPTHWISE_CONV_2D
(with a fused PAD or not), AVERAGE_POOL_2D / MAX_POOL_2D (a band of dilated-kernel-height
rows), and ADD of two same-shape tensors (the same row of both). All its tensors are int8,
4-D NHWC with batch 1. The region runs as one step: row by row, each operator computes the
next output row as soon as a consumer needs it (demand-driven, StreamNet-style stream
buffers instead of MCUNetV2's recomputed patch halos, so no MAC is computed twice), and every
intermediate tensor that only the region reads is never stored whole: it lives in a *row
window* holding the rows some consumer still needs (for a 3x3 conv, 3 rows; for the skip
of a residual block, the rows from the block's input row to its output row). Tensors read
after the region, and the region's inputs, stay whole in the arena.

The window of a tensor holds a contiguous run of its rows, so every kernel reads a band of
rows through one pointer (the existing kernels, given the band's height and its leading
padding, compute bit-identical rows: taps outside the band are the taps outside the tensor).
When the window is full, the rows still needed move to its start (one memmove); the
capacity is the most rows held at any time, found by simulating the schedule first.

`schedule(row_ops, windowed)` returns the events the firmware executes (compiled by
rnnedge.firmware_sim.fused): ("row", k, y, inputs, out_slot) computes output row y of row op
k, `inputs` giving for each input (tensor, first row, end row, window slot or None for a
whole tensor) and `out_slot` the output's window slot (None: the whole tensor); ("shift",
tensor, from slot, rows) moves rows of a window to its start; ("fetch", tensor, row, slot)
pulls graph input row `row` from the input callback (`stream_input`: the graph input is then a
window too and takes no arena space for the whole image), or, for a staged region input of
column tiles (fused_tiles.py: the region run once per column tile, halos recomputed), copies
the tile's columns of that row from the arena.

Regions are chosen by bytes saved (planner/plan.py): each maximal run is tried, and kept only
when the whole plan gets smaller. Works on rnnedge.tflite.model objects; imports numpy and
this package's fused_pad module (the padding geometry is TFLite's, restated there and here
so the planner stays independent of the kernels).
"""

from dataclasses import dataclass

from rnnedge.planner.fused_pad import explicit_padding

WINDOWED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")
ROWWISE_OPS = ("ADD",)


@dataclass(frozen=True)
class RowOp:
    """One operator (with its fused PAD) as row geometry: output row y reads rows
    [y*stride - top, y*stride - top + extent) of each input, clipped to [0, in_height)."""

    ops: tuple
    opcode: str
    inputs: tuple
    output: int
    stride: int
    top: int
    extent: int
    in_height: int
    out_height: int
    stride_w: int = 1  # the same along W (column tiles, fused_tiles.py)
    left: int = 0
    extent_w: int = 1
    in_width: int = 0
    out_width: int = 0

    def columns(self, a: int, b: int) -> tuple:
        """(first, end) of the input columns output columns [a, b) read, clipped."""
        first = min(max(a * self.stride_w - self.left, 0), self.in_width)
        return first, min(self.in_width, max((b - 1) * self.stride_w - self.left
                                             + self.extent_w, first))

    def rows(self, y: int) -> tuple:
        """(first, end) of the input rows output row `y` reads."""
        start = y * self.stride - self.top
        first = min(max(start, 0), self.in_height)
        return first, min(self.in_height, max(start + self.extent, first))


@dataclass(frozen=True)
class Region:
    """A row-fused region: its operators in execution order, row ops, windowed tensors with
    their capacities (rows) and row bytes, the streamed graph input (or None), the events.
    `copied`: for an in-place depthwise region, its input, whose rows are fetched ("fetch"
    events) from the input's own arena bytes into a window before the output (over those
    bytes) clobbers them.
    `tiles` (planner/fused_tiles.py; empty: one tile of full width): per column tile,
    {tensor: (first, end) column}; the events run once per tile over those columns, windows
    hold rows of the tile's columns (row_bytes: of the widest tile); `staged`: whole region
    inputs a multi-row band reads, fetched from the arena into a window per tile (a band of
    a column range is not contiguous in the tensor); `recompute_macs`: the MACs the tiles'
    overlapping halos compute again."""

    ops: tuple
    row_ops: tuple
    windows: dict
    row_bytes: dict
    streamed: int | None
    events: tuple
    copied: int | None = None
    tiles: tuple = ()
    staged: tuple = ()
    recompute_macs: int = 0

    def window_bytes(self, t: int) -> int:
        """Bytes of tensor t's row window."""
        return self.windows[t] * self.row_bytes[t]


def _int8_nhwc(tensor) -> bool:
    return (tensor.dtype is not None and str(tensor.dtype) == "int8" and len(tensor.shape) == 4
            and int(tensor.shape[0]) == 1 and tensor.data is None and not tensor.is_variable
            and tensor.nbytes > 0)


def _leading(padding: str, size: int, extent: int, stride: int, n_out: int) -> int:
    """TFLite's leading padding (ComputePaddingWithOffset) for an output of n_out."""
    if padding == "VALID":
        return 0
    return max(0, (n_out - 1) * stride + extent - size) // 2


def row_op(subgraph, ops: tuple):
    """The RowOp of a step's operators `ops` ((op,) or (PAD, conv)), or None."""
    tensors = subgraph.tensors
    op = subgraph.operators[ops[-1]]
    if len(op.outputs) != 1 or not _int8_nhwc(tensors[op.outputs[0]]):
        return None
    y = tensors[op.outputs[0]]
    opt = op.options
    if op.opcode in ROWWISE_OPS and len(ops) == 1:
        ins = tuple(op.inputs[:2])
        if len(op.inputs) != 2 or min(ins) < 0 or ins[0] == ins[1] or \
                any(not _int8_nhwc(tensors[t]) or tuple(tensors[t].shape) != tuple(y.shape)
                    for t in ins):
            return None
        h, w = int(y.shape[1]), int(y.shape[2])
        return RowOp(tuple(ops), op.opcode, ins, op.outputs[0], 1, 0, 1, h, h, 1, 0, 1, w, w)
    if op.opcode not in WINDOWED_OPS or not op.inputs or op.inputs[0] < 0:
        return None
    source, top, left = op.inputs[0], None, None
    if len(ops) == 2:
        pad = subgraph.operators[ops[0]]
        padding = explicit_padding(subgraph, pad, op)
        if padding is None:
            return None
        source, top, left = pad.inputs[0], padding[0][0], padding[1][0]
    elif len(ops) != 1:
        return None
    x = tensors[source]
    if not _int8_nhwc(x):
        return None
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        if len(op.inputs) < 2 or tensors[op.inputs[1]].data is None or \
                len(tensors[op.inputs[1]].shape) != 4:
            return None
        k, d = int(tensors[op.inputs[1]].shape[1]), int(opt.get("dilation_h_factor", 1))
        kw, dw = int(tensors[op.inputs[1]].shape[2]), int(opt.get("dilation_w_factor", 1))
    else:
        k, d = int(opt.get("filter_height", 1)), 1
        kw, dw = int(opt.get("filter_width", 1)), 1
    stride, stride_w = int(opt.get("stride_h", 1)), int(opt.get("stride_w", 1))
    if min(k, d, stride, kw, dw, stride_w) <= 0:
        return None
    extent, extent_w = (k - 1) * d + 1, (kw - 1) * dw + 1
    h, n_out = int(x.shape[1]), int(y.shape[1])
    w, w_out = int(x.shape[2]), int(y.shape[2])
    padding = str(opt.get("padding", "SAME")).upper()
    if top is None:
        top = _leading(padding, h, extent, stride, n_out)
        left = _leading(padding, w, extent_w, stride_w, w_out)
    return RowOp(tuple(ops), op.opcode, (source,), op.outputs[0], stride, top, extent, h, n_out,
                 stride_w, left, extent_w, w, w_out)


def step_row_ops(subgraph, step: tuple):
    """Row ops of one inplace step ((op,), (PAD, conv), (conv, ADD), (PAD, conv, ADD)), or
    None when some operator of the step cannot run row by row."""
    ops = subgraph.operators
    if len(step) > 1 and ops[step[-1]].opcode == "ADD" and ops[step[-2]].opcode != "PAD":
        head, add = step[:-1], step[-1:]
        parts = [row_op(subgraph, head), row_op(subgraph, add)]
    else:
        parts = [row_op(subgraph, tuple(step))]
    return None if None in parts else parts


def row_bytes(subgraph, t: int) -> int:
    """Bytes of one row of 4-D tensor t (W x C int8)."""
    shape = subgraph.tensors[t].shape
    return int(shape[2]) * int(shape[3])


def schedule(row_ops, windowed, streamed=None, capacity=None, staged=()):
    """(events, capacity): the demand-driven row schedule of `row_ops` (execution order) and
    the most rows each windowed tensor holds; with `capacity` given, windows of that size
    shift their live rows to the start when full (see module docstring). `staged`: more
    windowed region inputs whose rows are fetched (from the arena) like the streamed one."""
    fetched = set(staged) | ({streamed} if streamed is not None else set())
    producer = {ro.output: k for k, ro in enumerate(row_ops)}
    consumers = {}
    for k, ro in enumerate(row_ops):
        for t in ro.inputs:
            consumers.setdefault(t, []).append(k)
    heights = {ro.output: ro.out_height for ro in row_ops}
    for t in fetched:
        heights[t] = next(ro.in_height for ro in row_ops if t in ro.inputs)
    produced = {t: 0 for t in heights}
    base = {t: 0 for t in windowed}
    need = {t: 0 for t in windowed}
    next_row = [0] * len(row_ops)
    events = []

    def low(t):
        firsts = [row_ops[k].rows(next_row[k])[0] for k in consumers.get(t, ())
                  if next_row[k] < row_ops[k].out_height]
        return min(firsts, default=produced[t])

    def make(t):
        """Produce the next row of tensor t (computing the inputs it needs first)."""
        r = produced[t]
        ins = []
        if t not in fetched:
            k = producer[t]
            ro = row_ops[k]
            first, end = ro.rows(r)
            for u in ro.inputs:
                while u in produced and produced[u] < end:
                    make(u)
            for u in ro.inputs:
                ins.append((u, first, end, first - base[u] if u in windowed else None))
        slot = None
        if t in windowed:
            lo = min(low(t), r)
            need[t] = max(need[t], r + 1 - lo)
            if capacity is not None and r - base[t] >= capacity[t]:
                events.append(("shift", t, lo - base[t], r - lo))
                base[t] = lo
            slot = r - base[t]
        if t in fetched:
            events.append(("fetch", t, r, slot))
        else:
            events.append(("row", producer[t], r, tuple(ins), slot))
            next_row[producer[t]] += 1
        produced[t] += 1

    sinks = [k for k, ro in enumerate(row_ops) if ro.output not in windowed]
    while True:
        todo = [k for k in sinks if produced[row_ops[k].output] < row_ops[k].out_height]
        if not todo:
            break
        k = min(todo, key=lambda j: (produced[row_ops[j].output] / row_ops[j].out_height, j))
        make(row_ops[k].output)
    return tuple(events), need


def build_region(subgraph, steps, streamed=None):
    """The Region of consecutive inplace `steps`, or None when it saves nothing (no tensor
    can be windowed). `streamed` is the graph input to pull row by row, if any."""
    row_ops = []
    for step in steps:
        parts = step_row_ops(subgraph, step)
        if parts is None:
            return None
        row_ops.extend(parts)
    ops = tuple(i for step in steps for i in step)
    inside = set(ops)
    produced = set()
    for ro in row_ops:  # a chain in execution order: inputs made before, each output once
        if ro.output in produced or ro.output in ro.inputs or ro.output in subgraph.inputs or \
                any(t not in produced and t in {r.output for r in row_ops} for t in ro.inputs):
            return None
        produced.add(ro.output)
    outputs = set(subgraph.outputs)
    readers = {}
    for op in subgraph.operators:
        for t in op.inputs:
            if t >= 0:
                readers.setdefault(t, set()).add(op.index)
    # the PAD outputs are never read once fused; their readers are the convs in the region
    windowed = {t for t in produced if t not in outputs and readers.get(t, set()) <= inside
                and readers.get(t)}
    if streamed is not None and not (readers.get(streamed, set()) <= inside
                                     and any(streamed in ro.inputs for ro in row_ops)):
        streamed = None
    if streamed is not None:
        windowed.add(streamed)
    if not windowed - {streamed} and streamed is None:
        return None
    _, need = schedule(row_ops, windowed, streamed)
    events, _ = schedule(row_ops, windowed, streamed, need)
    return Region(ops, tuple(row_ops), dict(need), {t: row_bytes(subgraph, t) for t in windowed},
                  streamed, events)


def inplace_depthwise(subgraph, step, readers):
    """The in-place DEPTHWISE_CONV_2D region of inplace step `step` ((dw,) or (PAD, dw)), or
    None: an int8 depthwise conv whose input is read by it alone (so it dies there), is no
    graph input or output, and whose output is at most the input's bytes and never
    overtakes the input rows still to be fetched (`clobbers`)."""
    parts = step_row_ops(subgraph, step)
    if parts is None or len(parts) != 1 or parts[0].opcode != "DEPTHWISE_CONV_2D":
        return None
    ro = parts[0]
    x, y = ro.inputs[0], ro.output
    tensors = subgraph.tensors
    if (x == y or readers.get(x, set()) - set(step) or x in subgraph.inputs or x in subgraph.outputs
            or y in subgraph.outputs or tensors[y].nbytes > tensors[x].nbytes):
        return None
    _, need = schedule(parts, {x}, x)
    events, _ = schedule(parts, {x}, x, need)
    region = Region(tuple(step), tuple(parts), dict(need), {x: row_bytes(subgraph, x)}, None,
                    events, copied=x)
    return None if clobbers(region, 0, 0, row_bytes(subgraph, y)) else region


def clobbers(region, x_offset: int, y_offset: int, out_row_bytes: int):
    """For an in-place depthwise region whose input lives at byte `x_offset` and output at
    `y_offset`: the first (output row, input row) where writing the output row overwrites
    an input row not fetched yet, or None when the events never do."""
    x = region.copied
    rb = region.row_bytes[x]
    fetched = 0
    for event in region.events:
        if event[0] == "fetch":
            fetched = event[2] + 1
        elif event[0] == "row":
            y = event[2]
            lo, hi = y_offset + y * out_row_bytes, y_offset + (y + 1) * out_row_bytes
            first = max(fetched, (lo - x_offset) // rb)
            last = (hi - 1 - x_offset) // rb
            height = region.row_ops[0].in_height
            if first <= min(last, height - 1) and hi > x_offset and lo < x_offset + height * rb:
                return y, first
    return None


def candidate_runs(subgraph, steps) -> list:
    """Maximal runs [start, end) of inplace steps that can all run row by row (2 or more
    steps, or one step holding two row ops: a conv fused with its ADD)."""
    runs, start = [], None
    ok = [step_row_ops(subgraph, s) is not None for s in steps] + [False]
    for p, good in enumerate(ok):
        if good and start is None:
            start = p
        elif not good and start is not None:
            if p - start >= 2:
                runs.append((start, p))
            start = None
    return runs
