"""`rnnedge pipeline`: the main job end to end on the embedded default (see rnnedge.pipeline)."""

import json

import click

from rnnedge.pipeline import DEFAULT_MODELS, PipelineSettings, run_pipeline
from rnnedge.sensor import FORMATS


def _kib(n):
    return f"{n / 1024:.1f}K"


def _format(result):
    lines = ["Parameter tables (the paper's Tables 1, 2, 5, 6):",
             f"  {'model':<22} {'params':>9} {'paper rows':>10} {'stated':>7} {'rows ok':>8} {'MACs':>15}"]
    for r in result["zoo"]:
        lines.append(f"  {r['model']:<22} {r['params']:>9,} {r['paper_rows_total']:>10,} {r['paper_stated_total']:>7} "
                     f"{r['rows_matching']:>3}/{r['rows_checked']:<4} {r['macs']:>15,}")
    s = result["settings"]
    lines += ["", f"Table 6 measured here ({s['data']} as {s['input_format']}, {s['epochs']} epochs; arena: {s['planner']} plan; "
                  f"int8 on the {s['backend']} kernels, {s['check_samples']} check images):",
              f"  {'model':<22} {'params':>8} {'arena':>8} {'(tflm)':>8} {'total mem':>10} {'float %':>8} "
              f"{'int8 %':>7} {'drop':>6} | paper: {'params':>6} {'arena':>5} {'total':>5} {'acc':>5}"]
    for m in result["models"]:
        p = m["paper"]
        arena = m["arena"][m["planner"]]
        lines.append(f"  {m['model']:<22} {m['params']:>8,} {_kib(arena):>8} {_kib(m['arena']['tflm']):>8} "
                     f"{_kib(m['total_memory']):>10} {m['float_top1']:>8.2f} {m['int8_top1']:>7.2f} "
                     f"{m['drop_pp']:>+6.2f} |        {p['params'] or '-':>6} {p['arena'] or '-':>5} "
                     f"{p['total_memory'] or '-':>5} {p['accuracy'] or '-':>5}")
    lines += ["  (total mem = int8 weight bytes incl. int32 biases + arena; the paper's accuracy is CIFAR-100,",
              "   ours the synthetic set. Artefacts in " + s["workdir"] + ")"]
    stages = [("zoo tables", result["seconds"]["zoo"])] + [
        (f"{m['model']} {stage}", t) for m in result["models"] for stage, t in m["seconds"].items()]
    lines += ["", "Where the time went (wall / CPU seconds): " + ", ".join(
        f"{stage} {t['wall']:.0f}/{t['cpu']:.0f}" for stage, t in stages)]
    return "\n".join(lines)


@click.command("pipeline")
@click.option("--workdir", default="rnnedge-out", show_default=True, help="Where checkpoints and .tflite files go.")
@click.option("--model", "models", multiple=True, help=f"Classifier(s) to run (default: {', '.join(DEFAULT_MODELS)}).")
@click.option("--data", default="synthetic", show_default=True, help="'synthetic[:...]' or a dataset folder.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Training epochs per model (default: 5 to classify, 8 to detect).")
@click.option("--backend", type=click.Choice(["c", "tflite", "tflm"]), default="c", show_default=True)
@click.option("--task", type=click.Choice(["classify", "detect"]), default="classify", show_default=True,
              help="detect: train det-cnn-256 and det-crnn-256 on synthetic-detect and print Tables 3/4.")
@click.option("--input-size", default="128", show_default=True, metavar="S|HxW",
              help="--task detect: the training input size.")
@click.option("--input-format", type=click.Choice(FORMATS), default="rgb", show_default=True,
              help="The camera's format the models read (gray / a Bayer mosaic: 1 channel, "
                   "data converted on the fly).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def pipeline(workdir, models, data, epochs, backend, task, input_size, input_format, as_json):
    """The main job on the embedded default: check every zoo model against the paper's
    parameter tables, then train cifar-resnet18-rnn and -thin briefly, export int8, plan the
    arena, check int8 accuracy on the host and print a Table-6-style summary. Exits 1 if a
    table row disagrees with the paper. `--task detect` runs the detection job instead
    (rnnedge.detect.pipeline)."""
    chosen = {} if epochs is None else {"epochs": epochs}
    if task == "detect":
        from rnnedge.detect.pipeline import (DEFAULT_MODELS as DETECTORS, DetectPipelineSettings,
                                             format_table, run_detect_pipeline)
        settings = DetectPipelineSettings(
            workdir=workdir, models=tuple(models) or DETECTORS,
            data="synthetic-detect" if data == "synthetic" else data, input_size=input_size,
            backend=backend, progress=not as_json, input_format=input_format,
            log=None if as_json else (lambda message: click.echo(message, err=True)), **chosen)
        result = run_detect_pipeline(settings)
        click.echo(json.dumps(result) if as_json else format_table(result))
        return
    settings = PipelineSettings(workdir=workdir, models=tuple(models) or DEFAULT_MODELS, data=data,
                                backend=backend, progress=not as_json, input_format=input_format,
                                log=None if as_json else (lambda message: click.echo(message, err=True)),
                                **chosen)
    result = run_pipeline(settings)
    result["ok"] = all(r["rows_matching"] == r["rows_checked"] for r in result["zoo"])
    click.echo(json.dumps(result) if as_json else _format(result))
    raise SystemExit(0 if result["ok"] else 1)
