"""Compile a row-fused region (rnnedge.planner.fused) into kernel calls.

A region's step runs the planner's row schedule: each "row" event is one call of the
operator's own prepared kernel (operators.prepare, so the integer parameters are TFLM's)
with the params of a one-row output over the band of input rows it reads (batches 1,
output_height 1, input_height = the band's rows, pad_height = the rows of the band that lie
in the padding), the input pointer at the band's first row (in the tensor, or in its row
window) and the output pointer at the row (in the tensor, or in its window slot). Taps
outside the band are exactly the taps outside the tensor, which a TFLM-style kernel skips,
so every row is bit-identical to the whole-tensor kernel's. ADD rows use an ADD kernel over
one row of the same quantisation. A "shift" event is one rn_reshape (memmove) moving the
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
        if ro.opcode == "ADD":
            nbytes = int(sg.tensors[ro.output].shape[2]) * int(sg.tensors[ro.output].shape[3])
            qs = [operators.tensor_quant(sg.tensors[t], where) for t in ro.inputs]
            row_add = kernel_ops.Add((nbytes,), (nbytes,), qs[0], qs[1],
                                     operators.tensor_quant(sg.tensors[ro.output], where),
                                     activation=op.options.get("fused_activation_function",
                                                               "NONE"), lib=builder.lib)
            builder.keep.append(row_add)
            out.append((row_add, None, None))
            continue
        p = kernel.params
        if p.pad_height != ro.top or p.batches != 1 or p.input_height != ro.in_height \
                or p.output_height != ro.out_height:
            raise RnnedgeError(f"{where}: op {op.index} {op.opcode}: the kernel's row geometry "
                               "differs from the plan's")
        weights = builder.weights(op, kernel) if ro.opcode in ("CONV_2D",
                                                               "DEPTHWISE_CONV_2D") else None
        out.append((kernel, _Variants(p), weights))
    return out


def compile_region(builder, region, scope: int) -> None:
    """Append the step of `region` (running in planner scope `scope`) to `builder`."""
    sg, plan = builder.sg, builder.plan
    where = f"ops {region.ops[0]}..{region.ops[-1]} row-fused"
    windows = plan.window_offsets
    kernels = _kernels(builder, region, where)
    rb = {t: int(sg.tensors[t].shape[2]) * int(sg.tensors[t].shape[3])
          for ro in region.row_ops for t in ro.inputs + (ro.output,)}
    copies = {}

    def rows(t, first, end, slot) -> Ref:
        """Ref of rows [first, end) of tensor t (whole tensor, or window `slot`)."""
        nbytes = (end - first) * rb[t]
        if slot is None:
            whole = builder.ref(t, where)
            return Ref("arena", whole.offset + first * rb[t], nbytes)
        if t not in windows:
            raise RnnedgeError(f"{where}: the plan gives {sg.tensors[t].name} no row window")
        if slot < 0 or slot + (end - first) > region.windows[t]:
            raise RnnedgeError(f"{where}: a row of {sg.tensors[t].name} lies outside its window")
        return Ref("arena", int(windows[t]) + slot * rb[t], nbytes)

    def copy(nbytes):
        if nbytes not in copies:
            copies[nbytes] = kernel_ops.Reshape((nbytes,), (nbytes,), lib=builder.lib)
            builder.keep.append(copies[nbytes])
        return copies[nbytes]

    if region.copied is not None:
        x, y = region.copied, region.row_ops[0].output
        x_ref, y_ref = builder.ref(x, where), builder.ref(y, where)
        hit = clobbers(region, x_ref.offset, y_ref.offset, rb[y])
        if hit is not None:
            raise RnnedgeError(f"{where}: the in-place depthwise output row {hit[0]} "
                               f"overwrites input row {hit[1]} before it is read")
    calls = []
    for event in region.events:
        if event[0] == "shift":
            _, t, start, count = event
            if count:
                c = copy(count * rb[t])
                calls.append(Call(c.entry, c.params, (rows(t, start, start + count, start),
                                                      rows(t, 0, count, 0))))
            continue
        if event[0] == "fetch":
            _, t, r, slot = event
            c = copy(rb[t])
            source = Ref("input", r * rb[t], rb[t]) if t != region.copied else \
                rows(t, r, r + 1, None)
            calls.append(Call(c.entry, c.params, (source, rows(t, r, r + 1, slot))))
            continue
        _, k, y, ins, slot = event
        ro = region.row_ops[k]
        kernel, variants, weights = kernels[k]
        out = rows(ro.output, y, y + 1, slot)
        bands = [rows(t, first, end, s) for t, first, end, s in ins]
        if variants is None:
            calls.append(Call(kernel.entry, kernel.params, (*bands, out)))
            continue
        first, end = ins[0][1], ins[0][2]
        params = variants(batches=1, output_height=1, input_height=end - first,
                          pad_height=first - (y * ro.stride - ro.top))
        args = (bands[0], *weights, out) if weights is not None else (bands[0], out)
        calls.append(Call(kernel.entry, params, args))
    produced = {ro.output for ro in region.row_ops}
    reads = sorted({t for ro in region.row_ops for t in ro.inputs
                    if t not in produced and t not in region.windows})
    writes = sorted(t for t in produced if t not in region.windows)
    for t in reads + writes:
        builder.ref(t, where)  # every whole tensor has an arena offset
    builder._add_step(where, region.ops, calls, tuple(reads), tuple(writes), scope)
