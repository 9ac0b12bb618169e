"""The main job, end to end on the embedded default: the paper's Table 6 measured here.

For each model (default: `cifar-resnet18-rnn` and its `-thin` baseline) it trains briefly on
the synthetic set, exports fully-int8 TFLite, plans the tensor arena, checks int8 accuracy on
the host with the C kernels, and collects one Table-6-style row: parameters, tensor arena,
total memory (weight bytes + arena), float and int8 accuracy. Before that it verifies every
zoo model's parameter count against Tables 1, 2, 5 and 6 (`zoo_report`).

Several models are measured at once, one process each, when the machine has a core for
each: the zoo's small convolutions scale poorly across threads within one training, while
separate trainings share nothing. Each process then trains single-threaded (or with its share
of the cores), so the numbers match `rnnedge train --threads` with that share.

Every artefact (checkpoints, .tflite files) lands in `workdir`, so a rerun with the same
settings resumes nothing and overwrites everything deterministically.
Imports: rnnedge.{zoo, summary, distributed, train, checkpoint, export, tflite, arena_report,
check}.
"""

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

from rnnedge import zoo
from rnnedge.distributed import usable_cpus
from rnnedge.summary import summarize

DEFAULT_MODELS = ("cifar-resnet18-rnn", "cifar-resnet18-thin")
PAPER_TABLE_6 = {  # model: (parameters, tensor arena, total memory, accuracy %), as printed
    "cifar-resnet18": ("453K", "24K", "477K", 61.4),
    "cifar-resnet18-rnn": ("156K", "24K", "180K", 59.0),
    "cifar-resnet18-thin": ("156K", "24K", "180K", 57.1),
    "cifar-resnet18-short": ("166K", "24K", "190K", 58.1),
}


@dataclass
class PipelineSettings:
    """What the main job trains on and for how long."""

    workdir: str = "rnnedge-out"
    models: tuple = DEFAULT_MODELS
    data: str = "synthetic"
    epochs: int = 5  # the CRNN's validation accuracy is 99.3% after 5 of 6 cosine epochs (and
    # 98.4% after 4); 5 keeps the whole job within 5 minutes on 2 cores
    train_samples: int | None = None  # per-split size of the synthetic set (None: its default,
    # 10,000 train images: the CRNN needs them; on 4,000 it stays at chance for 6 epochs)
    check_samples: int = 1000
    backend: str = "c"
    planner: str = "inplace"
    seed: int = 0
    input_format: str = "rgb"  # the camera's format (rnnedge.sensor): rgb, gray, bayer-...
    progress: bool = True
    log: object = field(default=None, repr=False)  # callable(str) for one-line progress notes


def zoo_report():
    """[{model, params, rows_checked, rows_matching, ...}] for every zoo model."""
    rows = []
    for name in zoo.names():
        entry = zoo.get(name)
        summary = summarize(name)
        checked = [r for r in summary.rows if r.paper_params is not None]
        stated, where = entry.stated_total
        rows.append({"model": name, "params": summary.total_params, "macs": summary.total_macs,
                     "rows_checked": len(checked), "rows_matching": sum(r.match for r in checked),
                     "paper_rows_total": entry.paper_rows_total, "paper_stated_total": stated,
                     "paper_table": where})
    return rows


def _data_spec(settings):
    """The dataset spec, with the synthetic set's size capped for a run in minutes."""
    if settings.data.split(":")[0] == "synthetic" and settings.train_samples and "n=" not in settings.data:
        return f"{settings.data}{',' if ':' in settings.data else ':'}n={settings.train_samples}"
    return settings.data


def measure_model(name, settings, threads=None):
    """Train (with `threads` intra-op threads; default: all usable CPUs), export, plan and
    check one classifier; returns its Table-6-style row."""
    from rnnedge import checkpoint
    from rnnedge.arena_report import arena_report
    from rnnedge.check import run_check
    from rnnedge.export.pipeline import export_int8
    from rnnedge.tflite import read_model
    from rnnedge.train import TrainConfig, train

    log = settings.log or (lambda message: None)
    data = _data_spec(settings)
    base = os.path.join(settings.workdir, name)
    clock = _StageClock()
    log(f"{name}: training {settings.epochs} epochs on {data}")
    trained = train(name, data, out=base + ".pt", config=TrainConfig(epochs=settings.epochs, seed=settings.seed),
                    progress=settings.progress, log=lambda line: log(f"{name}: {line}"),
                    threads=threads, input_format=settings.input_format)
    clock.lap("train")
    model, meta = checkpoint.load(base + ".pt")
    log(f"{name}: exporting int8")
    exported = export_int8(model, meta, base + ".tflite", calib=data)
    clock.lap("export")
    report = arena_report(read_model(base + ".tflite"), base + ".tflite", planner=settings.planner)
    clock.lap("arena")
    log(f"{name}: checking int8 accuracy ({settings.backend} kernels)")
    checked = run_check(base + ".tflite", data, base + ".pt", settings.backend, settings.check_samples)
    clock.lap("check")
    return {
        "model": name,
        "input_format": settings.input_format,
        "params": trained.parameters,
        "weight_bytes": report["weight_bytes"],
        "arena": report["arena"],
        "planner": settings.planner,
        "total_memory": report["total_memory"],
        "float_top1": checked.float["top1"],
        "int8_top1": checked.int8["top1"],
        "drop_pp": checked.drop_pp,
        "agreement": checked.agreement,
        "best_val_acc": trained.best_score,
        "ops": exported["stats"]["ops"],
        "tflite": base + ".tflite",
        "paper": dict(zip(("params", "arena", "total_memory", "accuracy"), PAPER_TABLE_6.get(name, (None,) * 4))),
        "train_epochs": [{**r, **s} for r, s in zip(trained.history, trained.throughput)],
        "seconds": clock.laps,
    }


def measure_models(settings):
    """measure_model() of every model, in settings.models order: in parallel processes
    (spawned; the cores shared out) when there are several models and cores, else in turn.
    Workers log through stderr and show no progress bars (several would garble one line)."""
    cpus, models = usable_cpus(), settings.models
    workers = min(len(models), cpus)
    if workers < 2:
        return [measure_model(name, settings) for name in models]
    quiet = replace(settings, progress=False, log=_log_to_stderr if settings.log else None)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        jobs = [pool.submit(measure_model, name, quiet, cpus // workers) for name in models]
        return [job.result() for job in jobs]


def _log_to_stderr(message):
    """A worker process's progress note (a picklable stand-in for the caller's `log`)."""
    print(message, file=sys.stderr, flush=True)


class _StageClock:
    """Wall and CPU seconds of consecutive stages: {stage: {"wall": s, "cpu": s}}."""

    def __init__(self):
        self.laps = {}
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, stage):
        wall, cpu = time.perf_counter(), time.process_time()
        self.laps[stage] = {"wall": wall - self._wall, "cpu": cpu - self._cpu}
        self._wall, self._cpu = wall, cpu


def run_pipeline(settings):
    """The whole main job: {"zoo": zoo_report(), "models": [row per model], "settings": ...}."""
    os.makedirs(settings.workdir, exist_ok=True)
    clock = _StageClock()
    zoo_rows = zoo_report()
    clock.lap("zoo")
    return {"zoo": zoo_rows, "seconds": clock.laps,
            "models": measure_models(settings),
            "settings": {"data": _data_spec(settings), "epochs": settings.epochs, "backend": settings.backend,
                         "planner": settings.planner, "check_samples": settings.check_samples,
                         "input_format": settings.input_format,
                         "workdir": os.path.abspath(settings.workdir)}}
