"""The deployment report as one self-contained HTML page: inline CSS and SVG, no scripts, no
fonts, images or links to anything outside the file (it opens offline and prints).

Per model: the totals, the NPU/CPU split, the memory timeline per planner, the tensor
placement of the chosen plan, Vela's cycles per layer, and the layer table; then the models
side by side (the same rows as the text report). `render_html(report)` returns the page,
`write_html(report, path)` writes it atomically.
May import: html, rnnedge.files (atomic_write), rnnedge.planner (PLANNERS),
rnnedge.report.{svg, text}.
"""

from html import escape

from rnnedge.files import atomic_write
from rnnedge.planner import PLANNERS
from rnnedge.report import svg
from rnnedge.report.text import comparison_rows

TARGET_COLORS = {"NPU": "#1f77b4", "CPU": "#ff7f0e", "removed": "#bbbbbb"}
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1180px;
padding:16px 24px;color:#222;line-height:1.4}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;border-bottom:2px solid #1f77b4;
padding-bottom:2px;margin-top:1.6em}h3{font-size:1.05em;margin:1.1em 0 .3em}
table{border-collapse:collapse;font-size:12px;margin:.4em 0}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right;white-space:nowrap}
th{background:#eef3f8;position:sticky;top:0}td.l,th.l{text-align:left}
td.w{white-space:normal;min-width:90px;max-width:260px;text-align:left}
tr:nth-child(even) td{background:#f8f8f8}.cpu td{background:#fff1e0!important}
.removed td{color:#888}.scroll{overflow-x:auto;max-width:100%}
.note{color:#555;font-size:12px}.flag{color:#a00;font-size:13px}
dl.totals{display:grid;grid-template-columns:max-content auto;gap:2px 14px;font-size:13px}
dl.totals dt{font-weight:600}dl.totals dd{margin:0}
@media print{body{max-width:none;padding:0;font-size:10px}h2{break-before:page}
h2:first-of-type{break-before:auto}table{font-size:8px}th{position:static}
.scroll{overflow:visible}svg{break-inside:avoid}}
"""


def _n(value):
    return "-" if value is None else f"{value:,}"


def _table(headers, rows, left=(), row_classes=None, wrap=()):
    """An HTML table; columns in `left` align left, those in `wrap` also wrap."""
    def cell_class(i):
        return "w" if i in wrap else "l" if i in left else ""

    head = "".join(f'<th class="{"l" if i in left or i in wrap else ""}">{escape(h)}</th>'
                   for i, h in enumerate(headers))
    body = []
    for r, row in enumerate(rows):
        row_class = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        cells = "".join(f'<td class="{cell_class(i)}">{escape(str(c))}</td>'
                        for i, c in enumerate(row))
        body.append(f"<tr{row_class}>{cells}</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _totals(m):
    ram, flash, items = m["ram"], m["flash"], []
    items.append(("parameters", _n(m["params"])))
    items.append(("MACs", _n(m["macs"]) + ("" if m["macs_complete"] else " (some ops unknown)")))
    items.append(("flash: weights", f"{_n(flash['weights'])} B (file {_n(flash['file_bytes'])} B)"))
    items += [(f"RAM: arena {p}", f"{_n(ram['arena'][p])} B") for p in PLANNERS]
    items.append(("RAM: live-set lower bound", f"{_n(ram['lower_bound'])} B"))
    items.append(("RAM: TFLM tail (estimate)", f"{_n(ram['tflm_tail_estimate'])} B"))
    items.append((f"total memory ({m['planner']})", f"{_n(m['total_memory'])} B"))
    if "npu" in m:
        n, f = m["npu"], m["npu"]["flash"]
        items += [
            ("NPU", f"{n['accelerator']} ({n['system_config']}, {n['memory_mode']})"),
            ("flash: NPU build", f"{_n(f['total'])} B = command stream {_n(f['command_stream'])}"
             f" + NPU weights {_n(f['npu_weights'])} + CPU-op constants {_n(f['cpu_constants'])}"),
            ("RAM: Vela SRAM", f"{_n(n['sram_bytes'])} B"),
            ("Vela cycles", f"{_n(n['cycles'])} (NPU {_n(n['npu_cycles'])})"),
            ("estimated time", f"{n['time_ms']:.3f} ms at {n['clock_mhz']:g} MHz"
             + ("" if not n["tflite_ops"]["CPU"] else
                f" + {n['tflite_ops']['CPU']} CPU operators not estimated")),
        ]
    if m["paper"]:
        p = m["paper"]
        items.append((f"paper ({p['table']})", f"params {p['params']}, arena {p['arena']}, "
                      f"total memory {p['total_memory']}  |  measured: "
                      f"{_n(p['measured']['params'])}, {_n(p['measured']['arena'])} B "
                      f"({p['measured']['planner']}), {_n(p['measured']['total_memory'])} B"))
    return ('<dl class="totals">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>"
                                             for k, v in items) + "</dl>")


def _charts(m):
    live, arena = m["timeline"]["live"], m["ram"]["arena"]
    parts = [svg.step_chart([(f"{p} ({_n(arena[p])} B)", live[p]) for p in PLANNERS if p in live],
                            f"live bytes per time scope, {m['name']}", "time scope (op position + 1)",
                            "live bytes",
                            hlines=[(f"lower bound {_n(m['ram']['lower_bound'])} B",
                                     m["ram"]["lower_bound"])])]
    rects = [(p["first"], p["last"], p["offset"], p["size"],
              f"{p['buffer']}: {p['bytes']:,} B at {p['offset']:,}, scopes {p['first']}-{p['last']}")
             for p in m["timeline"]["placement"] if p["first"] >= 0]
    parts.append(svg.rect_chart(rects, len(live[m["planner"]]), arena[m["planner"]],
                                f"tensor placement ({m['planner']}: {_n(arena[m['planner']])} B)",
                                "time scope", "arena offset (B)"))
    if "npu" in m:
        counts = m["npu"]["tflite_ops"]
        parts.insert(0, svg.split_bar([(k, counts.get(k, 0), TARGET_COLORS[k])
                                       for k in ("NPU", "CPU", "removed")],
                                      "operators by placement"))
        bars = [(o["npu"]["cycles"], TARGET_COLORS.get(o["npu"]["target"], "#9467bd"),
                 f"#{o['index']} {o['op']}: {o['npu']['cycles']:,} cycles "
                 f"({100 * o['npu']['share']:.1f}%)") for o in m["ops"]]
        parts.append(svg.bar_chart(bars, "Vela cycles per layer", "operator index", "cycles",
                                   legend=[(k, c) for k, c in TARGET_COLORS.items()
                                           if k != "removed"]))
    return "".join(f"<figure>{p}</figure>" for p in parts)


def _layers(m):
    headers = ["#", "op", "input", "output", "params", "weight B", "MACs"]
    headers += [f"live {p} B" for p in PLANNERS]
    has_npu = "npu" in m
    if has_npu:
        headers += ["on", "cycles", "share %", "Vela ops", "reason"]
    rows, classes = [], []
    for o in m["ops"]:
        row = [o["index"], o["op"], " ".join("x".join(map(str, s)) for s in o["input_shapes"]),
               " ".join("x".join(map(str, s)) for s in o["output_shapes"]), _n(o["params"]),
               _n(o["weight_bytes"]), _n(o["macs"])] + [_n(o["live_bytes"][p]) for p in PLANNERS]
        cls = ""
        if has_npu:
            npu = o["npu"]
            row += [npu["target"], _n(npu["cycles"]), f"{100 * npu['share']:.1f}",
                    " ".join(npu["vela_ops"]), npu["reason"] or ""]
            cls = "cpu" if "CPU" in npu["target"] else "removed" if npu["target"] == "removed" else ""
        rows.append(row)
        classes.append(cls)
    left = {1} | ({len(headers) - 5} if has_npu else set())
    wrap = {2, 3} | ({len(headers) - 1, len(headers) - 2} if has_npu else set())
    return _table(headers, rows, left=left, row_classes=classes, wrap=wrap)


def render_html(report) -> str:
    """The whole page."""
    title = "rnnedge report: " + ", ".join(m["name"] for m in report["models"])
    sections = [f"<h1>{escape(title)}</h1>",
                f'<p class="note">NPU: {escape(report["npu"] or "none (no --npu)")}; planner for '
                f'total memory and placement: {escape(report["planner"])}; MACs: paper eq. 17 '
                f'convention. Schema {escape(report["schema"])}.</p>']
    if len(report["models"]) > 1:
        rows = comparison_rows(report)
        sections += ["<h2>Side by side</h2>",
                     _table([""] + [m["name"] for m in report["models"]],
                            [[label] + cells for label, cells in rows], left={0})]
    for m in report["models"]:
        sections += [f"<h2>{escape(m['name'])}</h2>", f'<p class="note">{escape(m["model"])}</p>']
        sections += [f'<p class="flag">! {escape(f)}</p>' for f in m["flags"]]
        sections += ["<h3>Totals</h3>", _totals(m), "<h3>Charts</h3>", _charts(m),
                     "<h3>Layers</h3>", _layers(m)]
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(sections) + "</body></html>\n")


def write_html(report, path):
    """Write the page to `path` (temporary file, then rename)."""
    atomic_write(path, render_html(report).encode("utf-8"))
