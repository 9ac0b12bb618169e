"""Compile a row-fused region (rnnedge.planner.fused) into kernel calls.

A region's step runs the planner's row schedule: each "row" event is one call of the
operator's own prepared kernel (operators.prepare, so the integer parameters are TFLM's)
with the params of a one-row output over the band of input rows it reads (batches 1,
output_height 1, input_height = the band's rows, pad_height = the rows of the band that lie
in the padding), the input pointer at the band's first row (in the tensor, or in its row
window) and the output pointer at the row (in the tensor, or in its window slot). Taps
outside the band are exactly the taps outside the tensor, which a TFLM-style kernel skips,
so every row is bit-identical to the whole-tensor kernel's. ADD rows use an ADD kernel over
one row of the same quantisation. A region with column tiles (Region.tiles) runs its events
once per tile: windows then hold rows of the tile's columns, a kernel gets the tile's input
width, output width and pad_width = (first input column held) - (first output column x
stride - leading padding), which may be negative (every tap lies in the held columns or
outside the tensor, as with the whole-tensor kernel), whole outputs get the tile's slice of each row,
and "fetch" events copy the tile's columns of an input row (streamed, or staged from the
arena). A "shift" event is one rn_reshape (memmove) moving the
rows still needed to the window's start; a "fetch" event copies one graph input row from the
input source (Ref space "input": the host buffer, or the C firmware's input callback) into
the input's window, or, for an in-place depthwise conv, one input row from the arena into
the window before the output rows written over the input reach it (checked here against
the plan's offsets with planner.fused.clobbers).

Imports rnnedge.errors, rnnedge.kernels, rnnedge.planner.fused and this package's program
and operators modules.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim import operators
from rnnedge.firmware_sim.program import Call, Ref
from rnnedge.kernels import ops as kernel_ops
from rnnedge.planner.fused import clobbers


class _Variants:
    """Copies of one params struct with some fields changed, cached by the changes."""

    def __init__(self, params):
        self.params, self.cache = params, {}

    def __call__(self, **fields):
        key = tuple(sorted(fields.items()))
        if key not in self.cache:
            q = type(self.params).from_buffer_copy(self.params)
            for name, value in fields.items():
                setattr(q, name, value)
            self.cache[key] = q
        return self.cache[key]


def _kernels(builder, region, where):
    """Per row op: (kernel, variants or None, weights or None)."""
    sg, out = builder.sg, []
    for ro in region.row_ops:
        op = sg.operators[ro.ops[-1]]
        fused_pad = builder.fused_pad(ro.ops[0], ro.ops[1]) if len(ro.ops) == 2 else None
        prep = operators.prepare(op, sg, builder.lib, builder.values, fused_pad=fused_pad)
        kernel = prep.kernel
        builder.keep.append(kernel)
        if ro.opcode == "ADD":  # compile_region makes a row ADD per width
            out.append((None, None, None))
            continue
        p = kernel.params
        if p.pad_height != ro.top or p.batches != 1 or p.input_height != ro.in_height \
                or p.output_height != ro.out_height or (region.tiles and (
                    p.pad_width != ro.left or p.input_width != ro.in_width
                    or p.output_width != ro.out_width)):
            raise RnnedgeError(f"{where}: op {op.index} {op.opcode}: the kernel's row geometry "
                               "differs from the plan's")
        weights = builder.weights(op, kernel) if ro.opcode in ("CONV_2D",
                                                               "DEPTHWISE_CONV_2D") else None
        out.append((kernel, _Variants(p), weights))
    return out


def compile_region(builder, region, scope: int) -> None:
    """Append the step of `region` (running in planner scope `scope`) to `builder`: its row
    events once, or once per column tile (Region.tiles) over the tile's columns."""
    sg, plan = builder.sg, builder.plan
    where = f"ops {region.ops[0]}..{region.ops[-1]} row-fused"
    windows = plan.window_offsets
    kernels = _kernels(builder, region, where)
    shape = {t: (int(sg.tensors[t].shape[2]), int(sg.tensors[t].shape[3]))
             for ro in region.row_ops for t in ro.inputs + (ro.output,)}
    rb = {t: w * c for t, (w, c) in shape.items()}
    kept = {}

    def keep(key, make):
        if key not in kept:
            kept[key] = make()
            builder.keep.append(kept[key])
        return kept[key]

    def copy(nbytes):
        return keep(("copy", nbytes), lambda: kernel_ops.Reshape((nbytes,), (nbytes,),
                                                                 lib=builder.lib))

    def row_add(k, nbytes):
        ro, op = region.row_ops[k], sg.operators[region.row_ops[k].ops[-1]]
        qs = [operators.tensor_quant(sg.tensors[t], where) for t in ro.inputs]
        return keep(("add", k, nbytes), lambda: kernel_ops.Add(
            (nbytes,), (nbytes,), qs[0], qs[1], operators.tensor_quant(sg.tensors[ro.output],
                                                                      where),
            activation=op.options.get("fused_activation_function", "NONE"), lib=builder.lib))

    if region.copied is not None:
        x, y = region.copied, region.row_ops[0].output
        x_ref, y_ref = builder.ref(x, where), builder.ref(y, where)
        hit = clobbers(region, x_ref.offset, y_ref.offset, rb[y])
        if hit is not None:
            raise RnnedgeError(f"{where}: the in-place depthwise output row {hit[0]} "
                               f"overwrites input row {hit[1]} before it is read")
    calls = []
    for cols in region.tiles or (None,):
        def span(t):
            """(first column, width) of tensor t in this tile."""
            return (cols[t][0], cols[t][1] - cols[t][0]) if cols else (0, shape[t][0])

        def window(t, slot, count) -> Ref:
            """Ref of `count` rows of t's window from `slot` (rows of this tile's columns)."""
            if t not in windows:
                raise RnnedgeError(f"{where}: the plan gives {sg.tensors[t].name} no row window")
            stride = span(t)[1] * shape[t][1]
            if slot < 0 or slot + count > region.windows[t] or stride > region.row_bytes[t]:
                raise RnnedgeError(f"{where}: a row of {sg.tensors[t].name} lies outside its "
                                   "window")
            return Ref("arena", int(windows[t]) + slot * stride, count * stride)

        def whole(t, row, first=0, width=None) -> Ref:
            """Ref of row `row` of whole tensor t, columns [first, first + width)."""
            width = shape[t][0] if width is None else width
            offset = builder.ref(t, where).offset + row * rb[t] + first * shape[t][1]
            return Ref("arena", offset, width * shape[t][1])

        for event in region.events:
            if event[0] == "shift":
                _, t, start, count = event
                if count:
                    c = copy(count * span(t)[1] * shape[t][1])
                    calls.append(Call(c.entry, c.params, (window(t, start, count),
                                                          window(t, 0, count))))
                continue
            if event[0] == "fetch":
                _, t, r, slot = event
                first, width = span(t)
                nbytes = width * shape[t][1]
                c = copy(nbytes)
                source = Ref("input", r * rb[t] + first * shape[t][1], nbytes) \
                    if t == region.streamed else whole(t, r, first, width)
                calls.append(Call(c.entry, c.params, (source, window(t, slot, 1))))
                continue
            _, k, y, ins, slot = event
            ro = region.row_ops[k]
            kernel, variants, weights = kernels[k]
            a, width = span(ro.output)
            out = window(ro.output, slot, 1) if slot is not None else whole(ro.output, y, a, width)
            if variants is None:  # ADD: the same columns of the same row of both inputs
                bands = [window(t, s, 1) if s is not None else whole(t, first)
                         for t, first, end, s in ins]
                if cols:
                    bands = [Ref(b.space, b.offset + (a - span(t)[0]) * shape[t][1],
                                 width * shape[t][1]) if s is not None else
                             whole(t, first, a, width) for b, (t, first, end, s) in zip(bands, ins)]
                c = row_add(k, width * shape[ro.output][1])
                calls.append(Call(c.entry, c.params, (*bands, out)))
                continue
            t, first, end, s = ins[0]
            band = window(t, s, end - first) if s is not None else \
                Ref("arena", whole(t, first).offset, (end - first) * rb[t])
            fields = dict(batches=1, output_height=1, input_height=end - first,
                          pad_height=first - (y * ro.stride - ro.top))
            if cols:
                lo, in_width = span(t) if s is not None else (0, shape[t][0])
                fields.update(input_width=in_width, output_width=width,
                              pad_width=lo - (a * ro.stride_w - ro.left))
            args = (band, *weights, out) if weights is not None else (band, out)
            calls.append(Call(kernel.entry, variants(**fields), args))
    produced = {ro.output for ro in region.row_ops}
    reads = sorted({t for ro in region.row_ops for t in ro.inputs
                    if t not in produced and t not in region.windows})
    writes = sorted(t for t in produced if t not in region.windows)
    for t in reads + writes:
        builder.ref(t, where)  # every whole tensor has an arena offset
    builder._add_step(where, region.ops, calls, tuple(reads), tuple(writes), scope)
