"""`rnnedge report`: one report a deployment engineer reads, as text, JSON or one HTML page.

    from rnnedge.report import build_report, npu_split
    from rnnedge.report.text import render_text
    from rnnedge.report.html import render_html
    report = build_report(["a.tflite", "b.tflite"], npu="ethos-u55-128", clock_mhz=400)

Modules: build (the data: memory accounting from rnnedge.arena_report, Vela's placement and
cycles from rnnedge.export.vela_check, the paper's figures), text (the terminal tables),
svg (inline charts), html (the self-contained page). Data flows build -> {text, html}; html
uses svg; nothing here imports the CLI. Schema in docs/report.md.
"""

from rnnedge.report.build import SCHEMA, build_report, model_report, npu_split

__all__ = ["SCHEMA", "build_report", "model_report", "npu_split"]
