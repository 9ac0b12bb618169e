"""`rnnedge check model.tflite --data ...`: host-side accuracy of the int8 model vs float."""

import json
import os

import click

from rnnedge.check import run_check
from rnnedge.cli.options import max_arena_option, max_recompute_option
from rnnedge.errors import RnnedgeError
from rnnedge.kernels.build import KERNEL_SETS
from rnnedge.metrics import plot_confusion
from rnnedge.planner import PLANNERS
from rnnedge.sensor import FORMATS


def _progress_bar(label):
    """A tqdm bar on stderr, opened at the first batch and updated by `run_check`'s progress
    callback (so an error before any inference leaves no bar behind)."""
    from tqdm import tqdm

    bars = []

    def update(done, total):
        if not bars:
            bars.append(tqdm(desc=label, total=total, unit="img", leave=False))
        bars[0].n = done
        bars[0].refresh()
        if done >= total:
            bars[0].close()

    return update


@click.command("check")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--data", required=True, help="'synthetic[:key=value,...]' or a dataset folder (CIFAR pickles, image folder).")
@click.option("--float", "float_checkpoint", type=click.Path(dir_okay=False), help="The float rnnedge checkpoint to compare with.")
@click.option("--backend", type=click.Choice(["tflite", "c", "tflm"]), default="tflite", show_default=True,
              help="tflite: TFLite reference kernels; c: rnnedge's C kernels in one static arena; tflm: tflite-micro.")
@click.option("--kernels", type=click.Choice(KERNEL_SETS), default=KERNEL_SETS[0], show_default=True,
              help="c backend: the optimised C kernels (same bytes, faster) or the readable reference ones.")
@click.option("--planner", type=click.Choice(PLANNERS), default="best", show_default=True,
              help="c backend: the arena layout (fused: column tiles and streamed rows, "
                   "docs/arena.md).")
@click.option("--stream-input", is_flag=True, help="c backend, --planner fused: pull the "
              "graph input row by row from outside the arena.")
@click.option("--jobs", type=click.IntRange(min=1), help="c backend: images run in this many processes (default: the "
              "available cores); the results are identical to --jobs 1.")
@click.option("--samples", type=click.IntRange(min=1), help="Check only the first N samples of the check split.")
@click.option("--max-drop", type=float, help="Exit 1 when float top-1 (a detector: AP50) minus int8 exceeds this many points.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write the int8 confusion matrix (a detector: boxes on a few images) as a PNG.")
@click.option("--trust-pickle", is_flag=True, help="UNSAFE: allow a --float file that is a whole pickled module.")
@click.option("--input-format", type=click.Choice(FORMATS),
              help="Assert the model's camera format (gray, a Bayer pattern); RGB data is "
                   "converted to it on the fly [default: the model's, from its metadata].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@max_arena_option
@max_recompute_option
def check(model, data, float_checkpoint, backend, kernels, planner, stream_input, jobs, samples,
          max_drop, plot, trust_pickle, input_format, as_json, max_arena, max_recompute):
    """Accuracy of the int8 MODEL on the host, with float comparison like ST Edge AI's validate:
    top-1/top-5 of float and int8, the drop in points, prediction agreement, and RMSE, MAE,
    cosine similarity and L2r between float and dequantised int8 logits."""
    if max_drop is not None and float_checkpoint is None:
        raise RnnedgeError("--max-drop needs --float model.pt to measure the drop against")
    if backend != "c" and planner != "best":
        raise RnnedgeError("--planner applies to the c backend only")
    if stream_input and (backend != "c" or planner != "fused"):
        raise RnnedgeError("--stream-input needs --backend c --planner fused")
    if max_recompute and (backend != "c" or planner != "fused"):
        raise RnnedgeError("--max-recompute needs --backend c --planner fused")
    engine = {"planner": planner, "stream_input": stream_input, "max_recompute": max_recompute}
    from rnnedge.detect.metadata import is_detector
    if os.path.isfile(model) and is_detector(model):
        return _check_detector(model, data, float_checkpoint, backend, samples, max_drop, plot,
                               trust_pickle, as_json, input_format,
                               dict(engine, kernels=kernels, max_arena=max_arena))
    result = run_check(model, data, float_checkpoint, backend, samples, trust_pickle,
                       progress=None if as_json else _progress_bar("check"), max_arena=max_arena,
                       jobs=jobs, kernels=kernels, input_format=input_format, **engine)
    if plot:
        plot_confusion(result.confusion, result.class_names, plot, f"{model} ({backend}, int8)")
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        click.echo(_format(result, model))
    if max_drop is not None and result.drop_pp > max_drop:
        if not as_json:
            click.echo(f"FAIL: int8 drop {result.drop_pp:.2f} pp exceeds --max-drop {max_drop}", err=True)
        raise SystemExit(1)


def _format(result, model):
    lines = [f"{model}: {result.samples} samples, backend {result.backend}",
             f"{'':<8} {'top-1 %':>8} {'top-5 %':>8}"]
    if result.float is not None:
        lines.append(f"{'float':<8} {result.float['top1']:>8.2f} {result.float['top5']:>8.2f}")
    lines.append(f"{'int8':<8} {result.int8['top1']:>8.2f} {result.int8['top5']:>8.2f}")
    if result.float is not None:
        e = result.errors
        lines.append(f"drop {result.drop_pp:+.2f} pp, agreement {result.agreement:.2f} %")
        lines.append(f"logits float vs int8: rmse {e['rmse']:.4g}  mae {e['mae']:.4g}  cos {e['cos']:.5f}  "
                     f"l2r {e['l2r']:.4g}")
    return "\n".join(lines)


def _check_detector(model, data, float_checkpoint, backend, samples, max_drop, plot, trust_pickle,
                    as_json, input_format, engine):
    """The detector's check (rnnedge.detect.check): AP50, AP50:95, F1 of float and int8;
    `engine`: the c backend's options."""
    from rnnedge.detect.check import format_result, run_detect_check
    from rnnedge.detect.plot import plot_detections

    result = run_detect_check(model, data, float_checkpoint, backend, samples, trust_pickle,
                              progress=None if as_json else _progress_bar("check"),
                              input_format=input_format, **engine)
    if plot:
        plot_detections(result.dataset, result.int8_detections, result.int8["threshold"], plot)
    click.echo(json.dumps(result.to_json()) if as_json else format_result(result, model))
    if max_drop is not None and result.drop_pp["ap50"] > max_drop:
        if not as_json:
            click.echo(f"FAIL: int8 AP50 drop {result.drop_pp['ap50']:.2f} pp exceeds --max-drop "
                       f"{max_drop}", err=True)
        raise SystemExit(1)
