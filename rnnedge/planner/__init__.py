"""Tensor-arena planning for TFLite models (every subgraph, as TFLM plans them).

    from rnnedge.planner import plan, plan_all
    p = plan(model, "best")        # Plan: arena bytes, lower bound, offsets per tensor, ...
    plans = plan_all(model)        # {"tflm": Plan, "best": Plan, "inplace": Plan}

Planners:
  tflm     TFLM's GreedyMemoryPlanner, exactly (lifetimes.py + greedy.py): its `arena`
           equals TFLM's planned head bytes.
  best     never larger than tflm; reaches the live-set lower bound when the search can
           (best.py).
  inplace  applies the in-place rules of inplace.py, then packs like best.
  fused    inplace plus row-fused regions and in-place depthwise convs (fused.py, chosen by
           fused_choice.py): below the live-set bound, never above inplace;
           `stream_input=True` pulls the graph input row by row (not held in the arena).
`reorder=True` lets best and inplace run the operators in another topological order when
that lowers the live-set bound (reorder.py); the plan says so (`reordered`, `order`).

Modules: lifetimes (buffers, TFLM lifetime rules, lower bound), subgraphs (the lifetimes of
control flow: all subgraphs in one arena), greedy (first fit, TFLM order), best, inplace,
fused_pad, fused (row geometry, row schedule, regions), fused_choice, reorder, plan (the
`Plan` type and the entry points). A model with several subgraphs gets TFLM's lifetimes over
all of them; in-place rules, row fusion and reordering apply to single-subgraph models.
Dependencies point one way: plan -> {fused_choice -> fused, best, inplace, reorder} ->
greedy -> lifetimes ->
rnnedge.op_table (kernel scratch requests, in-place capabilities); nothing here imports the
CLI or the reports.
"""

from rnnedge.planner.plan import PLANNERS, Plan, plan, plan_all

__all__ = ["PLANNERS", "Plan", "plan", "plan_all"]
