"""Arena buffers of every subgraph, with the lifetimes TFLM gives control flow (WHILE, IF,
CALL_ONCE), so a model with several subgraphs is planned in one arena as TFLM plans it.

TFLM's rules (micro_allocation_info.cc, AllocationInfoBuilder), reproduced: one scope counter
runs over the whole model, starting at subgraph 0. A subgraph's inputs and outputs are created
at the scope where it is entered; each operator takes the next scope and creates its outputs
there; a control-flow operator then enters its subgraphs in turn (IF: then, else; WHILE: cond,
body; CALL_ONCE: init), each one scope further, their operators continuing the count; after
them the operator's inputs and outputs are last used at the current scope, and its scratch
buffers live from the operator's own scope to it; a subgraph's outputs live to the end of
the subgraph. Creating a tensor resets its last use (a subgraph entered twice keeps its
second lifetime; a subgraph that calls itself is refused, as is a nesting of calls
that expands to more than MAX_VISITS operator runs). Tensors of subgraphs no operator enters keep (-1, -1). Buffer ids follow
TFLM's allocation-info order: all tensors, subgraph by subgraph, then the scratch requests
in Prepare order (subgraph by subgraph, operator by operator).

Works on rnnedge.tflite Model objects; imports rnnedge.errors, rnnedge.op_table and this
package's lifetimes module.
"""

from rnnedge.errors import RnnedgeError
from rnnedge.op_table import scratch_requests
from rnnedge.planner.lifetimes import KERNEL_SCRATCH, Buffer, align, arena_tensors

CALLS = {"IF": ("then_subgraph_index", "else_subgraph_index"),
         "WHILE": ("cond_subgraph_index", "body_subgraph_index"),
         "CALL_ONCE": ("init_subgraph_index",)}
MAX_VISITS = 1_000_000  # operator visits: a hostile file can nest calls exponentially


def called_subgraphs(model, op) -> tuple:
    """Indices of the subgraphs control-flow operator `op` runs (empty for other ops); a
    missing or out-of-range index is a malformed model."""
    out = []
    for key in CALLS.get(op.opcode, ()):
        index = op.options.get(key)
        if index is None or not 0 < index < len(model.subgraphs):
            raise RnnedgeError(f"{op.opcode} operator {op.index} calls subgraph {index}, "
                               f"but the model has subgraphs 0..{len(model.subgraphs) - 1}")
        out.append(index)
    return tuple(out)


def tensor_base(model) -> list:
    """Global id of each subgraph's tensor 0 (TFLM's subgraph_offsets)."""
    base, total = [], 0
    for sg in model.subgraphs:
        base.append(total)
        total += len(sg.tensors)
    return base


class _Marker:
    """Walks the model from subgraph 0 with TFLM's single scope counter."""

    def __init__(self, model):
        self.model, self.scope, self.active = model, 0, []
        self.life, self.scratch, self.op_scope = {}, {}, {}

    def _create(self, key):
        self.life[key] = [self.scope, self.scope]

    def _use(self, key):
        self.life.setdefault(key, [-1, -1])[1] = self.scope

    def mark(self, index):
        if index in self.active:
            raise RnnedgeError(f"subgraph {index} calls itself (through "
                               f"{' -> '.join(map(str, self.active + [index]))}); TFLM would "
                               "recurse without end")
        self.active.append(index)
        sg = self.model.subgraphs[index]
        for t in (*sg.inputs, *sg.outputs):
            self._create((index, t))
        for op in sg.operators:
            self.scope += 1
            if self.scope > MAX_VISITS:
                raise RnnedgeError(f"control flow expands to more than {MAX_VISITS:,} "
                                   "operator runs; refusing to plan it")
            for t in op.outputs:
                self._create((index, t))
            start = self.scope
            if index == 0:
                self.op_scope[op.index] = start
            for sub in called_subgraphs(self.model, op):
                self.scope += 1
                self.mark(sub)
            for t in op.inputs:
                if t >= 0:
                    self._use((index, t))
            for t in op.outputs:
                self._use((index, t))
            self.scratch[(index, op.index)] = (start, self.scope)
        for t in sg.outputs:
            self._use((index, t))
        self.active.pop()


def model_buffers(model):
    """(buffers, scope of each subgraph-0 operator, number of scopes) for all subgraphs of
    `model`; Buffer.subgraph tells a buffer's subgraph, Buffer.tensor its index there."""
    marker = _Marker(model)
    marker.mark(0)
    buffers = []
    for index, sg in enumerate(model.subgraphs):
        for t in arena_tensors(sg):
            tensor = sg.tensors[t]
            first, last = marker.life.get((index, t), (-1, -1))
            buffers.append(Buffer(len(buffers), t, None, tensor.nbytes, align(tensor.nbytes),
                                  first, last, tensor.name if index == 0
                                  else f"sg{index}:{tensor.name}", subgraph=index))
    for index, sg in enumerate(model.subgraphs):
        for op_index, nbytes, label in scratch_requests(sg):
            first, last = marker.scratch.get((index, op_index), (-1, -1))
            buffers.append(Buffer(len(buffers), None, op_index, nbytes, align(nbytes), first,
                                  last, label if index == 0 else f"sg{index}:{label}",
                                  KERNEL_SCRATCH, subgraph=index))
    return buffers, marker.op_scope, marker.scope + 1


def operator_scopes(model) -> dict:
    """{(subgraph, operator index): the scope the operator runs in} for every operator the
    walk from subgraph 0 reaches (a subgraph entered twice: its second entry)."""
    marker = _Marker(model)
    marker.mark(0)
    return {key: span[0] for key, span in marker.scratch.items()}
