"""The memory report of `rnnedge arena`: per-op table, totals, arena per planner.

`arena_report(model)` returns one JSON-ready dict (schema in docs/arena.md): per operator
its output shape, parameters, weight bytes by dtype, MACs (rnnedge.op_table's
MAC_CONVENTION, the paper's eq. 17) and the bytes live while it runs under each planner;
totals (parameters, weight bytes, MACs), the arena of every planner and the live-set lower
bound, an estimate of TFLM's persistent tail (op_table.tail_estimate), and total memory =
weight bytes + arena. `render_text`, `write_csv` and `write_plot` format it (written through
rnnedge.files, never half-written). Works on rnnedge.tflite models; imports
rnnedge.control_flow, rnnedge.files, rnnedge.op_table and rnnedge.planner, matplotlib lazily
for the plot. Models with several subgraphs (control flow) are reported whole: every
subgraph's operators and weights, a loop's MACs counted inside it.
"""

import csv
import io
from collections import Counter

from rnnedge.control_flow import operator_macs
from rnnedge.files import atomic_write
from rnnedge.op_table import (MAC_CONVENTION, TAIL_CONVENTION, is_parameter, memory_unmodelled,
                              tail_estimate)
from rnnedge.planner import PLANNERS, plan, plan_all

SCHEMA = "rnnedge.arena/1"
MOVES_SHOWN = 8
"""How many moved operators the text report names (a CRNN's fused plan moves hundreds)."""


def _flags(model) -> list:
    flags = []
    types = {s.tensors[i].type_name for s in model.subgraphs for op in s.operators
             for i in op.outputs}
    floats = sorted(types & {"FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16"})
    if floats and types & {"INT8", "INT16", "UINT8"}:
        flags.append(f"mixed model: some activations are {'/'.join(floats)}, others integer; "
                     "sizes are planned as stored")
    elif floats:
        flags.append(f"float model: activations are {'/'.join(floats)}, not int8")
    if "INT16" in types:
        flags.append("int16 activations (int16x8 quantisation): sizes are planned as stored "
                     "(2 B per element)")
    if len(model.subgraphs) > 1:
        flags.append(f"{len(model.subgraphs)} subgraphs (control flow): all planned in one "
                     "arena as TFLM plans them; in-place rules and reordering are not applied")
    for index, s in enumerate(model.subgraphs):
        where = "" if index == 0 else f"subgraph {index} "
        for op in s.operators:
            if memory_unmodelled(op):
                flags.append(f"{where}op {op.index} {op.opcode}: not in rnnedge's op table; "
                             "its TFLM scratch and persistent memory are unknown, so the arena "
                             "figures are lower bounds")
            if index == 0 and operator_macs(model, s, op)["macs"] is None:
                flags.append(f"op {op.index} {op.opcode}: MACs unknown")
    return flags


def lower_bounds_only(model) -> bool:
    """True when some op's TFLM memory is not modelled (the arena figures are lower bounds)."""
    return any(memory_unmodelled(op) for s in model.subgraphs for op in s.operators)


def _live_at(plan, n_ops) -> dict:
    """{op index: bytes live in the scope where it runs} for one plan."""
    return {i: plan.live[plan.scope_of_step(s)] for s, group in enumerate(plan.steps)
            for i in group if plan.scope_of_step(s) < len(plan.live)}


def _fused_summary(sg, fused, streamed, macs, max_recompute, untiled) -> dict:
    """The fused plan's row-fused regions (with their column tiles), recompute overhead and
    streamed-input figure; `untiled`: the fused plan without tiles (when a budget is set)."""
    regions = []
    for r in fused.regions:
        windows = [{"tensor": sg.tensors[t].name, "rows": r.windows[t],
                    "bytes": r.window_bytes(t)} for t in sorted(r.windows)]
        full_rows = sum(r.windows[t] * int(sg.tensors[t].shape[2]) * int(sg.tensors[t].shape[3])
                        for t in r.windows if t not in r.staged)
        regions.append({"ops": [r.ops[0], r.ops[-1]], "operators": len(r.ops),
                        "row_ops": len(r.row_ops), "events": len(r.events),
                        "window_bytes": sum(w["bytes"] for w in windows),
                        "streamed_input": None if r.streamed is None
                        else sg.tensors[r.streamed].name, "windows": windows,
                        "tile_grid": [1, max(1, len(r.tiles))],
                        "window_bytes_saved": full_rows - sum(w["bytes"] for w in windows)
                        if r.tiles else 0,
                        "recompute_macs": r.recompute_macs,
                        "staged_inputs": [sg.tensors[t].name for t in r.staged]})
    out = {"regions": regions, "recompute_macs": fused.recompute_macs,
           "recompute_fraction": fused.recompute_macs / macs if macs else 0.0,
           "max_recompute": max_recompute,
           "span_lifetimes": any(b.spans for b in fused.buffers)}
    if untiled is not None:
        out["untiled_arena"] = untiled.arena
    if streamed is not None:
        out["stream_input_arena"] = streamed.arena
        out["stream_input_regions"] = len(streamed.regions)
        out["stream_input_span_lifetimes"] = any(b.spans for b in streamed.buffers)
        out["stream_input_recompute_macs"] = streamed.recompute_macs
    return out


def arena_report(model, path: str = "", planner: str = "best", reorder: bool = True,
                 tflm: dict | None = None, stream_input: bool = False,
                 max_recompute: float = 0.0) -> dict:
    """The report dict for `model` (schema in docs/arena.md); `planner` selects the plan
    used for total memory, the tensor placement and the plot; `tflm` is a measure_tflm
    result to show beside the plans; `stream_input` adds the fused plan's arena with the
    graph input pulled row by row (a separate figure: TFLM keeps the whole input);
    `max_recompute`: the fraction of the MACs the fused plan's column tiles may recompute."""
    plans = plan_all(model, reorder=reorder)
    untiled = None
    if max_recompute > 0:
        untiled = plans["fused"]
        plans["fused"] = plan(model, "fused", reorder, max_recompute=max_recompute)
    streamed = plan(model, "fused", reorder, stream_input=True,
                    max_recompute=max_recompute) if stream_input else None
    live = {name: _live_at(p, len(model.main.operators)) for name, p in plans.items()}
    seen, by_dtype, n_params, ops = set(), {}, 0, []
    for index, s in enumerate(model.subgraphs):
        for op in s.operators:
            weights, count = {}, 0
            for t in op.inputs:
                tensor = s.tensors[t] if t >= 0 else None
                if tensor is None or not tensor.is_constant or not is_parameter(op, tensor):
                    continue
                weights[tensor.type_name] = weights.get(tensor.type_name, 0) + tensor.nbytes
                count += tensor.num_elements
                if (index, t) not in seen:
                    seen.add((index, t))
                    by_dtype[tensor.type_name] = by_dtype.get(tensor.type_name, 0) + tensor.nbytes
                    n_params += tensor.num_elements
            out = s.tensors[op.outputs[0]] if op.outputs else None
            entry = {"index": op.index, "op": op.opcode,
                     "output_shape": list(out.shape) if out is not None else [],
                     "params": count, "weight_bytes": weights,
                     **operator_macs(model, s, op),
                     "live_bytes": {name: live[name].get(op.index) if index == 0 else None
                                    for name in PLANNERS}}
            if len(model.subgraphs) > 1:
                entry["subgraph"] = index
            ops.append(entry)
    weight_bytes = sum(by_dtype.values())
    main_ops = [o for o in ops if o.get("subgraph", 0) == 0]  # loops count their bodies
    known = [o["macs"] for o in main_ops if o["macs"] is not None]
    chosen = plans[planner]
    report = {
        "schema": SCHEMA, "model": path, "planner": planner, "flags": _flags(model),
        "mac_convention": MAC_CONVENTION,
        "ops": ops,
        "params": {"count": n_params, "bytes": by_dtype},
        "weight_bytes": weight_bytes,
        "macs": sum(known), "macs_complete": len(known) == len(main_ops),
        "arena": {name: plans[name].arena for name in PLANNERS}
        | {"lower_bound": plans["tflm"].lower_bound},
        "arena_is_lower_bound": lower_bounds_only(model),
        "reordered": {name: list(p.order) for name, p in plans.items() if p.reordered},
        "inplace_rules": list(plans["inplace"].rules),
        "fused": _fused_summary(model.main, plans["fused"], streamed, sum(known),
                                max_recompute, untiled),
        "tail_estimate": tail_estimate(model), "tail_convention": TAIL_CONVENTION,
        "total_memory": weight_bytes + chosen.arena,
        "placement": [_placement(chosen, b) for b in chosen.buffers],
        "live": {name: list(p.live) for name, p in plans.items()},
    }
    if tflm is not None:
        report["tflm"] = {"head": tflm["head"], "tail": tflm["tail"], "total": tflm["total"]}
    return report


def _placement(plan, b) -> dict:
    entry = {"buffer": b.label, "tensor": b.tensor, "op": b.op,
             "offset": plan.buffer_offsets[b.id], "size": b.size, "bytes": b.nbytes,
             "first": b.first, "last": b.last}
    if b.spans:
        entry["spans"] = [list(piece) for piece in b.spans]
    return entry | ({"subgraph": b.subgraph} if b.subgraph else {})


def render_text(report: dict) -> str:
    """Human-readable report: per-op table then totals."""
    lines = [f"arena report: {report['model']}"]
    lines += [f"  ! {f}" for f in report["flags"]]
    lines.append(f"{'#':>3} {'op':<24} {'output':<16} {'params':>8} {'int8 B':>8} "
                 f"{'int32 B':>8} {'MACs':>11} {'live B':>8}")
    for o in report["ops"]:
        macs = "?" if o["macs"] is None else f"{o['macs']:,}"
        if o.get("trip_count") is not None:
            macs += f" ({o['trip_count']}x)"
        live = o["live_bytes"][report["planner"]]
        shape = "x".join(map(str, o["output_shape"]))
        index = f"{o['subgraph']}:{o['index']}" if o.get("subgraph") else str(o["index"])
        lines.append(f"{index:>3} {o['op'][:24]:<24} {shape:<16}"
                     f" {o['params']:>8,} {o['weight_bytes'].get('INT8', 0):>8,}"
                     f" {o['weight_bytes'].get('INT32', 0):>8,} {macs:>11}"
                     f" {'-' if live is None else format(live, ','):>8}")
    a = report["arena"]
    dtypes = ", ".join(f"{k} {v:,} B" for k, v in sorted(report["params"]["bytes"].items()))
    lines += [
        f"parameters: {report['params']['count']:,} ({dtypes})",
        f"weight bytes: {report['weight_bytes']:,}",
        f"MACs: {report['macs']:,}" + ("" if report["macs_complete"] else " (some ops unknown)")
        + " [paper eq. 17 convention]",
        f"tensor arena: best {a['best']:,} B, tflm {a['tflm']:,} B, inplace {a['inplace']:,} B,"
        f" fused {a['fused']:,} B; live-set lower bound {a['lower_bound']:,} B"
        + (" (all lower bounds: some ops' TFLM memory is unknown)"
           if report.get("arena_is_lower_bound") else ""),
        f"TFLM persistent tail (estimate): {report['tail_estimate']:,} B",
        f"total memory ({report['planner']}): {report['total_memory']:,} B = weight bytes + arena",
    ]
    for name, order in report["reordered"].items():
        moved = [op for position, op in enumerate(order) if op != position]
        shown = ", ".join(f"{op} -> {order.index(op)}" for op in moved[:MOVES_SHOWN])
        lines.append(f"{name}: operators reordered, {len(moved)} of {len(order)} at another "
                     f"position (operator -> position: {shown}"
                     + (", ...; the whole order is in --json)" if len(moved) > MOVES_SHOWN else ")"))
    fused = report["fused"]
    for r in fused["regions"]:
        lines.append(f"fused region ops {r['ops'][0]}..{r['ops'][1]}: {r['operators']} operators "
                     f"row by row, {len(r['windows'])} row windows ({r['window_bytes']:,} B)"
                     + (f", input {r['streamed_input'][:40]} streamed" if r["streamed_input"]
                        else "")
                     + (f", 1x{r['tile_grid'][1]} column tiles (windows "
                        f"{r['window_bytes_saved']:,} B smaller, {r['recompute_macs']:,} extra "
                        "MACs)" if r["tile_grid"][1] > 1
                        else ""))
    if fused["regions"] and not fused["recompute_macs"]:
        lines.append(f"fused recompute: 0 extra MACs (0.0%): rows are computed once")
    elif fused["regions"]:
        lines.append(f"fused recompute: {fused['recompute_macs']:,} extra MACs "
                     f"({100 * fused['recompute_fraction']:.2f}% of the MACs, budget "
                     f"{100 * fused['max_recompute']:g}%): column tiles recompute their "
                     f"horizontal halos; without tiles the fused arena is "
                     f"{fused['untiled_arena']:,} B")
    if "stream_input_arena" in fused:
        lines.append(f"fused arena with --stream-input: {fused['stream_input_arena']:,} B "
                     "(the graph input is not held; TFLM-compatible firmware keeps it)")
    counts = Counter(r["rule"] for r in report["inplace_rules"])
    if counts:
        lines.append("inplace rules fired: " + ", ".join(f"{k} x{v}" for k, v in counts.items()))
    for r in report["inplace_rules"]:
        into = (f"{r['tensors'][0][:40]} -> {r['outputs']} slices" if "outputs" in r
                else " -> ".join(n[:40] for n in r["tensors"]))
        lines.append(f"inplace rule {r['rule']} at op {'+'.join(map(str, r['ops']))}: {into}"
                     + (" (conv moved to the ADD)" if r.get("moved") else ""))
    if "tflm" in report:
        t = report["tflm"]
        lines.append(f"TFLM measured: head {t['head']:,} B (ours, tflm planner: {a['tflm']:,} B),"
                     f" tail {t['tail']:,} B (estimate {report['tail_estimate']:,} B)")
    return "\n".join(lines)


def write_csv(report: dict, path: str):
    """The per-op table as CSV (one row per operator)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["index", "op", "output_shape", "params", "weight_bytes_int8", "weight_bytes_int32",
                "macs"] + [f"live_bytes_{p}" for p in PLANNERS])
    for o in report["ops"]:
        w.writerow([o["index"], o["op"], "x".join(map(str, o["output_shape"])), o["params"],
                    o["weight_bytes"].get("INT8", 0), o["weight_bytes"].get("INT32", 0),
                    "" if o["macs"] is None else o["macs"]]
                   + ["" if o["live_bytes"][p] is None else o["live_bytes"][p] for p in PLANNERS])
    atomic_write(path, buf.getvalue().encode())


def write_plot(report: dict, path: str):
    """PNG: live bytes per scope for every planner (left) and the selected plan's tensor
    placement, time x arena offset (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    styles = {"tflm": "-", "best": "--", "inplace": "-.", "fused": ":"}
    for name, live in report["live"].items():
        left.step(range(len(live)), live, where="mid", ls=styles.get(name, "-"),
                  label=f"{name} arena {report['arena'][name]:,} B")
    left.axhline(report["arena"]["lower_bound"], color="grey", ls="--", lw=0.8, label="lower bound")
    left.set_xlabel("time scope (0 = inputs, k = k-th op)")
    left.set_ylabel("live bytes (tflm and best share one live set)")
    left.legend(fontsize=8)
    left.set_title("live bytes per op")
    colors = plt.get_cmap("tab20")
    for i, p in enumerate(report["placement"]):
        if p["first"] < 0:
            continue
        right.add_patch(plt.Rectangle((p["first"] - 0.45, p["offset"]),
                                      p["last"] - p["first"] + 0.9, p["size"],
                                      color=colors(i % 20), alpha=0.8))
    arena = report["arena"][report["planner"]]
    right.set_xlim(-0.5, max(len(report["live"][report["planner"]]) - 0.5, 0.5))
    right.set_ylim(0, max(arena, 1))
    right.set_xlabel("time scope")
    right.set_ylabel("arena offset (bytes)")
    right.set_title(f"tensor placement ({report['planner']}: {arena:,} B)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    atomic_write(path, buf.getvalue())
