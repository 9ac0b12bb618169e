"""`rnnedge report model.tflite [more.tflite ...]`: the deployment report of .tflite files.

Parses options, calls rnnedge.report.build_report (memory accounting, Vela placement and
cycles with --npu, the paper's figures) and prints it as text or one JSON object; --html
writes the self-contained page (rnnedge.report.html).
"""

import json

import click

from rnnedge.export.vela_check import ACCELERATORS
from rnnedge.planner import PLANNERS


@click.command("report")
@click.argument("model_paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--npu", type=click.Choice(list(ACCELERATORS)),
              help="compile with Vela for this Ethos-U and report placement and cycles")
@click.option("--clock-mhz", type=float,
              help="NPU clock for the time estimate (default: the Vela system config's)")
@click.option("--planner", type=click.Choice(PLANNERS), default="best", show_default=True,
              help="plan used for total memory and the placement picture")
@click.option("--system-config", help="Vela system config (default: Vela's for the NPU)")
@click.option("--memory-mode", help="Vela memory mode (default: Vela's for the NPU)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object (docs/report.md)")
@click.option("--html", "html_path", type=click.Path(dir_okay=False),
              help="write one self-contained HTML page")
def report(model_paths, npu, clock_mhz, planner, system_config, memory_mode, as_json,
           html_path):
    """Memory, MACs, NPU placement and cycles per layer of MODEL_PATHS, side by side."""
    from rnnedge.report import build_report
    from rnnedge.report.text import render_text

    if (system_config or memory_mode or clock_mhz is not None) and not npu:
        raise click.UsageError("--system-config, --memory-mode and --clock-mhz need --npu")
    stderr = click.get_text_stream("stderr")
    if len(model_paths) > 1 and stderr.isatty():
        with click.progressbar(length=len(model_paths), label="report", file=stderr,
                               show_pos=True) as bar:
            result = build_report(list(model_paths), npu, planner, clock_mhz, system_config,
                                  memory_mode, progress=lambda path: bar.update(1))
    else:
        result = build_report(list(model_paths), npu, planner, clock_mhz, system_config,
                              memory_mode)
    if html_path:
        from rnnedge.report.html import write_html
        write_html(result, html_path)
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(render_text(result))
        if html_path:
            click.echo(f"HTML report written to {html_path}")
