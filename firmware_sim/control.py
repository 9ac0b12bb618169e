"""Control flow (WHILE, IF, CALL_ONCE) and resource variables (VAR_HANDLE, ASSIGN_VARIABLE,
READ_VARIABLE) in the firmware program, as TFLM's kernels run them.

Every subgraph a control-flow operator calls is compiled once, as its own list of steps over
the one arena the planner laid out for all subgraphs (rnnedge.planner.subgraphs: TFLM's
lifetimes, so a subgraph's tensors never overlap the tensors of the operator that calls it
while they are live). The control-flow step holds a program.Control whose phases are byte
copies (rn_reshape calls), in TFLM's order (kernels/while.cc, if.cc, call_once.cc):

  WHILE      enter_cond: op inputs -> cond inputs; keep: op inputs -> op outputs; run cond;
             while its bool output holds: to_body: op outputs -> body inputs, run body,
             from_body: body outputs -> op outputs, to_cond: op outputs -> cond inputs, run
             cond.
  IF         input 0 (bool) picks then or else; then_in / else_in: op inputs 1.. -> branch
             inputs; run the branch; then_out / else_out: branch outputs -> op outputs.
             (TFLM stages both copies through persistent buffers because older plans could
             overlap the branch's tensors with the operator's; the unified plan cannot, so
             the direct copies give the same bytes.)
  CALL_ONCE  runs its subgraph on the first invocation only; a reset does not re-arm it
             (TFLM's has_run is set in Prepare only).

A resource variable (MicroResourceVariables) is one buffer per (container, shared_name)
that VAR_HANDLE names, sized by the first ASSIGN_VARIABLE's value and filled with that
value's int8 zero point (0 when it has no quantisation), in the program's variable buffer;
ASSIGN_VARIABLE copies the value in, READ_VARIABLE copies it out, and a reset refills it
(ResetAll). VAR_HANDLE itself makes no call: its handle is resolved at compile time.

Imports rnnedge.errors, rnnedge.control_flow (MACs), rnnedge.kernels.ops (the byte copy),
rnnedge.planner.subgraphs and this package's program and folding modules; the compiler's
builder is passed in.
"""

from contextlib import contextmanager
from dataclasses import replace

from rnnedge.control_flow import operator_macs
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.folding import fold
from rnnedge.firmware_sim.program import Call, Control, Ref, Step
from rnnedge.kernels import ops as kernel_ops
from rnnedge.planner.subgraphs import called_subgraphs, operator_scopes

CONTROL = ("WHILE", "IF", "CALL_ONCE")
RESOURCE = ("VAR_HANDLE", "ASSIGN_VARIABLE", "READ_VARIABLE")


class Subgraphs:
    """Compiles the control-flow and resource-variable operators of a model for the
    compiler's builder, and the subgraphs they call."""

    HANDLED = CONTROL + RESOURCE

    def __init__(self, builder):
        self.b, self.model = builder, builder.model
        self.compiled, self.flags = {}, 0
        self.handles = {}  # (subgraph, tensor) -> resource key
        self._scopes = None

    def steps(self) -> dict:
        """{subgraph index: its steps} of every compiled subgraph."""
        return dict(self.compiled)

    # -- operators ------------------------------------------------------------------------
    def operator(self, i: int, scope: int) -> None:
        """Compile operator `i` of the builder's current subgraph, running in `scope`."""
        b = self.b
        op = b.sg.operators[i]
        if op.opcode in CONTROL:
            self._control(op, scope)
        elif op.opcode in RESOURCE:
            self._resource(op, scope)
        elif i not in b.folded or set(op.outputs) & set(b.sg.outputs):
            b.single(i, scope)

    def _where(self, op) -> str:
        return f"{self.b.prefix}op {op.index} {op.opcode}"

    def _step(self, op, calls, scope, control=None, macs=0) -> None:
        sg = self.b.sg
        reads = tuple(t for t in op.inputs if t >= 0 and sg.tensors[t].data is None)
        self.b.steps.append(Step(self._where(op), (op.index,), tuple(calls), reads,
                                 tuple(op.outputs), macs, scope, control))

    def _copy(self, src: Ref, dst: Ref, where: str) -> Call | None:
        """The byte copy src -> dst (None for an empty tensor); sizes must agree, as TFLM's
        ValidateAndGetTensorSizes requires."""
        if src.nbytes != dst.nbytes:
            raise RnnedgeError(f"{where}: copies a {src.nbytes}-byte tensor into a "
                               f"{dst.nbytes}-byte one")
        if dst.space not in ("arena", "variable"):
            raise RnnedgeError(f"{where}: a subgraph input or output it writes is a constant")
        if not src.nbytes:
            return None
        kernel = kernel_ops.Reshape((src.nbytes,), (src.nbytes,), lib=self.b.lib)
        self.b.keep.append(kernel)
        return Call(kernel.entry, kernel.params, (replace(src, ctype="int8_t"),
                                                  replace(dst, ctype="int8_t")))

    def _copies(self, where, sources, targets) -> tuple:
        """Copy calls of the (subgraph, tensor) pairs `sources` onto `targets`."""
        if len(sources) != len(targets):
            raise RnnedgeError(f"{where}: {len(sources)} tensors to copy onto {len(targets)}; "
                               "the operator and its subgraphs disagree (TFLM refuses it)")
        calls = [self._copy(self.b.ref(t, where, s), self.b.ref(u, where, v), where)
                 for (s, t), (v, u) in zip(sources, targets)]
        return tuple(c for c in calls if c is not None)

    def _control(self, op, scope) -> None:
        """A WHILE, IF or CALL_ONCE step (see the module docstring)."""
        where, here = self._where(op), self.b.sgi
        if any(t < 0 for t in (*op.inputs, *op.outputs)):
            raise RnnedgeError(f"{where}: an input or output is absent (index -1); TFLM's "
                               "kernel copies every one")
        subs = called_subgraphs(self.model, op)
        for index in subs:
            self._compile(index)
        graphs = [self.model.subgraphs[i] for i in subs]

        def of(index, tensors):
            return [(index, t) for t in tensors]
        ins, outs = of(here, op.inputs), of(here, op.outputs)
        if op.opcode == "CALL_ONCE":
            control = Control("CALL_ONCE", subs, flag=self.flags)
            self.flags += 1
        elif op.opcode == "WHILE":
            (c, body), (cond, bsg) = subs, graphs
            if len(cond.outputs) != 1:
                raise RnnedgeError(f"{where}: the cond subgraph must have one output")
            phases = (("enter_cond", self._copies(where, ins, of(c, cond.inputs))),
                      ("keep", self._copies(where, ins, outs)),
                      ("to_body", self._copies(where, outs, of(body, bsg.inputs))),
                      ("from_body", self._copies(where, of(body, bsg.outputs), outs)),
                      ("to_cond", self._copies(where, outs, of(c, cond.inputs))))
            control = Control("WHILE", subs, self._condition(where, c, cond.outputs[0]), phases)
        else:
            (then, other), (tsg, esg) = subs, graphs
            if not op.inputs:
                raise RnnedgeError(f"{where}: IF needs a condition input")
            phases = (("then_in", self._copies(where, ins[1:], of(then, tsg.inputs))),
                      ("then_out", self._copies(where, of(then, tsg.outputs), outs)),
                      ("else_in", self._copies(where, ins[1:], of(other, esg.inputs))),
                      ("else_out", self._copies(where, of(other, esg.outputs), outs)))
            control = Control("IF", subs, self._condition(where, here, op.inputs[0]), phases)
        macs = operator_macs(self.model, self.b.sg, op)["macs"]
        self._step(op, (), scope, control, macs)

    def _condition(self, where, index, t) -> Ref:
        tensor = self.model.subgraphs[index].tensors[t]
        if tensor.type_name != "BOOL" or tensor.num_elements != 1:
            raise RnnedgeError(f"{where}: the condition {tensor.name} must be one BOOL")
        return self.b.ref(t, where, index)

    def _compile(self, index: int) -> None:
        """Compile subgraph `index` (once) into self.compiled."""
        if index in self.compiled:
            return
        self.compiled[index] = ()  # the planner refuses a subgraph that calls itself
        if self._scopes is None:
            self._scopes = operator_scopes(self.model)
        with self._inside(index):
            for op in self.b.sg.operators:
                scope = self._scopes.get((index, op.index), -1)
                self.operator(op.index, scope)
            self.compiled[index] = tuple(self.b.steps)

    @contextmanager
    def _inside(self, index: int):
        """Point the builder at subgraph `index` (its tensors, folded values, steps)."""
        b = self.b
        saved = (b.sg, b.values, b.folded, b.steps, b.sgi, b.prefix)
        b.sg = self.model.subgraphs[index]
        b.values, b.folded = fold(b.sg)
        b.steps, b.sgi, b.prefix = [], index, f"sg{index} "
        try:
            yield
        finally:
            b.sg, b.values, b.folded, b.steps, b.sgi, b.prefix = saved

    # -- resource variables ---------------------------------------------------------------
    def _resource(self, op, scope) -> None:
        """VAR_HANDLE (resolved now, no call), ASSIGN_VARIABLE, READ_VARIABLE."""
        where, here = self._where(op), self.b.sgi
        if op.opcode == "VAR_HANDLE":
            if len(op.outputs) != 1:
                raise RnnedgeError(f"{where}: VAR_HANDLE has one output")
            self.handles[(here, op.outputs[0])] = (op.options.get("container"),
                                                   op.options.get("shared_name") or "")
            self._step(op, (), scope)
            return
        want = 2 if op.opcode == "ASSIGN_VARIABLE" else 1
        if len(op.inputs) != want or (here, op.inputs[0]) not in self.handles:
            raise RnnedgeError(f"{where}: its resource handle must come from a VAR_HANDLE of "
                               "the same subgraph")
        key = self._find(self.handles[(here, op.inputs[0])])
        value = op.inputs[1] if want == 2 else (op.outputs[0] if op.outputs else None)
        if value is None:
            raise RnnedgeError(f"{where}: READ_VARIABLE has one output")
        tensor = self.b.sg.tensors[value]
        q = tensor.quantization
        fill = int(q.zero_points[0]) & 0xFF if q is not None and len(q.scales) and \
            len(q.zero_points) else 0
        var = self.b.allocate(("resource", key), -1, f"resource {key[1]}", tensor.nbytes, fill)
        if var.nbytes != tensor.nbytes:
            raise RnnedgeError(f"{where}: resource {key[1]} holds {var.nbytes} bytes, this "
                               f"tensor {tensor.nbytes}")
        stored, data = Ref("variable", var.offset, var.nbytes), self.b.ref(value, where)
        pair = (data, stored) if want == 2 else (stored, data)
        call = self._copy(*pair, where)
        self._step(op, () if call is None else (call,), scope)

    def _find(self, key) -> tuple:
        """The key of the resource variable `key` names (MicroResourceVariables::FindId: an
        absent container matches any)."""
        container, name = key
        for known_container, known_name in (k[1] for k in self.b.variables
                                            if k[0] == "resource"):
            if known_name == name and (container is None or known_container is None
                                       or container == known_container):
                return known_container, known_name
        return key
