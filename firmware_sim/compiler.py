"""Compile an int8 or int16x8 .tflite and an arena plan into a firmware program (program.py).

`compile_model(model, planner)` walks the plan's steps, prepares each operator's kernel
(operators.py), places its operands (arena offsets, flash constants, the row scratch) and
returns the `Program` (program.py) that the runtime and the code generator execute.

The plan's in-place rules (rnnedge.planner.inplace) are honoured, and any other overlap of
an operator's inputs and outputs is refused with an error naming the operator:
  view                RESHAPE/SQUEEZE/EXPAND_DIMS over its input: the copy kernel skips it.
  elementwise         a kernel of an op the op table marks "over_input" writing over an input
                      of the same bytes.
  concat_in_output,   CONCATENATION inputs already in their slice of the output, and SPLIT
  concat_run,         outputs already in their slice of the input, are not copied; the other
  split_view          slices are copied (rn_reshape byte copies).
  fused_residual_add  CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED + ADD run as one step, one
                      output row at a time: the conv row goes to the row scratch buffer the
                      inplace plan reserves for the step (for other plans: a gap of the arena
                      free at that step, else a separate buffer counted in `scratch`),
                      then ADD writes the row of the output, possibly over the skip input.
  row-fused region    a step of the fused planner's region runs its row schedule (fused.py).
  fused_pad           a step (PAD, conv) or (PAD, conv, ADD): the conv kernel gets the PAD's
                      input and explicit padding offsets (rnnedge.planner.fused_pad) and skips
                      the out-of-bounds taps, which equals reading the zero-point padding, so
                      the padded tensor is never written.
Shape-arithmetic operators are evaluated at compile time (folding.py), except those writing a
graph output, which run (SHAPE has a kernel).

Imports numpy, dataclasses, rnnedge.errors, rnnedge.budget, rnnedge.tflite, rnnedge.planner,
rnnedge.kernels, rnnedge.op_table (MACs, in-place capabilities) and this package's program,
operators, folding and fused modules.
"""

from dataclasses import replace

import numpy as np

from rnnedge.budget import check_bytes, default_max_arena
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim import operators
from rnnedge.firmware_sim.batch_shapes import resolve_block_batches
from rnnedge.firmware_sim.control import Subgraphs
from rnnedge.firmware_sim.folding import fold
from rnnedge.firmware_sim.fused import compile_region
from rnnedge.firmware_sim.runnable import check_runnable
from rnnedge.firmware_sim.program import (CTYPES, NULL, Call, Constant, Port, Program, Ref, Step,
                                          Variable)
from rnnedge.kernels import ops as kernel_ops
from rnnedge.kernels import structs
from rnnedge.op_table import info, op_macs
from rnnedge.planner import plan as make_plan
from rnnedge.planner.fused_pad import explicit_padding
from rnnedge.planner.lifetimes import ALIGNMENT, KERNEL_SCRATCH, ROW_SCRATCH, tensor_lifetimes
from rnnedge.planner.subgraphs import tensor_base
from rnnedge.tflite import Model, read_model


WEIGHTED = (kernel_ops.Conv2D, kernel_ops.DepthwiseConv2D, kernel_ops.FullyConnected,
            kernel_ops.TransposeConv)  # (data, filter, bias, output) kernels
_C_TYPE_OF = {structs.P_I8: "int8_t", structs.P_I16: "int16_t", structs.P_I32: "int32_t",
              structs.P_I64: "int64_t", structs.P_F32: "float"}


def _typed(call: Call) -> Call:
    """`call` with each pointer Ref typed as its C parameter (structs.SIGNATURES): an int16
    tensor moved by a byte kernel is passed as int8_t *, one read by a 16x8 kernel as
    int16_t *."""
    signature = structs.SIGNATURES.get(call.entry)
    if signature is None:
        return call
    def typed(arg, ctype):
        if isinstance(arg, tuple):  # an array of pointers: int8_t * (CONCATENATION, SPLIT)
            return tuple(typed(r, "int8_t" if ctype == structs.P_P_I8 else None) for r in arg)
        if arg.space == "null" or ctype is None:
            return arg
        return replace(arg, ctype=ctype if isinstance(ctype, str) else
                       _C_TYPE_OF.get(ctype, arg.ctype))
    args = tuple(typed(a, t) for a, t in zip(call.args, signature[1]))
    return Call(call.entry, call.params, args)


def _overlap(a: Ref, b: Ref) -> bool:
    """True when two arena Refs share a byte."""
    return (a.space == b.space == "arena" and a.nbytes > 0 and b.nbytes > 0
            and a.offset < b.offset + b.nbytes and b.offset < a.offset + a.nbytes)


def _same(a: Ref, b: Ref) -> bool:
    """True when two Refs cover exactly the same bytes."""
    return a.space == b.space and a.offset == b.offset and a.nbytes == b.nbytes


class _Builder:
    """Accumulates steps and constants while walking the plan."""

    def __init__(self, model, plan, lib):
        """Fold the shape arithmetic; start with no steps or constants. `sgi` is the subgraph
        being compiled (control.py switches it), `bases` TFLM's global id of each subgraph's
        tensor 0 (the plan's keys), `prefix` the step-name prefix of the subgraph."""
        self.model, self.sg, self.plan, self.lib = model, model.main, plan, lib
        self.sgi, self.prefix = 0, ""
        self.bases = tensor_base(model)
        self.values, self.folded = fold(self.sg)
        self.constants, self.const_index = [], {}
        self.steps, self.keep = [], []
        self.scratch = 0
        self.row_buffers = {b.op: b for b in plan.buffers
                            if b.kind == ROW_SCRATCH}
        self.variables = {}

    # -- operands -------------------------------------------------------------------------
    def flash(self, key, array, name) -> Ref:
        """A flash Ref for `array` (deduplicated by `key` within the current subgraph)."""
        key = (self.sgi, key)
        if key not in self.const_index:
            data = np.ascontiguousarray(array)
            self.const_index[key] = len(self.constants)
            self.constants.append(Constant(name, data))
        data = self.constants[self.const_index[key]].data
        return Ref("flash", self.const_index[key], data.nbytes, CTYPES[data.dtype])

    def ref(self, t: int, where: str, subgraph: int | None = None) -> Ref:
        """The Ref of tensor `t` of the current subgraph (or of `subgraph`): a flash constant,
        a variable, or its arena placement."""
        index = self.sgi if subgraph is None else subgraph
        tensor = self.model.subgraphs[index].tensors[t]
        if tensor.data is not None:
            return self.flash(("tensor", index, t), np.asarray(tensor.data), tensor.name)
        if tensor.is_variable:
            return self.variable(t, index)
        if self.bases[index] + t not in self.plan.tensor_offsets:
            raise RnnedgeError(f"{where}: the plan gives tensor {tensor.name} no arena offset")
        return Ref("arena", int(self.plan.tensor_offsets[self.bases[index] + t]), tensor.nbytes,
                   CTYPES.get(tensor.dtype, "int8_t"))

    def variable(self, t: int, subgraph: int = 0) -> Ref:
        """The Ref of VARIABLE tensor `t` (of `subgraph`) in the variable buffer (placed on
        first use, 16-byte aligned); a reset fills it with the int8 zero point, else 0, as
        TFLM does."""
        tensor = self.model.subgraphs[subgraph].tensors[t]
        q = tensor.quantization
        zero = int(q.zero_points[0]) if tensor.type_name == "INT8" and q is not None \
            and len(q.zero_points) else 0
        v = self.allocate(("tensor", subgraph, t), t, tensor.name, tensor.nbytes, zero & 0xFF)
        return Ref("variable", v.offset, v.nbytes, CTYPES.get(tensor.dtype, "int8_t"))

    def allocate(self, key, tensor: int, name: str, nbytes: int, fill: int) -> Variable:
        """The Variable of `key`, placed (16-byte aligned) in the variable buffer on first
        use."""
        if key not in self.variables:
            offset = -(-max((v.offset + v.nbytes for v in self.variables.values()),
                            default=0) // ALIGNMENT) * ALIGNMENT
            self.variables[key] = Variable(tensor, name, offset, nbytes, fill)
        return self.variables[key]

    def weights(self, op, kernel) -> tuple:
        """(filter, bias) flash Refs of a conv / fully-connected / transpose-conv kernel (the
        bias at the op table's `bias` position, as the kernel holds it: int32 or int64)."""
        filt = self.flash(("filter", op.inputs[1]), kernel.filter,
                          self.sg.tensors[op.inputs[1]].name)
        if kernel.bias is None:
            return filt, NULL
        position = info(op.opcode).bias
        return filt, self.flash(("bias", op.inputs[position], kernel.bias.dtype.name),
                                kernel.bias, self.sg.tensors[op.inputs[position]].name)

    # -- steps ----------------------------------------------------------------------------
    def fused_pad(self, pad_index: int, conv_index: int) -> tuple:
        """(PAD input tensor, explicit padding) for the conv `conv_index` that the plan fuses
        with the PAD `pad_index` (operators.prepare's `fused_pad` argument)."""
        pad, conv = self.sg.operators[pad_index], self.sg.operators[conv_index]
        padding = explicit_padding(self.sg, pad, conv)
        if padding is None:
            raise RnnedgeError(f"ops {pad_index}+{conv_index} {pad.opcode}+{conv.opcode}: the "
                               "plan fuses a PAD that the conv cannot take as explicit padding")
        operators.prepare(pad, self.sg, self.lib, self.values)  # validates the PAD itself
        return pad.inputs[0], padding

    def single(self, i: int, scope: int, pad: int | None = None) -> None:
        """Schedule operator `i` (running in planner scope `scope`), with the fused PAD
        operator `pad` when given."""
        op = self.sg.operators[i]
        where = f"{self.prefix}op {i} {op.opcode}" if pad is None else \
            f"ops {pad}+{i} PAD+{op.opcode}"
        fused_pad = None if pad is None else self.fused_pad(pad, i)
        prep = operators.prepare(op, self.sg, self.lib, self.values, fused_pad=fused_pad)
        kernel = prep.kernel
        self.keep.append(kernel)
        ins = [self.ref(t, where) for t in prep.data]
        outs = [self.ref(t, where) for t in prep.outputs]
        for t, r in zip(prep.outputs, outs):
            if r.space != "arena":
                raise RnnedgeError(f"{where}: output {self.sg.tensors[t].name} is a constant")
        for a in range(len(outs)):
            for b in range(a + 1, len(outs)):
                if _overlap(outs[a], outs[b]):
                    raise RnnedgeError(f"{where}: the plan overlaps two outputs")
        if kernel.entry == "rn_concatenation":  # also PACK and int16 (Int16Bytes) concats
            calls = self._slices(where, kernel, prep.data, ins, outs[0], gather=True)
        elif kernel.entry == "rn_split":  # also UNPACK and int16 (Int16Bytes) splits
            calls = self._slices(where, kernel, prep.outputs, outs, ins[0], gather=False)
        else:
            self._check_alias(where, op.opcode, prep, ins, outs)
            if isinstance(kernel, WEIGHTED):
                args = (ins[0], *self.weights(op, kernel), outs[0])
            elif hasattr(kernel, "state_shapes"):  # recurrent: constants, states, scratch
                consts = [NULL if a is None else self.flash(("op", i, name), a,
                                                            f"op{i} {op.opcode} {name}")
                          for name, a in kernel.constants]
                scratch = replace(self._row_scratch(i, kernel.scratch_nbytes, scope, own=True),
                                  ctype=CTYPES[kernel.scratch_dtype])
                args = (ins[0], *consts, *ins[1:], scratch, outs[0])
            elif getattr(kernel, "input_pointer_array", False):  # ADD_N
                args = (tuple(ins), outs[0])
            else:
                args = (*ins, outs[0])
            calls = [Call(kernel.entry, kernel.params, args)]
        ops = (i,) if pad is None else (pad, i)
        self._add_step(where, ops, calls, prep.data, prep.outputs, scope)

    def _check_alias(self, where, opcode, prep, ins, outs) -> None:
        """Refuse input/output overlaps the kernel cannot run in place."""
        for t, r in zip(prep.data, ins):
            for o in outs:
                if not _overlap(r, o):
                    continue
                if _same(r, o) and info(opcode).inplace & {"over_input", "view"}:
                    continue
                raise RnnedgeError(f"{where}: the plan overlaps its output with input "
                                   f"{self.sg.tensors[t].name} in a way this kernel cannot "
                                   "run in place")

    def _slices(self, where, kernel, parts, refs, whole, gather) -> list:
        """CONCATENATION (`gather`: the `refs` of tensors `parts` into `whole`) or SPLIT
        (`whole` into `refs`), honouring parts the plan already placed in their slice of the
        whole tensor (concat_in_output, concat_run, split_view): those are not copied, the
        others are copied with rn_reshape byte copies, or the whole op runs when none is."""
        placed, start = [], 0
        for t, r in zip(parts, refs):
            slice_ref = Ref("arena", whole.offset + start, r.nbytes)
            if _same(r, slice_ref) and kernel.params.outer_size == 1:
                placed.append(True)
            elif _overlap(r, whole):
                raise RnnedgeError(f"{where}: the plan overlaps {self.sg.tensors[t].name} "
                                   "with the whole tensor outside its slice")
            else:
                placed.append(False)
            start += r.nbytes
        if not any(placed):
            args = (tuple(refs), whole) if gather else (whole, tuple(refs))
            return [Call(kernel.entry, kernel.params, args)]
        calls, start = [], 0
        for r, done in zip(refs, placed):
            if not done and r.nbytes:
                copy = kernel_ops.Reshape((r.nbytes,), (r.nbytes,), lib=self.lib)
                self.keep.append(copy)
                part = Ref("arena", whole.offset + start, r.nbytes)
                calls.append(Call(copy.entry, copy.params, (r, part) if gather else (part, r)))
            start += r.nbytes
        return calls

    def fused(self, j: int, k: int, scope: int, pad: int | None = None) -> None:
        """CONV/DW/FC op `j` fused with the ADD op `k` (see module docstring), and with the
        PAD op `pad` before it when given."""
        conv, add = self.sg.operators[j], self.sg.operators[k]
        where = f"ops {j}+{k} {conv.opcode}+ADD" if pad is None else \
            f"ops {pad}+{j}+{k} PAD+{conv.opcode}+ADD"
        y = conv.outputs[0]
        if y not in add.inputs[:2] or conv.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D",
                                                           "FULLY_CONNECTED"):
            raise RnnedgeError(f"{where}: the plan fuses operators that are not a conv "
                               "feeding an ADD")
        y_first = add.inputs[0] == y
        skip = add.inputs[1] if y_first else add.inputs[0]
        fused_pad = None if pad is None else self.fused_pad(pad, j)
        prep = operators.prepare(conv, self.sg, self.lib, self.values, fused_pad=fused_pad)
        operators.prepare(add, self.sg, self.lib, self.values)  # validates the ADD itself
        kernel = prep.kernel
        self.keep.append(kernel)
        x, s, o = (self.ref(t, where) for t in (prep.data[0], skip, add.outputs[0]))
        yt, ot = self.sg.tensors[y], self.sg.tensors[add.outputs[0]]
        if yt.shape != ot.shape or self.sg.tensors[skip].shape != ot.shape or s.space != "arena":
            raise RnnedgeError(f"{where}: a fused ADD needs conv output, skip and output of "
                               "one shape, the skip in the arena")
        if _overlap(x, o) or (_overlap(s, o) and not _same(s, o)):
            raise RnnedgeError(f"{where}: the plan overlaps the fused output with the conv "
                               "input, or with the skip input only partly")
        filt, bias = self.weights(conv, kernel)
        rows = self._rows(conv, kernel, x)
        row_bytes = rows[0][2] if rows else 0
        scratch = self._row_scratch(j, row_bytes, scope)
        qs = [operators.tensor_quant(self.sg.tensors[t], where) for t in add.inputs[:2]]
        row_add = kernel_ops.Add((row_bytes,), (row_bytes,), qs[0], qs[1],
                        operators.tensor_quant(ot, where),
                        activation=add.options.get("fused_activation_function", "NONE"),
                        lib=self.lib)
        self.keep.append(row_add)
        calls = []
        for index, (params, x_row, nbytes) in enumerate(rows):
            s_row = Ref("arena", s.offset + index * nbytes, nbytes)
            o_row = Ref("arena", o.offset + index * nbytes, nbytes)
            calls.append(Call(kernel.entry, params, (x_row, filt, bias, scratch)))
            pair = (scratch, s_row) if y_first else (s_row, scratch)
            calls.append(Call(row_add.entry, row_add.params, (*pair, o_row)))
        ops = (j, k) if pad is None else (pad, j, k)
        self._add_step(where, ops, calls, (prep.data[0], skip), (add.outputs[0],), scope)

    def _rows(self, conv, kernel, x: Ref) -> list:
        """[(params, input Ref, output row bytes)] computing one output row per call."""
        p, cache, rows = kernel.params, {}, []
        struct = type(p)

        def variant(**fields):
            """A copy of the conv params with `fields` changed (cached)."""
            key = tuple(sorted(fields.items()))
            if key not in cache:
                q = struct.from_buffer_copy(p)
                for name, value in fields.items():
                    setattr(q, name, value)
                cache[key] = q
            return cache[key]

        if conv.opcode == "FULLY_CONNECTED":
            for r in range(p.batches):
                rows.append((variant(batches=1), Ref("arena", x.offset + r * p.accum_depth,
                                                     p.accum_depth), p.output_depth))
            return rows
        row_in = p.input_width * p.input_depth
        effective = (p.filter_height - 1) * p.dilation_height + 1
        for n in range(p.batches):
            for r in range(p.output_height):
                top = r * p.stride_height - p.pad_height
                first = min(max(top, 0), p.input_height)
                last = min(p.input_height, max(top + effective, first))
                params = variant(batches=1, output_height=1, input_height=last - first,
                                 pad_height=first - top)
                x_row = Ref("arena", x.offset + (n * p.input_height + first) * row_in,
                            (last - first) * row_in)
                rows.append((params, x_row, p.output_width * p.output_depth))
        return rows

    def _row_scratch(self, conv: int, nbytes: int, scope: int, own: bool = False) -> Ref:
        """The plan's row scratch buffer of fused conv `conv` (inplace plans have one), else a
        region of `nbytes` free in the arena during `scope` (`own`: the kernel scratch the plan
        reserves for operator `conv` counts as free, for the kernel's own use), else the
        separate row scratch."""
        row = self.row_buffers.get(conv)
        if row is not None and row.nbytes >= nbytes:
            return Ref("arena", int(self.plan.buffer_offsets[row.id]), nbytes)
        busy = sorted((self.plan.buffer_offsets[b.id], self.plan.buffer_offsets[b.id] + b.size)
                      for b in self.plan.buffers if b.first <= scope <= b.last
                      and not (own and b.op == conv and b.kind == KERNEL_SCRATCH
                               and b.subgraph == self.sgi))
        start = 0
        for lo, hi in busy:
            if lo - start >= nbytes:
                break
            start = max(start, hi)
        if start + nbytes <= self.plan.arena:
            return Ref("arena", start, nbytes)
        self.scratch = max(self.scratch, nbytes)
        return Ref("scratch", 0, nbytes)

    def _add_step(self, name, ops, calls, reads, writes, scope) -> None:
        """Append a Step with its MACs (op_table.op_macs of its operators)."""
        macs = [op_macs(self.sg.operators[i], self.sg.tensors) for i in ops]
        arena_reads = tuple(t for t in reads if self.sg.tensors[t].data is None)
        calls = [_typed(call) for call in calls]
        self.steps.append(Step(name, tuple(ops), tuple(calls), arena_reads, tuple(writes),
                               None if None in macs else int(sum(macs)), scope))


def _check_plan(plan, model) -> None:
    """The plan schedules every operator once and keeps every tensor (of every subgraph, by
    TFLM's global id) inside the arena."""
    order = sorted(i for group in plan.steps for i in group)
    if order != list(range(len(model.main.operators))):
        raise RnnedgeError("the plan does not schedule every operator exactly once")
    tensors = [t for sg in model.subgraphs for t in sg.tensors]
    for t, offset in plan.tensor_offsets.items():
        if not 0 <= t < len(tensors):
            raise RnnedgeError(f"the plan places tensor id {t}, which the model lacks")
        nbytes = tensors[t].nbytes
        if offset < 0 or offset + nbytes > plan.arena:
            raise RnnedgeError(f"the plan puts tensor {tensors[t].name} at bytes "
                               f"[{offset}, {offset + nbytes}) outside the {plan.arena}-byte "
                               "arena")


def _port(sg, t, plan, kind) -> Port:
    """The Port of graph input/output tensor `t`."""
    tensor = sg.tensors[t]
    if kind == "input" and any(r.streamed == t for r in getattr(plan, "regions", ())):
        return Port(t, tensor.name, 0, tuple(tensor.shape), np.dtype(tensor.dtype), True)
    if tensor.dtype is None or t not in plan.tensor_offsets:
        raise RnnedgeError(f"graph {kind} {tensor.name} is not an arena tensor")
    return Port(t, tensor.name, int(plan.tensor_offsets[t]), tuple(tensor.shape),
                np.dtype(tensor.dtype))


def load_model(model) -> Model:
    """`model` as a parsed Model (accepts a Model, a path or the file's bytes), the blocks
    of a dynamic-batch SPACE_TO_BATCH_ND given their real batch (batch_shapes.py)."""
    if isinstance(model, Model):
        return resolve_block_batches(model)
    if isinstance(model, (bytes, bytearray)):
        return resolve_block_batches(read_model(bytes(model)))
    try:
        return resolve_block_batches(read_model(model))
    except OSError as exc:
        raise RnnedgeError(f"cannot read model {model}: {exc.strerror or exc}") from None


def compile_model(model, planner: str = "best", *, plan=None, lib=None,
                  reorder: bool = False, max_arena: int | None = None,
                  stream_input: bool = False, max_recompute: float = 0.0) -> Program:
    """Compile `model` (path, bytes or Model) with the arena `plan` (default: a fresh plan
    from `planner`) against the kernel library `lib` (default: rnnedge.kernels.load()).
    The arena plus row scratch must fit `max_arena` bytes (default: the machine-derived
    rnnedge.budget.default_max_arena()). `stream_input` (fused plans): the graph input is
    pulled row by row from the input source and takes no arena space; `max_recompute`
    (fused): the fraction of the model's MACs column tiles may compute again."""
    model = load_model(model)
    sg = model.main
    check_runnable(model)
    if lib is None:
        from rnnedge.kernels import load
        lib = load()
    if plan is None:
        plan = make_plan(model, planner, reorder=reorder, stream_input=stream_input,
                         max_recompute=max_recompute)
    _check_plan(plan, model)
    limit = default_max_arena() if max_arena is None else max_arena
    check_bytes(f"the {plan.planner} plan's arena", int(plan.arena), limit)
    builder = _Builder(model, plan, lib)
    flow = Subgraphs(builder)
    regions = plan.region_of
    for position, group in enumerate(plan.steps):
        scope = plan.scope_of_step(position)
        if sg.operators[group[0]].opcode in flow.HANDLED:
            flow.operator(group[0], scope)
            continue
        if group[0] in regions:
            compile_region(builder, regions[group[0]], scope)
            continue
        pad = None
        if len(group) > 1 and sg.operators[group[0]].opcode in ("PAD", "PADV2"):
            pad, group = group[0], group[1:]
        if len(group) > 2:
            raise RnnedgeError(f"the plan runs operators {list(group)} as one step; only a conv "
                               "fused with a PAD before it and/or its residual ADD can share "
                               "a step")
        if len(group) == 2:
            builder.fused(group[0], group[1], scope, pad)
        elif pad is not None or group[0] not in builder.folded or \
                set(sg.operators[group[0]].outputs) & set(sg.outputs):
            builder.single(group[0], scope, pad)  # a folded op whose output leaves runs too
    check_bytes("the arena plus row scratch", int(plan.arena) + builder.scratch, limit)
    life = tensor_lifetimes(sg, plan.steps) if len(model.subgraphs) == 1 else {
        b.tensor: (b.first, b.last) for b in plan.buffers
        if b.tensor is not None and b.subgraph == 0}
    touched = {t for s in builder.steps for t in s.reads + s.writes} | set(sg.inputs)
    placement = {t: (int(plan.tensor_offsets[t]), sg.tensors[t].nbytes) for t in touched
                 if t in plan.tensor_offsets}
    return Program(model=model, plan=plan, arena=int(plan.arena), scratch=builder.scratch,
                   steps=tuple(builder.steps), constants=tuple(builder.constants),
                   inputs=tuple(_port(sg, t, plan, "input") for t in sg.inputs),
                   outputs=tuple(_port(sg, t, plan, "output") for t in sg.outputs),
                   placement=placement,
                   lifetimes={t: tuple(life[t]) for t in placement if t in life},
                   keep=tuple(builder.keep), variables=tuple(builder.variables.values()),
                   subgraphs=flow.steps(), once_flags=flow.flags)
