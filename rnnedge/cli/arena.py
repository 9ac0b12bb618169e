"""`rnnedge arena model.tflite`: tensor-arena plans and the memory report of any int8 .tflite.

Parses options, calls the reader, the planners (through rnnedge.arena_report), the offline-plan
writer and the TFLM probe, and prints the report (text, or one JSON object with --json).
"""

import json
import os

import click

from rnnedge.files import atomic_write
from rnnedge.cli.options import max_recompute_option
from rnnedge.arena_report import arena_report, render_text, write_csv, write_plot
from rnnedge.errors import RnnedgeError
from rnnedge.planner import PLANNERS, plan
from rnnedge.tflite import read_model, write_offline_plan
from rnnedge.tflm_probe import measure_tflm


@click.command("arena")
@click.argument("model_path", type=click.Path(dir_okay=False))
@click.option("--planner", type=click.Choice(PLANNERS), default="best", show_default=True,
              help="plan used for total memory, placement, --plot and --write-plan")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object (docs/arena.md)")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="write the per-op table")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="write a PNG: live bytes per op and tensor placement")
@click.option("--write-plan", "plan_path", type=click.Path(dir_okay=False),
              help="write a copy of the model with the plan as TFLM OfflineMemoryAllocation")
@click.option("--stream-input", is_flag=True,
              help="also plan the fused arena with the graph input pulled row by row "
              "(not held in the arena: a camera line buffer); reported separately")
@max_recompute_option
@click.option("--verify-tflm", is_flag=True,
              help="run tflite-micro (in a subprocess) and report its head/tail beside ours; "
              "exit 1 when its head differs from the tflm figure")
def arena(model_path, planner, as_json, csv_path, plot_path, plan_path, stream_input,
          max_recompute, verify_tflm):
    """Plan the tensor arena of MODEL_PATH and report memory per op and in total."""
    if not os.path.isfile(model_path):
        raise RnnedgeError(f"no such model file: {model_path}")
    model = read_model(model_path)
    tflm = measure_tflm(model_path) if verify_tflm else None
    report = arena_report(model, model_path, planner, reorder=plan_path is None, tflm=tflm,
                          stream_input=stream_input, max_recompute=max_recompute)
    if plan_path:
        if planner in ("inplace", "fused"):
            raise RnnedgeError("--write-plan needs --planner best or tflm: TFLM cannot honour "
                               "in-place rules (fused ops, aliasing); rnnedge's firmware "
                               "runtime can")
        chosen = plan(model, planner)
        atomic_write(plan_path, write_offline_plan(model.raw, chosen.tensor_offsets))
        report["written_plan"] = {"path": plan_path, "planner": planner, "arena": chosen.arena}
        if verify_tflm:
            report["written_plan"]["tflm_head"] = measure_tflm(plan_path)["head"]
    if csv_path:
        write_csv(report, csv_path)
    if plot_path:
        write_plot(report, plot_path)
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(render_text(report))
    if plan_path and not as_json:
        written = report["written_plan"]
        extra = f"; TFLM head with it: {written['tflm_head']:,} B" if "tflm_head" in written else ""
        click.echo(f"offline plan ({planner}, {written['arena']:,} B) written to "
                   f"{plan_path}{extra}")
    if tflm is not None and tflm["head"] != report["arena"]["tflm"]:
        click.echo(f"error: TFLM's measured head is {tflm['head']:,} B but the tflm planner "
                   f"gives {report['arena']['tflm']:,} B", err=True)
        raise SystemExit(1)
