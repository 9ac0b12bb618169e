"""Arena buffers and their lifetimes, with TFLite Micro's rules.

A model's arena holds every non-constant, non-variable tensor of subgraph 0 plus the scratch
buffers kernels request in Prepare. TFLM's rules (micro_allocation_info.cc), reproduced here:
time is counted in "scopes": graph inputs and outputs are created at scope 0, operator at
position p of the execution order runs in scope p + 1; an operator's outputs are created in
its scope (this overrides scope 0 for graph outputs), every input is last used in the scope of
its last reader, graph outputs live to the final scope, and a scratch buffer lives only in
its operator's scope. Tensors no operator touches keep the lifetime (-1, -1). Sizes are
rounded up to TFLM's 16-byte buffer alignment; buffer ids follow TFLM's order (tensors by
index, then scratch buffers in request order), which the greedy planner's tie-breaking uses.

Works on rnnedge.tflite.model objects; imports rnnedge.op_table (TFLM's scratch requests).
"""

from dataclasses import dataclass

from rnnedge.op_table import scratch_requests

ALIGNMENT = 16  # MicroArenaBufferAlignment()
TENSOR, KERNEL_SCRATCH, ROW_SCRATCH = "tensor", "kernel scratch", "row scratch"  # Buffer.kind
ROW_WINDOW = "row window"  # a windowed tensor's rows inside a row-fused region (fused.py)


def align(n: int) -> int:
    """Round `n` up to the arena buffer alignment."""
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


@dataclass(frozen=True)
class Buffer:
    """One arena buffer: a tensor (`tensor` set) or an operator's scratch (`op` set).
    `size` is aligned; `first`/`last` are scopes (inclusive); `kind` is TENSOR,
    KERNEL_SCRATCH (a TFLM kernel's request), ROW_SCRATCH (the output row of a conv
    fused with its residual ADD, see inplace.py) or ROW_WINDOW (fused.py); `subgraph` is the
    subgraph the tensor or the requesting operator belongs to (subgraphs.py plans all of them).
    `spans` (a tensor group whose members die at different times, inplace.py with
    per-span lifetimes): ((start, end, first, last), ...) byte ranges relative to the buffer,
    each with its own lifetime inside [first, last]; empty: the whole buffer lives
    [first, last]."""

    id: int
    tensor: int | None
    op: int | None
    nbytes: int
    size: int
    first: int
    last: int
    label: str
    kind: str = TENSOR
    subgraph: int = 0
    spans: tuple = ()

    def overlaps(self, other: "Buffer") -> bool:
        """True when the two lifetimes share a scope."""
        return not (self.first > other.last or other.first > self.last)

    def pieces(self) -> tuple:
        """((start, end, first, last), ...): the byte ranges of the buffer with their
        lifetimes (one piece, the whole size, when it has no spans)."""
        return self.spans or ((0, self.size, self.first, self.last),)


def arena_tensors(subgraph) -> list:
    """Indices of the tensors TFLM places in the arena: no constant data, not a variable,
    and a non-zero byte size."""
    return [t.index for t in subgraph.tensors
            if t.data is None and not t.is_variable and t.nbytes > 0]


def tensor_lifetimes(subgraph, steps) -> dict:
    """{tensor index: [first, last]} for every tensor touched, with TFLM's rules; `steps` is
    the execution order as a sequence of operator-index groups (one group per scope)."""
    life = {}
    for t in subgraph.inputs:
        life[t] = [0, 0]
    for t in subgraph.outputs:
        life[t] = [0, 0]
    ops = subgraph.operators
    scope = 0
    for group in steps:
        scope += 1
        for i in group:
            for t in ops[i].outputs:
                life[t] = [scope, scope]
        for i in group:
            for t in ops[i].inputs:
                if t >= 0 and t in life:
                    life[t][1] = scope
                elif t >= 0:
                    life[t] = [-1, scope]
            for t in ops[i].outputs:
                life[t][1] = max(life[t][1], scope)
    for t in subgraph.outputs:
        life[t][1] = scope
    return life


def plan_buffers(subgraph, steps=None, skip=()) -> list:
    """The arena buffers of `subgraph` in TFLM's id order, for the execution `steps`
    (default: one operator per scope in file order). Tensors in `skip` (e.g. intermediate
    results kept inside a fused operator) get no buffer."""
    if steps is None:
        steps = [(i,) for i in range(len(subgraph.operators))]
    life = tensor_lifetimes(subgraph, steps)
    buffers = []
    for t in arena_tensors(subgraph):
        if t in skip:
            continue
        tensor = subgraph.tensors[t]
        first, last = life.get(t, (-1, -1))
        buffers.append(Buffer(len(buffers), t, None, tensor.nbytes, align(tensor.nbytes),
                              first, last, tensor.name))
    scope_of = {i: s + 1 for s, group in enumerate(steps) for i in group}
    for op_index, nbytes, label in scratch_requests(subgraph):
        scope = scope_of.get(op_index, -1)
        buffers.append(Buffer(len(buffers), None, op_index, nbytes, align(nbytes), scope, scope,
                              label, KERNEL_SCRATCH))
    return buffers


def live_bytes(buffers, n_scopes: int) -> list:
    """Sum of buffer sizes live in each scope 0..n_scopes-1."""
    out = [0] * n_scopes
    for b in buffers:
        for lo, hi, first, last in b.pieces():
            for s in range(max(first, 0), min(last, n_scopes - 1) + 1):
                out[s] += hi - lo
    return out


def lower_bound(buffers) -> int:
    """The live-set lower bound: the most bytes simultaneously live in any scope (no offset
    assignment of these buffers can use less)."""
    if not buffers:
        return 0
    last = max(max(b.last for b in buffers), 0)
    bound = max(live_bytes(buffers, last + 1))
    unused = sum(b.size for b in buffers if b.last < 0)  # TFLM gives untouched tensors (-1, -1)
    return max(bound, unused)
