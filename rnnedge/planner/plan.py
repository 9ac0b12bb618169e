"""The `Plan` result type and the planner entry points.

A `Plan` says where every arena tensor lives (`tensor_offsets`: subgraph 0's by tensor index;
with several subgraphs every subgraph's, by TFLM's global tensor id), in which order
the operators run (`steps`: groups of operator indices, one group per time scope; a fused
PAD + conv, conv + ADD or PAD + conv + ADD is one group), which in-place rules fired, and the
arena size. The firmware runtime and the offline-plan writer consume it. Imports this
package's planner modules, rnnedge.errors and rnnedge.op_table (the MACs a recompute budget
is a fraction of).
"""

from dataclasses import dataclass, replace

from rnnedge.errors import RnnedgeError
from rnnedge.op_table import op_macs
from rnnedge.planner.best import best_plan
from rnnedge.planner.fused_choice import choose_regions
from rnnedge.planner.greedy import arena_size, tflm_plan
from rnnedge.planner.inplace import inplace_buffers
from rnnedge.planner.lifetimes import ROW_WINDOW, live_bytes, lower_bound, plan_buffers
from rnnedge.planner.reorder import eager_order, reorder as find_reorder
from rnnedge.planner.subgraphs import model_buffers, tensor_base

PLANNERS = ("best", "tflm", "inplace", "fused")


@dataclass(frozen=True)
class Plan:
    """One arena plan. `lower_bound` is the live-set bound of this plan's own buffers (for
    inplace: after aliasing); `live` holds the bytes live in each scope 0..len(steps)."""

    planner: str
    arena: int
    lower_bound: int
    buffers: tuple
    buffer_offsets: dict
    tensor_offsets: dict
    steps: tuple
    fusions: tuple
    rules: tuple
    reordered: bool
    live: tuple
    step_scopes: tuple = ()  # scope of each step when not len(steps) one per scope (control flow)
    regions: tuple = ()
    stream_input: bool = False

    @property
    def window_offsets(self) -> dict:
        """{windowed tensor: arena offset of its row window} (inplace_buffers appends the
        windows region by region, tensors in index order)."""
        windows = [b for b in self.buffers if b.kind == ROW_WINDOW]
        tensors = [t for r in self.regions for t in sorted(r.windows)]
        return {t: self.buffer_offsets[b.id] for t, b in zip(tensors, windows)}

    @property
    def recompute_macs(self) -> int:
        """MACs the plan's column tiles compute again (0 without tiles)."""
        return sum(r.recompute_macs for r in self.regions)

    @property
    def region_of(self) -> dict:
        """{first operator of a row-fused region's step: its Region}."""
        return {r.ops[0]: r for r in self.regions}

    @property
    def fused_pads(self) -> tuple:
        """(PAD op, conv op) pairs the fused_pad rule folded (the PAD output has no offset)."""
        return tuple(tuple(r["ops"]) for r in self.rules if r["rule"] == "fused_pad")

    def scope_of_step(self, s: int) -> int:
        """The time scope step `s` (an index into `steps`) runs in."""
        return self.step_scopes[s] if self.step_scopes else s + 1

    @property
    def order(self) -> tuple:
        """Operator indices in execution order."""
        return tuple(i for group in self.steps for i in group)


def _subgraph(model):
    subgraph = getattr(model, "main", model)
    if not subgraph.operators:
        raise RnnedgeError("the model's main subgraph has no operators; nothing to plan")
    return subgraph


def model_macs(subgraph) -> int:
    """MACs of the subgraph's operators (rnnedge.op_table's convention; unknown ops 0)."""
    return sum(op_macs(op, subgraph.tensors) or 0 for op in subgraph.operators)


def plan(model, planner: str = "best", reorder: bool = False,
         stream_input: bool = False, max_recompute: float = 0.0) -> Plan:
    """Plan the arena of `model` (a Model or a Subgraph) with `planner` (see PLANNERS). An
    inplace plan that would be larger than best's (a CONCATENATION output made live early
    can cost more than it saves) is replaced by best's layout with no rules applied; a fused
    plan larger than inplace's by inplace's. `stream_input` (fused only): the graph input is
    pulled row by row and takes no arena space (planner/fused.py). `max_recompute` (fused
    only): the fraction of the model's MACs column tiles may compute again
    (planner/fused_tiles.py; 0: no tiles)."""
    if planner not in PLANNERS:
        raise RnnedgeError(f"unknown planner {planner!r}; choose one of {', '.join(PLANNERS)}")
    subgraph = _subgraph(model)
    if len(getattr(model, "subgraphs", ())) > 1:
        return _all_subgraphs(model, planner)
    order = list(range(len(subgraph.operators)))
    reordered = False
    if reorder and planner != "tflm":
        better = find_reorder(subgraph)
        if better is not None:
            order, reordered = better[0], True
    if planner == "fused":  # also with per-span lifetimes and eager frees; the smaller wins
        eager = eager_order(subgraph, order)
        budget = int(max_recompute * model_macs(subgraph)) if max_recompute > 0 else 0
        result = min((_layout(subgraph, planner, order, reordered, stream_input, False, budget),
                      _layout(subgraph, planner, eager, reordered or eager != order,
                              stream_input, True, budget)),
                     key=lambda p: (not p.stream_input, p.arena))
    else:
        result = _layout(subgraph, planner, order, reordered)
    if planner in ("inplace", "fused"):
        fallback = plan(model, "best" if planner == "inplace" else "inplace", reorder)
        if fallback.arena < result.arena and not result.stream_input:
            return replace(fallback, planner=planner)
    return result


def _layout(subgraph, planner, order, reordered, stream_input=False, spans=False,
            recompute_macs=0) -> Plan:
    """The Plan of one planner on execution order `order` (single subgraph); `spans`
    (fused): tensor groups packed with per-span lifetimes (inplace_buffers);
    `recompute_macs` (fused): the MACs column tiles may compute again."""
    fusions, rules, regions = (), (), ()
    if planner == "fused":
        regions = choose_regions(subgraph, order, stream_input, spans, recompute_macs)
    if planner in ("inplace", "fused"):
        buffers, placement, steps, fusions, rules = inplace_buffers(subgraph, order, regions,
                                                                    spans)
        offsets = best_plan(buffers)
        tensor_offsets = {t: offsets[bid] + rel for t, (bid, rel) in placement.items()}
    else:
        steps = [(i,) for i in order]
        buffers = plan_buffers(subgraph, steps)
        offsets = tflm_plan(buffers) if planner == "tflm" else best_plan(buffers)
        tensor_offsets = {b.tensor: offsets[b.id] for b in buffers if b.tensor is not None}
    return Plan(planner=planner, arena=arena_size(buffers, offsets),
                lower_bound=lower_bound(buffers), buffers=tuple(buffers),
                buffer_offsets=offsets, tensor_offsets=tensor_offsets,
                steps=tuple(tuple(s) for s in steps), fusions=tuple(fusions),
                rules=tuple(rules), reordered=reordered,
                live=tuple(live_bytes(buffers, len(steps) + 1)), regions=regions,
                stream_input=any(r.streamed is not None for r in regions))


def _all_subgraphs(model, planner: str) -> Plan:
    """A model with several subgraphs, planned in one arena as TFLM plans it (subgraphs.py).
    `tensor_offsets` are keyed by TFLM's global tensor id (subgraph 0's ids are its tensor
    indices). No in-place rule and no reordering crosses subgraphs: `inplace` and `best`
    give best's layout of TFLM's lifetimes."""
    buffers, op_scope, n_scopes = model_buffers(model)
    offsets = tflm_plan(buffers) if planner == "tflm" else best_plan(buffers)
    base = tensor_base(model)
    tensor_offsets = {base[b.subgraph] + b.tensor: offsets[b.id] for b in buffers
                      if b.tensor is not None}
    steps = tuple((i,) for i in range(len(model.main.operators)))
    return Plan(planner=planner, arena=arena_size(buffers, offsets),
                lower_bound=lower_bound(buffers), buffers=tuple(buffers),
                buffer_offsets=offsets, tensor_offsets=tensor_offsets, steps=steps,
                fusions=(), rules=(), reordered=False, live=tuple(live_bytes(buffers, n_scopes)),
                step_scopes=tuple(op_scope[i] for i in range(len(steps))))


def plan_all(model, reorder: bool = True) -> dict:
    """{planner name: Plan} for every planner."""
    return {name: plan(model, name, reorder) for name in PLANNERS}
