"""The terminal form of the deployment report: per model a layer table and totals, then (for
several models) one side-by-side table of the totals, the paper's figures included.

`render_text(report)` formats a `build_report` dict; `comparison_rows(report)` gives the
side-by-side rows (label, one cell per model), which the HTML page shows too.
May import: rnnedge.planner (PLANNERS) only.
"""

from rnnedge.planner import PLANNERS


def _n(value, unit=""):
    return "-" if value is None else f"{value:,}{unit}"


def _shape(shapes):
    return ",".join("x".join(map(str, s)) for s in shapes) or "-"


def _layer_lines(m):
    has_npu = "npu" in m
    head = (f"{'#':>4} {'op':<18} {'input':<18} {'output':<14} {'params':>8} {'weight B':>9} "
            f"{'MACs':>12} " + " ".join(f"{p + ' B':>9}" for p in PLANNERS))
    if has_npu:
        head += f" {'on':<7} {'cycles':>10} {'share':>6}  reason"
    lines = [head]
    for o in m["ops"]:
        line = (f"{o['index']:>4} {o['op'][:18]:<18} {_shape(o['input_shapes'])[:18]:<18} "
                f"{_shape(o['output_shapes'])[:14]:<14} {o['params']:>8,} {o['weight_bytes']:>9,} "
                f"{_n(o['macs']):>12} "
                + " ".join(f"{_n(o['live_bytes'][p]):>9}" for p in PLANNERS))
        if has_npu:
            npu = o["npu"]
            line += (f" {npu['target']:<7} {npu['cycles']:>10,} {100 * npu['share']:>5.1f}%"
                     + (f"  {npu['reason']}" if npu["target"] != "NPU" else ""))
        lines.append(line)
    return lines


def _totals_lines(m):
    arena, ram, flash = m["ram"]["arena"], m["ram"], m["flash"]
    lines = [
        f"parameters: {m['params']:,}; MACs: {m['macs']:,}"
        + ("" if m["macs_complete"] else " (some ops unknown)") + " [paper eq. 17 convention]",
        f"flash: weights {flash['weights']:,} B (file {flash['file_bytes']:,} B)",
        "RAM: tensor arena " + ", ".join(f"{p} {arena[p]:,} B" for p in PLANNERS)
        + f"; live-set lower bound {ram['lower_bound']:,} B; TFLM persistent tail "
        f"(estimate) {ram['tflm_tail_estimate']:,} B",
        f"total memory ({m['planner']}): {m['total_memory']:,} B = weight bytes + arena",
    ]
    if "npu" in m:
        n, f = m["npu"], m["npu"]["flash"]
        ops = n["tflite_ops"]
        lines += [
            f"NPU {n['accelerator']} ({n['system_config']}, {n['memory_mode']}): "
            f"{ops['NPU']} operators on the NPU, {ops['CPU']} on the CPU, {ops['removed']} "
            f"removed by Vela (Vela's own count: {n['vela_ops']['npu']} NPU / "
            f"{n['vela_ops']['cpu']} CPU operators)",
            f"  flash for the NPU build: {f['total']:,} B = command stream "
            f"{f['command_stream']:,} + NPU weights {f['npu_weights']:,} + CPU-op constants "
            f"{f['cpu_constants']:,}",
            f"  Vela SRAM {n['sram_bytes']:,} B; off-chip {n['off_chip_bytes']:,} B",
            f"  Vela cycles {n['cycles']:,} (NPU {n['npu_cycles']:,}): {n['time_ms']:.3f} ms "
            f"at {n['clock_mhz']:g} MHz" + ("" if ops["CPU"] == 0 else
                                            f" + {ops['CPU']} CPU operators not estimated"),
        ]
    if m["paper"]:
        p = m["paper"]
        lines.append(f"paper ({p['table']}, {p['zoo_name']}): params {p['params']}, arena "
                     f"{p['arena']}, total memory {p['total_memory']}; measured: params "
                     f"{p['measured']['params']:,}, arena ({p['measured']['planner']}) "
                     f"{p['measured']['arena']:,} B, total memory "
                     f"{p['measured']['total_memory']:,} B")
    return lines


def comparison_rows(report):
    """[(label, [cell per model])] of the side-by-side totals table."""
    models = report["models"]

    def row(label, get):
        return (label, [get(m) for m in models])

    rows = [row("parameters", lambda m: _n(m["params"])),
            row("weight bytes", lambda m: _n(m["flash"]["weights"])),
            row("MACs", lambda m: _n(m["macs"]))]
    rows += [row(f"arena {p} B", lambda m, p=p: _n(m["ram"]["arena"][p])) for p in PLANNERS]
    rows += [row("TFLM tail (est.) B", lambda m: _n(m["ram"]["tflm_tail_estimate"])),
             row(f"total memory ({report['planner']}) B", lambda m: _n(m["total_memory"]))]
    if report["npu"]:
        rows += [row("NPU / CPU / removed ops", lambda m: "{NPU} / {CPU} / {removed}".format(
                     **m["npu"]["tflite_ops"])),
                 row("Vela cycles", lambda m: _n(m["npu"]["cycles"])),
                 row("time ms", lambda m: f"{m['npu']['time_ms']:.3f}"),
                 row("Vela SRAM B", lambda m: _n(m["npu"]["sram_bytes"])),
                 row("NPU flash B", lambda m: _n(m["npu"]["flash"]["total"]))]
    if any(m["paper"] for m in models):
        for key, label in (("table", "paper table"), ("params", "paper params"),
                           ("arena", "paper arena"), ("total_memory", "paper total memory")):
            rows.append(row(label, lambda m, k=key: m["paper"][k] if m["paper"] else "-"))
    return rows


def render_text(report) -> str:
    """The whole report as text."""
    lines = []
    if report["npu"]:
        lines.append(f"rnnedge report: {len(report['models'])} model(s), NPU {report['npu']}")
    else:
        lines.append(f"rnnedge report: {len(report['models'])} model(s), no NPU (--npu NAME "
                     "adds Vela's placement and cycles)")
    for m in report["models"]:
        lines += ["", f"== {m['name']} ({m['model']})"]
        lines += [f"  ! {flag}" for flag in m["flags"]]
        lines += _layer_lines(m) + _totals_lines(m)
    if len(report["models"]) > 1:
        rows = comparison_rows(report)
        width = max(len(label) for label, _ in rows)
        cols = [max([len(m["name"])] + [len(r[1][i]) for r in rows])
                for i, m in enumerate(report["models"])]
        lines += ["", "side by side:",
                  " " * width + "  " + "  ".join(f"{m['name']:>{w}}"
                                                 for m, w in zip(report["models"], cols))]
        lines += [f"{label:<{width}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, cols))
                  for label, cells in rows]
    return "\n".join(lines)
