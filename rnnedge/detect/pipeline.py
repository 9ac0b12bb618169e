"""`rnnedge pipeline --task detect`: the paper's Tables 3/4 measured on the embedded default.

For each detector (default det-cnn-256 and det-crnn-256, the same training budget) it trains
on the synthetic detection set at a CPU-sized input (default 128x128; parameters do not
depend on it), exports fully-int8 TFLite calibrated on the training split, checks float and
int8 F1 / AP50 on the check split with the C kernels, and plans the arena of the int8 model
both at the training size and at the table's full input (the same weights exported at
256x256, or 480x640), with TFLM's planner and rnnedge's in-place planner. One row per model:
parameters, arena (inplace, tflm), total memory (int8 weight bytes + inplace arena), F1 and
AP50 of float and int8, beside the paper's figures (PAPER).

The paper's arenas (819K at 256x256, 1.63M at 480x640) are stated without derivation; the
int8 input alone is 196,608 B at 256x256 and 921,600 B at 480x640, and the input plus the
first conv's output 278,528 B / 1,536,000 B: README compares them with rnnedge's plans.
Artefacts land in `workdir`.

May import: rnnedge.{zoo, train, checkpoint, arena_report, tflite, export.pipeline},
rnnedge.detect.{train, check}.
"""

import os
import time
from dataclasses import dataclass, field

DEFAULT_MODELS = ("det-cnn-256", "det-crnn-256")
PAPER = {  # Tables 3 and 4 as printed: parameters, tensor arena, total memory, F1, AP50
    "det-cnn-256": ("493K", "819K", "1.31M", 55.5, 53.1),
    "det-crnn-256": ("493K", "819K", "1.31M", 56.3, 53.8),
    "det-cnn-480x640": ("605K", "1.63M", "2.23M", 68.0, 70.1),
    "det-crnn-480x640": ("522K", "1.63M", "2.15M", 67.4, 68.5),
}


@dataclass
class DetectPipelineSettings:
    """What the detection job trains on and for how long."""

    workdir: str = "rnnedge-out"
    models: tuple = DEFAULT_MODELS
    data: str = "synthetic-detect"
    input_size: str = "128"
    epochs: int = 8
    batch: int = 8
    check_samples: int | None = None
    backend: str = "c"
    full_size_arena: bool = True
    seed: int = 0
    threads: int | None = None  # torch threads for training (None: the usable CPUs)
    input_format: str = "rgb"  # the camera's format (rnnedge.sensor)
    progress: bool = True
    log: object = field(default=None, repr=False)


def _arena(path):
    from rnnedge.arena_report import arena_report
    from rnnedge.tflite import read_model

    report = arena_report(read_model(path), path, planner="inplace")
    return report


def measure_detector(name, settings):
    """Train, export, check and plan one detector; returns its Table-3/4-style row."""
    from rnnedge import checkpoint, zoo
    from rnnedge.detect.check import run_detect_check
    from rnnedge.detect.train import train_detector
    from rnnedge.export.pipeline import export_int8
    from rnnedge.train import TrainConfig

    log = settings.log or (lambda message: None)
    base = os.path.join(settings.workdir, name)
    log(f"{name}: training {settings.epochs} epochs on {settings.data} at {settings.input_size}")
    start = time.perf_counter()
    trained = train_detector(name, settings.data, out=base + ".pt",
                             config=TrainConfig(epochs=settings.epochs, batch=settings.batch,
                                                seed=settings.seed),
                             input_size=settings.input_size, progress=settings.progress,
                             input_format=settings.input_format, threads=settings.threads)
    train_s = time.perf_counter() - start
    model, meta = checkpoint.load(base + ".pt")
    log(f"{name}: exporting int8")
    exported = export_int8(model, meta, base + ".tflite", calib=settings.data, check_samples=8)
    report = _arena(base + ".tflite")
    log(f"{name}: checking float and int8 AP ({settings.backend} kernels)")
    checked = run_detect_check(base + ".tflite", settings.data, base + ".pt", settings.backend,
                               settings.check_samples)
    row = {
        "model": name, "input_shape": trained.input_shape, "params": trained.parameters,
        "weight_bytes": report["weight_bytes"], "arena": report["arena"],
        "total_memory": report["total_memory"],
        "float": {k: checked.float[k] for k in ("ap50", "ap", "f1", "threshold")},
        "int8": {k: checked.int8[k] for k in ("ap50", "ap", "f1", "threshold")},
        "drop_pp": checked.drop_pp, "images": checked.images,
        "best_epoch": trained.best_epoch, "train_s_per_epoch": train_s / settings.epochs,
        "ops": exported["stats"]["ops"], "macs": exported["stats"]["graph_macs"],
        "tflite": base + ".tflite",
        "paper": dict(zip(("params", "arena", "total_memory", "f1", "ap50"),
                          PAPER.get(name, (None,) * 5))),
    }
    full_hw = tuple(zoo.get(name).input_shape[1:])
    if settings.full_size_arena and list(full_hw) != trained.input_shape[1:]:
        log(f"{name}: exporting the same weights at {full_hw[0]}x{full_hw[1]} for its arena")
        channels = trained.input_shape[0]
        full_meta = {**meta, "input_shape": [channels, *full_hw]}
        full_path = base + f"-{full_hw[0]}x{full_hw[1]}.tflite"
        export_int8(model, full_meta, full_path, calib=settings.data, calib_samples=16,
                    check_samples=2, run_tflm=False)
        full = _arena(full_path)
        row["full_size"] = {"input_hw": list(full_hw), "arena": full["arena"],
                            "total_memory": full["total_memory"],
                            "input_bytes": channels * full_hw[0] * full_hw[1]}
    return row


def run_detect_pipeline(settings):
    """{"models": [row per model], "settings": {...}}."""
    os.makedirs(settings.workdir, exist_ok=True)
    return {"task": "detect",
            "models": [measure_detector(name, settings) for name in settings.models],
            "settings": {"data": settings.data, "input_size": settings.input_size,
                         "input_format": settings.input_format,
                         "epochs": settings.epochs, "batch": settings.batch,
                         "backend": settings.backend,
                         "workdir": os.path.abspath(settings.workdir)}}


def _k(n):
    return f"{n / 1024:.1f}K" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f}M"


def format_table(result):
    """The Table 3/4-style text summary."""
    s = result["settings"]
    lines = [f"Tables 3/4 measured here ({s['data']}, input {s['input_size']}, {s['epochs']} "
             f"epochs, batch {s['batch']}; int8 on the {s['backend']} kernels):",
             f"  {'model':<16} {'params':>8} {'arena':>7} {'(tflm)':>7} {'total':>7} "
             f"{'full-size arena':>16} {'F1 fl/i8':>12} {'AP50 fl/i8':>12} | paper: params "
             f"arena total  F1  AP50"]
    for m in result["models"]:
        p, full = m["paper"], m.get("full_size")
        full_text = (f"{_k(full['arena']['inplace'])} ({_k(full['arena']['tflm'])})"
                     if full else "-")
        lines.append(
            f"  {m['model']:<16} {m['params']:>8,} {_k(m['arena']['inplace']):>7} "
            f"{_k(m['arena']['tflm']):>7} {_k(m['total_memory']):>7} {full_text:>16} "
            f"{m['float']['f1']:>5.1f}/{m['int8']['f1']:<5.1f} "
            f"{m['float']['ap50']:>5.1f}/{m['int8']['ap50']:<5.1f} |        {p['params'] or '-'} "
            f"{p['arena'] or '-'} {p['total_memory'] or '-'} {p['f1'] or '-'} {p['ap50'] or '-'}")
    lines.append("  (arena: inplace plan at the training input, tflm in brackets; full-size: the "
                 "same weights at the table's input; the paper's F1/AP50 are COCO person, ours "
                 "the synthetic set)")
    return "\n".join(lines)
