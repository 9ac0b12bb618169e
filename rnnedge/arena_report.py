"""The memory report of `rnnedge arena`: per-op table, totals, arena per planner.

`arena_report(model)` returns one JSON-ready dict (schema in docs/arena.md): per operator
its output shape, parameters, weight bytes by dtype, MACs (the paper's eq. 17 convention,
see MAC_CONVENTION) and the bytes live while it runs under each planner; totals (parameters,
weight bytes, MACs), the arena of every planner and the live-set lower bound, an estimate of
TFLM's persistent tail, and total memory = weight bytes + arena. `render_text`, `write_csv`
and `write_plot` format it (written through rnnedge.files, never half-written). Works on
rnnedge.tflite models; imports numpy, rnnedge.files and rnnedge.planner, matplotlib lazily
for the plot.
"""

import csv
import io
from collections import Counter

import numpy as np

from rnnedge.files import atomic_write
from rnnedge.planner import PLANNERS, plan_all

SCHEMA = "rnnedge.arena/1"
MAC_CONVENTION = (
    "paper eq. 17: CONV_2D (k_h*k_w*C_in*C_out + C_out)*H_out*W_out, DEPTHWISE_CONV_2D "
    "(k_h*k_w*C_out + C_out)*H_out*W_out, FULLY_CONNECTED (in*out + out) per row, the "
    "+C_out/+out bias term only when the op has a bias; pooling k_h*k_w per output element; "
    "MEAN/SUM one per input element; elementwise ops and SOFTMAX one per output element; "
    "data movement (RESHAPE, CONCATENATION, PAD, ...) 0; other ops unknown (null)")
TAIL_CONVENTION = (
    "estimate of TFLM's persistent tail: 800 B allocator state + 24 B per tensor "
    "(TfLiteEvalTensor) + 64 B per op (node and registration) + 80 B per op (kernel OpData) + "
    "64 B for the graph input/output TfLiteTensors + 8 B per output channel of CONV_2D, "
    "DEPTHWISE_CONV_2D and FULLY_CONNECTED (per-channel multiplier and shift); within 5% of "
    "measured tails on the test models; --verify-tflm measures it")

WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL",
            "SVDF", "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_RNN", "RNN",
            "LSTM", "EMBEDDING_LOOKUP")
ELEMENTWISE = ("ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "RELU",
               "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LEAKY_RELU", "PRELU", "LOGISTIC",
               "TANH", "HARD_SWISH", "ELU", "GELU", "QUANTIZE", "DEQUANTIZE", "SOFTMAX",
               "LOG_SOFTMAX", "ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE",
               "SUM_SQUARE")
MOVEMENT = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS", "CONCATENATION", "PAD", "PADV2", "MIRROR_PAD",
            "TRANSPOSE", "STRIDED_SLICE", "SLICE", "SPLIT", "SPLIT_V", "GATHER", "PACK",
            "UNPACK", "RESIZE_NEAREST_NEIGHBOR", "SHAPE", "TILE", "BROADCAST_TO",
            "SPACE_TO_DEPTH", "DEPTH_TO_SPACE", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND")
POOLS = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")


def _is_param(op, tensor) -> bool:
    """Constant inputs count as parameters for weighted ops, and for other ops unless they
    are int32/int64 shape-like operands (axes, paddings, shapes, indices)."""
    return op.opcode in WEIGHTED or tensor.type_name not in ("INT32", "INT64")


def op_macs(op, tensors):
    """MACs of one operator under MAC_CONVENTION, or None when unknown."""
    def shape(i):
        t = op.inputs[i] if i < len(op.inputs) else -1
        return tensors[t].shape if t >= 0 else None

    out = tensors[op.outputs[0]] if op.outputs else None
    has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
    name = op.opcode
    if out is None:
        return None
    if name == "CONV_2D" and len(shape(1) or ()) == 4:
        cout, kh, kw, cin = shape(1)
        return (kh * kw * cin * cout + (cout if has_bias else 0)) * out.num_elements // cout
    if name == "DEPTHWISE_CONV_2D" and len(shape(1) or ()) == 4:
        _, kh, kw, cout = shape(1)
        return (kh * kw * cout + (cout if has_bias else 0)) * out.num_elements // cout
    if name == "FULLY_CONNECTED" and len(shape(1) or ()) == 2:
        units, depth = shape(1)
        rows = out.num_elements // units
        return (depth * units + (units if has_bias else 0)) * rows
    if name == "TRANSPOSE_CONV" and len(shape(1) or ()) == 4 and shape(2):
        cout, kh, kw, cin = shape(1)
        return kh * kw * cin * cout * int(np.prod(shape(2)[:-1]))
    if name == "BATCH_MATMUL" and shape(0) and len(shape(0)) >= 2:
        return out.num_elements * shape(0)[-2 if op.options.get("adj_x") else -1]
    if name in POOLS:
        return out.num_elements * op.options.get("filter_width", 1) * op.options.get(
            "filter_height", 1)
    if name in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN"):
        return int(np.prod(shape(0))) if shape(0) is not None else None
    if name in ELEMENTWISE:
        return out.num_elements
    if name in MOVEMENT:
        return 0
    return None


def _flags(model) -> list:
    flags = []
    sg = model.main
    types = {sg.tensors[t].type_name for op in sg.operators for t in op.outputs}
    floats = sorted(types & {"FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16"})
    if floats and types & {"INT8", "INT16", "UINT8"}:
        flags.append(f"mixed model: some activations are {'/'.join(floats)}, others integer; "
                     "sizes are planned as stored")
    elif floats:
        flags.append(f"float model: activations are {'/'.join(floats)}, not int8")
    if len(model.subgraphs) > 1:
        flags.append(f"{len(model.subgraphs)} subgraphs: only subgraph 0 is planned")
    for op in sg.operators:
        if op_macs(op, sg.tensors) is None:
            flags.append(f"op {op.index} {op.opcode}: MACs unknown")
    return flags


def tail_estimate(model) -> int:
    """TFLM persistent tail estimate (see TAIL_CONVENTION)."""
    sg = model.main
    channels = sum(sg.tensors[op.outputs[0]].shape[-1] for op in sg.operators
                   if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
                   and op.outputs and sg.tensors[op.outputs[0]].shape)
    return (800 + 24 * len(sg.tensors) + (64 + 80) * len(sg.operators) + 64 + 8 * channels)


def _live_at(plan, n_ops) -> dict:
    """{op index: bytes live in the scope where it runs} for one plan."""
    return {i: plan.live[s + 1] for s, group in enumerate(plan.steps) for i in group
            if s + 1 < len(plan.live)}


def arena_report(model, path: str = "", planner: str = "best", reorder: bool = True,
                 tflm: dict | None = None) -> dict:
    """The report dict for `model` (schema in docs/arena.md); `planner` selects the plan
    used for total memory, the tensor placement and the plot; `tflm` is a measure_tflm
    result to show beside the plans."""
    sg = model.main
    plans = plan_all(model, reorder=reorder)
    live = {name: _live_at(p, len(sg.operators)) for name, p in plans.items()}
    seen, by_dtype, n_params, ops = set(), {}, 0, []
    for op in sg.operators:
        weights, count = {}, 0
        for t in op.inputs:
            tensor = sg.tensors[t] if t >= 0 else None
            if tensor is None or not tensor.is_constant or not _is_param(op, tensor):
                continue
            weights[tensor.type_name] = weights.get(tensor.type_name, 0) + tensor.nbytes
            count += tensor.num_elements
            if t not in seen:
                seen.add(t)
                by_dtype[tensor.type_name] = by_dtype.get(tensor.type_name, 0) + tensor.nbytes
                n_params += tensor.num_elements
        out = sg.tensors[op.outputs[0]] if op.outputs else None
        ops.append({"index": op.index, "op": op.opcode,
                    "output_shape": list(out.shape) if out is not None else [],
                    "params": count, "weight_bytes": weights,
                    "macs": op_macs(op, sg.tensors),
                    "live_bytes": {name: live[name].get(op.index) for name in PLANNERS}})
    weight_bytes = sum(by_dtype.values())
    known = [o["macs"] for o in ops if o["macs"] is not None]
    chosen = plans[planner]
    report = {
        "schema": SCHEMA, "model": path, "planner": planner, "flags": _flags(model),
        "mac_convention": MAC_CONVENTION,
        "ops": ops,
        "params": {"count": n_params, "bytes": by_dtype},
        "weight_bytes": weight_bytes,
        "macs": sum(known), "macs_complete": len(known) == len(ops),
        "arena": {name: plans[name].arena for name in PLANNERS}
        | {"lower_bound": plans["tflm"].lower_bound},
        "reordered": {name: list(p.order) for name, p in plans.items() if p.reordered},
        "inplace_rules": list(plans["inplace"].rules),
        "tail_estimate": tail_estimate(model), "tail_convention": TAIL_CONVENTION,
        "total_memory": weight_bytes + chosen.arena,
        "placement": [_placement(sg, chosen, b) for b in chosen.buffers],
        "live": {name: list(p.live) for name, p in plans.items()},
    }
    if tflm is not None:
        report["tflm"] = {"head": tflm["head"], "tail": tflm["tail"], "total": tflm["total"]}
    return report


def _placement(sg, plan, b) -> dict:
    return {"buffer": b.label, "tensor": b.tensor, "op": b.op, "offset": plan.buffer_offsets[b.id],
            "size": b.size, "bytes": b.nbytes, "first": b.first, "last": b.last}


def render_text(report: dict) -> str:
    """Human-readable report: per-op table then totals."""
    lines = [f"arena report: {report['model']}"]
    lines += [f"  ! {f}" for f in report["flags"]]
    lines.append(f"{'#':>3} {'op':<24} {'output':<16} {'params':>8} {'int8 B':>8} "
                 f"{'int32 B':>8} {'MACs':>11} {'live B':>8}")
    for o in report["ops"]:
        macs = "?" if o["macs"] is None else f"{o['macs']:,}"
        live = o["live_bytes"][report["planner"]]
        shape = "x".join(map(str, o["output_shape"]))
        lines.append(f"{o['index']:>3} {o['op'][:24]:<24} {shape:<16}"
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
        f"tensor arena: best {a['best']:,} B, tflm {a['tflm']:,} B, inplace {a['inplace']:,} B;"
        f" live-set lower bound {a['lower_bound']:,} B",
        f"TFLM persistent tail (estimate): {report['tail_estimate']:,} B",
        f"total memory ({report['planner']}): {report['total_memory']:,} B = weight bytes + arena",
    ]
    for name, order in report["reordered"].items():
        lines.append(f"{name}: operators reordered to {order}")
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
    styles = {"tflm": "-", "best": "--", "inplace": "-."}
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
