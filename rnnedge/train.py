"""Train a model on a Dataset and save the best epoch as an rnnedge checkpoint.

`train(model_name, data, ...)` builds a zoo classifier with the dataset's class count and runs
`fit`, which owns the loop for any `torch.nn.Module` and any task: the recipe of
rnnedge.train_recipe (Adam or SGD with Nesterov momentum, a per-step cosine with a short
linear warm-up or one-cycle learning rate), the dataset's augmentation, validation after
every epoch, and the checkpoint rewritten whenever the validation score improves.

What is specific to the problem comes from a task object (`ClassificationTask` here;
detection brings its own):
  name                 stored in the checkpoint's training metadata
  score_name           the name of the validation score in logs and results ("val_acc")
  collate              the DataLoader collate_fn, or None for PyTorch's default
  torch_dataset(dataset, normalization, augmentation, seed)
                       a torch Dataset with `set_epoch(epoch)` (augmentation drawn per epoch)
  check_model(model, input_shape, dataset)
                       RnnedgeError unless the model fits the data
  loss(outputs, targets) -> scalar Tensor, the mean over the batch
  train_counts(outputs, targets) -> {name: summed value}; fit records each sum / samples
  evaluate(model, torch_dataset) -> (score, metrics): higher score is better (it picks the
                       best epoch); metrics, a dict of floats, go into the epoch's record
  checkpoint_extra() -> dict of plain data stored in the checkpoint's `extra`
Optional: `after_step(model)` after every optimizer step, `model_to_save(model)` -> the
module whose weights the checkpoint gets (detection: its weight EMA, rnnedge.detect.ema).

After every epoch the full training state (last weights, optimizer, epoch, history) goes to
a side file `<out>.state`, loaded with `torch.load(weights_only=True)`; `resume=True`
continues from it. The learning rate is a pure function of the step, and the shuffle and
augmentation of epoch e are seeded by (seed, e), so a resumed run reproduces an
uninterrupted one.

May import: numpy, torch, rnnedge.data, rnnedge.layers, rnnedge.zoo, rnnedge.checkpoint,
rnnedge.distributed, rnnedge.train_loop, rnnedge.train_recipe, rnnedge.train_state,
rnnedge.errors.
"""

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from rnnedge import distributed
from rnnedge.data import open_dataset
from rnnedge.data.base import NO_AUGMENTATION
from rnnedge.data.torch_adapter import Normalization, TorchImageDataset, make_loader
from rnnedge.distributed import GlobalBatchSampler, World
from rnnedge.errors import RnnedgeError
from rnnedge.layers import set_form
from rnnedge.train_loop import AMP_DTYPES, TrainLoop, flush_denormals
from rnnedge.train_recipe import TrainConfig, learning_rate, make_optimizer
from rnnedge.train_state import load_state, save_state, state_path

EVAL_BATCH = 256
TRAINING_FORM = "static"
"""The form of the recurrent layers `train` trains in: the same function and parameters as
the reference form (to 1e-5), and on 2 CPU cores about half the CPU time per training step
of cifar-resnet18-rnn (benchmarks/training.py; docs/training.md)."""


@dataclass(frozen=True)
class Runtime:
    """Where and how a run computes: `device` ("auto", "cpu", "cuda", "cuda:N"), `amp`
    (None, "bf16" or "fp16" autocast; fp16 adds a grad scaler), data-loader `workers`, and
    SyncBatchNorm under DDP (`sync_batchnorm`). Under torchrun the world comes from the
    environment (rnnedge.distributed)."""

    device: str = "auto"
    amp: str | None = None
    workers: int = 0
    sync_batchnorm: bool = True

    def validate(self):
        """RnnedgeError for settings that cannot run here."""
        if self.amp is not None and self.amp not in AMP_DTYPES:
            raise RnnedgeError(f"--amp {self.amp!r}: use {' or '.join(AMP_DTYPES)}")
        if not 0 <= self.workers <= (os.cpu_count() or 1):
            raise RnnedgeError(f"--workers {self.workers}: give 0 (load in the training "
                               f"process) to {os.cpu_count() or 1} (this machine's CPUs)")


@dataclass
class TrainResult:
    """What a training run produced; accuracies in percent."""

    checkpoint: str
    state: str
    num_classes: int
    class_names: list
    parameters: int
    train_samples: int
    val_samples: int
    normalization: dict
    score_name: str = "val_acc"
    best_epoch: int | None = None
    best_score: float | None = None
    start_epoch: int = 1
    history: list = field(default_factory=list)
    throughput: list = field(default_factory=list)
    """Per epoch run by this call: {"epoch", "images_per_s", "train_s", "eval_s"} (not part of
    the history: timings differ between otherwise identical runs)."""
    world_size: int = 1
    device: str = "cpu"

    def as_dict(self):
        """A JSON-ready dict."""
        return asdict(self)


def evaluate(model, torch_dataset, batch=EVAL_BATCH):
    """(top-1 accuracy in percent, mean cross-entropy) of `model` over `torch_dataset`."""
    model.eval()
    device = next(model.parameters()).device
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for images, labels in make_loader(torch_dataset, batch, shuffle=False):
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss_sum += torch.nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.argmax(1) == labels).sum())
    n = len(torch_dataset)
    return 100.0 * correct / n, loss_sum / n


class ClassificationTask:
    """Image classification with cross-entropy; the score is top-1 validation accuracy (%)."""

    name = "classification"
    score_name = "val_acc"
    collate = None

    def torch_dataset(self, dataset, normalization, augmentation=NO_AUGMENTATION, seed=0):
        """(CHW float tensor, label) pairs of `dataset`."""
        return TorchImageDataset(dataset, normalization, augmentation, seed)

    def check_model(self, model, input_shape, dataset):
        """RnnedgeError unless `model` maps one `input_shape` image to one logit per class."""
        _check_head(model, input_shape, dataset.num_classes)

    def loss(self, outputs, targets):
        """Mean cross-entropy of the logits `outputs` against the labels `targets`."""
        return torch.nn.functional.cross_entropy(outputs, targets)

    def train_counts(self, outputs, targets):
        """{"train_acc": 100 x the number of correct top-1 predictions} of one batch."""
        return {"train_acc": 100.0 * (outputs.detach().argmax(1) == targets).sum()}

    def evaluate(self, model, torch_dataset):
        """(top-1 accuracy %, {"val_acc", "val_loss"}) over `torch_dataset`."""
        accuracy, loss = evaluate(model, torch_dataset)
        return accuracy, {"val_acc": accuracy, "val_loss": loss}

    def checkpoint_extra(self):
        """Nothing beyond the checkpoint's own fields (class names, normalisation)."""
        return {}


def fit(model, train_set, val_set, *, out, config, input_shape, zoo_name=None,
        model_config=None, task=None, runtime=Runtime(), resume=False, progress=False,
        log=None):
    """Train `model` on `train_set`, validate on `val_set` every epoch, save the best epoch to
    the checkpoint `out` and the training state to `<out>.state`; return a TrainResult.
    `task` (default ClassificationTask()) supplies the loss, the metrics and the score that
    picks the best epoch (see the module docstring); `runtime` the device, mixed precision
    and loader workers. Under torchrun every process calls fit: DDP, rank 0 alone evaluates,
    logs and writes files (see rnnedge.distributed).
    `zoo_name` and `model_config` rebuild the model at load time (zoo.build kwargs, or
    {"class": "rnnedge.<module>.<Class>", "kwargs": {...}} without a zoo name, as
    `rnnedge.checkpoint.save` requires); `log` gets one line per epoch; `progress` shows a
    tqdm bar when stderr is a terminal."""
    config.validate()
    runtime.validate()
    world = World.from_environment()
    device = distributed.resolve_device(runtime.device, world)
    out = Path(out)
    if len(train_set) < 2 or len(val_set) == 0:
        raise RnnedgeError(f"the {'train' if len(train_set) < 2 else 'val'} split has "
                           f"{len(train_set) if len(train_set) < 2 else 0} samples: give more "
                           "data")
    if tuple(val_set.class_names) != tuple(train_set.class_names):
        raise RnnedgeError("the val split's classes differ from the train split's")
    steps = distributed.steps_per_epoch(len(train_set), config.batch, world,
                                        runtime.sync_batchnorm)
    if steps == 0:
        raise RnnedgeError(f"{len(train_set)} training samples make no batch for "
                           f"{world.size} processes: give more data or a smaller --batch")
    task = ClassificationTask() if task is None else task
    task.check_model(model, input_shape, train_set)
    if world.is_main:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RnnedgeError(f"cannot create the folder of {out}: "
                               f"{exc.strerror or exc}") from None
    with distributed.process_group(world, device), flush_denormals(device):
        return _fit(model, train_set, val_set, out, config, input_shape, zoo_name,
                    model_config, task, runtime, resume, progress, log, world, device, steps)


def _fit(model, train_set, val_set, out, config, input_shape, zoo_name, model_config, task,
         runtime, resume, progress, log, world, device, steps_per_epoch):
    """fit() once the checks passed and the process group (if any) is joined."""
    normalization = Normalization.of_images(train_set.images)
    run = {"zoo_name": zoo_name, "class_names": list(train_set.class_names),
           "optimizer": config.optimizer, "batch": config.batch, "seed": config.seed}
    model.to(device)
    optimizer = make_optimizer(model, config)
    scaler = torch.amp.GradScaler(device.type, enabled=runtime.amp == "fp16")
    result = TrainResult(str(out), str(state_path(out)), train_set.num_classes,
                         list(train_set.class_names), sum(p.numel() for p in model.parameters()),
                         len(train_set), len(val_set), normalization.as_dict(),
                         task.score_name, world_size=world.size, device=str(device))
    if resume:
        state = load_state(state_path(out), run, config.epochs)
        _restore(state, model, optimizer, scaler, result)
        normalization = Normalization(tuple(result.normalization["mean"]),
                                      tuple(result.normalization["std"]))
        if result.start_epoch > config.epochs and not out.is_file():
            raise RnnedgeError(f"--resume: nothing left to train and the checkpoint {out} "
                               "is gone; train without --resume")
    undo_sync = distributed.synchronise_batchnorm(model, device) if world.distributed and runtime.sync_batchnorm else None
    trained = torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None) \
        if world.distributed else model
    augmentation = train_set.augmentation if config.augment else NO_AUGMENTATION
    train_data = task.torch_dataset(train_set, normalization, augmentation, config.seed)
    val_data = task.torch_dataset(val_set, normalization)
    sampler = GlobalBatchSampler(len(train_data), config.batch, world, config.seed,
                                 runtime.sync_batchnorm)
    total_steps = steps_per_epoch * config.epochs
    loop = TrainLoop(trained, optimizer, scaler, task, config, runtime, world, device,
                     lambda step: learning_rate(config, step, total_steps),
                     progress and world.is_main)
    try:
        for epoch in range(result.start_epoch, config.epochs + 1):
            started = time.perf_counter()
            record = loop.epoch(train_data, sampler, epoch, (epoch - 1) * steps_per_epoch)
            trained_s = time.perf_counter() - started
            images = record.pop("images")
            score, metrics = (task.evaluate(model, val_data) if world.is_main else (None, None))
            score, metrics = distributed.broadcast_from_main((score, metrics), world)
            record.update(metrics)
            record["score"] = score
            improved = result.best_score is None or score > result.best_score
            if improved:
                result.best_epoch, result.best_score = epoch, score
            result.history.append(record)
            if world.is_main:
                if improved:
                    saved = getattr(task, "model_to_save", lambda m: m)(model)
                    _save_checkpoint(saved, out, zoo_name, model_config, input_shape,
                                     normalization, train_set, config, record, task)
                save_state(state_path(out), epoch=epoch, run=run, model=model,
                           optimizer=optimizer, scaler=scaler, result=result)
            speed = {"epoch": epoch, "images_per_s": images / trained_s,
                     "train_s": trained_s, "eval_s": time.perf_counter() - started - trained_s}
            result.throughput.append(speed)
            if log and world.is_main:
                log(_epoch_line(record, config.epochs, improved, speed))
    finally:
        if undo_sync:
            undo_sync()
    return result


def _epoch_line(record, epochs, improved, speed):
    """The one-line summary of an epoch's record and speed."""
    values = ", ".join(f"{key} {value:.4g}" for key, value in record.items()
                       if key not in ("epoch", "score"))
    return (f"epoch {record['epoch']}/{epochs}: {values}, {speed['images_per_s']:.0f} img/s "
            f"(train {speed['train_s']:.1f} s, eval {speed['eval_s']:.1f} s)"
            + (" (best, saved)" if improved else ""))


def train(model_name, data="synthetic", *, out="model.pt", config=TrainConfig(),
          runtime=Runtime(), resume=False, progress=False, log=None, threads=None,
          input_format="rgb", sensor_noise=0.0, bayer_conv="demosaic"):
    """Build zoo model `model_name` with the class count of `data` (an `open_dataset` spec,
    delivered as the sensor of `input_format` gives it, rnnedge.sensor; `bayer_conv` the
    form of an odd-stride Bayer conv 1, rnnedge.sensor_conv) and `fit` it; `threads` sets torch's intra-op threads for the run (default: the CPUs
    this process may use, shared among the processes torchrun starts on this machine)."""
    from rnnedge import zoo

    entry = zoo.get(model_name)
    if entry.num_classes is None:
        raise RnnedgeError(f"{model_name} is not a classifier: `rnnedge train` trains the "
                           "classification models")
    config.validate()
    runtime.validate()
    cpus = os.cpu_count() or 1
    if threads is not None and not 1 <= threads <= cpus:
        raise RnnedgeError(f"--threads {threads}: give 1 to {cpus} (this machine's CPUs)")
    world = World.from_environment()
    shape = zoo.input_shape(model_name, input_format)
    train_set = open_dataset(data, "train", shape, input_format, sensor_noise)
    val_set = open_dataset(data, "val", shape, input_format, sensor_noise)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or max(1, distributed.usable_cpus() // world.local_size))
    try:
        torch.manual_seed(config.seed)
        model_config = {"num_classes": train_set.num_classes}
        if input_format != "rgb":
            model_config["input_format"] = input_format
        if bayer_conv != "demosaic":
            model_config["bayer_conv"] = bayer_conv
        model = zoo.build(model_name, **model_config)
        set_form(model, TRAINING_FORM)
        return fit(model, train_set, val_set, out=out, config=config,
                   input_shape=shape, zoo_name=model_name,
                   model_config=model_config, runtime=runtime, resume=resume,
                   progress=progress, log=log)
    finally:
        torch.set_num_threads(previous)


def _check_head(model, input_shape, num_classes):
    """RnnedgeError unless `model` maps one `input_shape` image to `num_classes` logits."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = model(torch.zeros(1, *input_shape))
    except RuntimeError as exc:
        raise RnnedgeError(f"the model does not accept {tuple(input_shape)} inputs: "
                           f"{str(exc).splitlines()[0]}") from None
    finally:
        model.train(was_training)
    if tuple(logits.shape) != (1, num_classes):
        raise RnnedgeError(f"the model outputs {tuple(logits.shape[1:])} logits but the dataset "
                           f"has {num_classes} classes: build it with num_classes={num_classes}")


def _save_checkpoint(model, out, zoo_name, model_config, input_shape, normalization,
                     train_set, config, record, task):
    """Write the rnnedge checkpoint of the current weights to `out` (atomically); its
    `extra` holds the training metadata and the task's own data."""
    from rnnedge import checkpoint

    training = {**asdict(config), "task": task.name, "epoch": record["epoch"],
                task.score_name: record["score"], "data": train_set.source}
    try:
        checkpoint.save(model, out, zoo_name=zoo_name, config=dict(model_config or {}),
                        input_shape=tuple(input_shape),
                        normalization=(list(normalization.mean), list(normalization.std)),
                        class_names=list(train_set.class_names),
                        extra={**task.checkpoint_extra(), "training": training})
    except OSError as exc:
        raise RnnedgeError(f"cannot write {out}: {exc.strerror or exc}") from None


def _restore(state, model, optimizer, scaler, result):
    """Load a checked training state into model, optimizer, scaler and result."""
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scaler.is_enabled() and state["scaler"]:
            scaler.load_state_dict(state["scaler"])
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise RnnedgeError(f"--resume: the training state does not fit this model "
                           f"({str(exc).splitlines()[0]})") from None
    result.start_epoch = state["epoch"] + 1
    result.best_epoch, result.best_score = state["best_epoch"], state["best_score"]
    result.normalization = state["normalization"]
    result.history = list(state["history"])
