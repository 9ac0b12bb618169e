"""`rnnedge train det-...`: train a zoo detector and save the best epoch by validation AP50.

`train_detector(model_name, data, ...)` opens the train and val splits of detection data
(`rnnedge.data.detection_spec`) letterboxed to the input size (`--input-size`, any multiple of
32; parameters do not depend on it), builds the zoo network with a prediction conv per head
for 3 anchors x (5 + K), fits the anchors to the training boxes (k-means, or `--anchors`),
initialises the prediction biases as YOLOv5 does, and trains with the classification
trainer's optimiser, learning-rate schedule and settings (`rnnedge.train.TrainConfig`):
per-step cosine or one-cycle, Adam or SGD, seeded shuffles and jitter per (seed, epoch), a
progress bar, validation AP50 (pycocotools) after every epoch, the best epoch saved as an
rnnedge checkpoint (anchors, strides and classes in its `extra["detection"]`), and the full
state in `<out>.state` after every epoch for `--resume`.

May import: numpy, torch, tqdm, rnnedge.{zoo, train, checkpoint, files, errors, data},
rnnedge.detect.{anchors, augment, loss, task}.
"""

import math
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from rnnedge.data.torch_adapter import Normalization, epoch_seed
from rnnedge.detect.anchors import fit_anchors, head_strides, parse_anchors
from rnnedge.detect.augment import NO_BOX_AUGMENTATION, BoxAugmentation, DetectionTorchDataset
from rnnedge.detect.loss import init_prediction_biases
from rnnedge.detect.task import DetectionTask
from rnnedge.errors import RnnedgeError
from rnnedge.train import learning_rate, make_optimizer

STRIDE_MULTIPLE = 32
STATE_FORMAT = "rnnedge-detect-train-state"
RESUME_KEYS = ("zoo_name", "class_names", "input_hw", "optimizer", "batch", "seed")


@dataclass
class DetectTrainResult:
    """What a detector's training produced; AP in percent."""

    checkpoint: str
    state: str
    class_names: list
    parameters: int
    input_shape: list
    anchors: list
    anchor_source: str
    train_images: int
    val_images: int
    train_objects: int
    skipped: dict
    best_epoch: int | None = None
    best_val_ap50: float | None = None
    start_epoch: int = 1
    history: list = field(default_factory=list)

    def as_dict(self):
        return asdict(self)


def parse_input_size(text, default_hw):
    """`--input-size S` or `HxW` -> (H, W), multiples of STRIDE_MULTIPLE."""
    if text is None:
        return tuple(default_hw)
    try:
        parts = [int(v) for v in str(text).lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) < STRIDE_MULTIPLE or any(p % STRIDE_MULTIPLE for p in parts):
        raise RnnedgeError(f"--input-size: give S or HxW in multiples of {STRIDE_MULTIPLE} "
                           f"(the backbone's stride), got {text!r}")
    return tuple(parts)


def build_detector(model_name, num_classes):
    """(model, zoo config) of a zoo detector with prediction convs for `num_classes`."""
    from rnnedge import zoo

    entry = zoo.get(model_name)
    if entry.num_classes is not None:
        raise RnnedgeError(f"{model_name} is a classifier, not a detector")
    config = {"predict_channels": 3 * (5 + num_classes)}
    return zoo.build(model_name, **config), config


def train_detector(model_name, data="synthetic-detect", *, out="model.pt", config=None,
                   input_size=None, classes=None, anchors=None, resume=False, progress=False,
                   log=None, threads=None):
    """Train zoo detector `model_name` on detection data `data`; see the module docstring."""
    from rnnedge import zoo
    from rnnedge.data.detection_spec import open_detection_dataset
    from rnnedge.train import TrainConfig

    config = config or TrainConfig(batch=8)
    config.validate()
    input_hw = parse_input_size(input_size, zoo.get(model_name).input_shape[1:])
    shape = (3, *input_hw)
    train_set = open_detection_dataset(data, "train", shape, classes)
    val_set = open_detection_dataset(data, "val", shape, train_set.class_names)
    if len(train_set) < 2 or len(val_set) == 0:
        raise RnnedgeError(f"detection data {data}: {len(train_set)} train and {len(val_set)} "
                           "val images; give more data")
    if train_set.objects() == 0:
        raise RnnedgeError(f"detection data {data}: the train split has no objects")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
    try:
        torch.manual_seed(config.seed)
        model, model_config = build_detector(model_name, train_set.num_classes)
        strides = head_strides(model, shape[0])
        given = parse_anchors(anchors, strides)
        fitted, source = (given, "given") if given is not None else fit_anchors(train_set, strides)
        init_prediction_biases(model.predict, strides, train_set.num_classes)
        normalization = Normalization.of_images(train_set.images)
        task = DetectionTask(fitted, strides, train_set.class_names, input_hw, normalization,
                             source)
        result = DetectTrainResult(str(out), str(out) + ".state", list(train_set.class_names),
                                   sum(p.numel() for p in model.parameters()), list(shape),
                                   task.anchors.round(2).tolist(), source, len(train_set),
                                   len(val_set), train_set.objects(),
                                   {**train_set.skipped, **{f"val_{k}": v for k, v in
                                                            val_set.skipped.items()}})
        return _fit(model, task, train_set, val_set, config, result, model_name, model_config,
                    shape, data, resume, progress, log)
    finally:
        torch.set_num_threads(previous)


def _fit(model, task, train_set, val_set, config, result, zoo_name, model_config, shape, data,
         resume, progress, log):
    """The epoch loop: train, validate (AP50), keep the best, write the state."""
    out = Path(result.checkpoint)
    state_path = Path(result.state)
    if not out.parent.is_dir():
        raise RnnedgeError(f"cannot write {out}: folder {out.parent} does not exist")
    optimizer = make_optimizer(model, config)
    run = {"zoo_name": zoo_name, "class_names": list(task.class_names),
           "input_hw": list(task.input_hw), "optimizer": config.optimizer,
           "batch": config.batch, "seed": config.seed}
    if resume:
        _restore(state_path, model, optimizer, run, result, task)
    jitter = BoxAugmentation() if config.augment else NO_BOX_AUGMENTATION
    train_data = DetectionTorchDataset(train_set, task.normalization, jitter, config.seed)
    drop_last = len(train_set) % config.batch == 1
    steps_per_epoch = len(train_set) // config.batch + (len(train_set) % config.batch > 1)
    total_steps = steps_per_epoch * config.epochs
    for epoch in range(result.start_epoch, config.epochs + 1):
        record = _train_epoch(model, optimizer, task, train_data, config, epoch,
                              (epoch - 1) * steps_per_epoch, total_steps, drop_last, progress)
        score, metrics = task.evaluate(model, val_set)
        record.update(val_ap50=score, val_ap=metrics["ap"], val_f1=metrics["f1"])
        improved = result.best_val_ap50 is None or score > result.best_val_ap50
        if improved:
            result.best_epoch, result.best_val_ap50 = epoch, score
            _save_checkpoint(model, out, zoo_name, model_config, shape, task, config, record,
                             data)
        result.history.append(record)
        _save_state(state_path, model, optimizer, run, result, task, epoch)
        if log:
            log(f"epoch {epoch}/{config.epochs}: loss {record['train_loss']:.4f}, val AP50 "
                f"{score:.2f}, AP {metrics['ap']:.2f}, F1 {metrics['f1']:.2f}, lr "
                f"{record['lr']:.3g}" + (" (best, saved)" if improved else ""))
    return result


def _train_epoch(model, optimizer, task, train_data, config, epoch, first_step, total_steps,
                 drop_last, progress):
    model.train()
    train_data.set_epoch(epoch)
    generator = torch.Generator().manual_seed(epoch_seed(config.seed, epoch))
    loader = torch.utils.data.DataLoader(train_data, batch_size=config.batch, shuffle=True,
                                         generator=generator, collate_fn=task.collate,
                                         drop_last=drop_last, num_workers=0)
    bar = tqdm(loader, desc=f"epoch {epoch}/{config.epochs}", file=sys.stderr, leave=False,
               disable=None if progress else True, unit="batch")
    loss_sum, seen, lr = 0.0, 0, 0.0
    for step, (images, targets) in enumerate(bar, start=first_step):
        lr = learning_rate(config, step, total_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = task.loss(model(images), targets)
        value = loss.item()
        if not math.isfinite(value):
            raise RnnedgeError(f"training diverged in epoch {epoch} (loss {value}): lower --lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        loss_sum += value * len(images)
        seen += len(images)
        bar.set_postfix(loss=f"{loss_sum / seen:.4f}", refresh=False)
    bar.close()
    return {"epoch": epoch, "train_loss": loss_sum / max(seen, 1), "lr": lr}


def _save_checkpoint(model, out, zoo_name, model_config, shape, task, config, record, data):
    from rnnedge import checkpoint

    training = {**asdict(config), "epoch": record["epoch"], "val_ap50": record["val_ap50"],
                "data": str(data)}
    checkpoint.save(model, out, zoo_name=zoo_name, config=dict(model_config),
                    input_shape=shape,
                    normalization=(list(task.normalization.mean), list(task.normalization.std)),
                    class_names=task.class_names,
                    extra={"training": training, **task.checkpoint_extra()})


def _save_state(path, model, optimizer, run, result, task, epoch):
    from rnnedge.files import atomic_output

    state = {"format": STATE_FORMAT, "epoch": epoch, "run": run, "model": model.state_dict(),
             "optimizer": optimizer.state_dict(), "best_epoch": result.best_epoch,
             "best_val_ap50": result.best_val_ap50, "history": result.history,
             "anchors": task.anchors.tolist(), "anchor_source": task.anchor_source,
             "normalization": {"mean": list(task.normalization.mean),
                               "std": list(task.normalization.std)}}
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def _restore(path, model, optimizer, run, result, task):
    """Continue from the state file (same settings), restoring anchors and normalisation."""
    import numpy as np

    if not path.is_file():
        raise RnnedgeError(f"--resume: no training state at {path}; train without --resume first")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged or foreign file
        raise RnnedgeError(f"--resume: {path} is not a readable training state "
                           f"({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise RnnedgeError(f"--resume: {path} is not an rnnedge detector training state")
    try:
        saved = state["run"]
        for key in RESUME_KEYS:
            if saved.get(key) != run[key]:
                raise RnnedgeError(f"--resume: {key} was {saved.get(key)!r} in the saved run, "
                                   f"now {run[key]!r}; resume with the same settings")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        task.__init__(np.asarray(state["anchors"]), task.strides, task.class_names,
                      task.input_hw, Normalization(tuple(state["normalization"]["mean"]),
                                                   tuple(state["normalization"]["std"])),
                      state["anchor_source"])
        result.start_epoch = int(state["epoch"]) + 1
        result.best_epoch, result.best_val_ap50 = state["best_epoch"], state["best_val_ap50"]
        result.history = list(state["history"])
        result.anchors = task.anchors.round(2).tolist()
    except RnnedgeError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise RnnedgeError(f"--resume: {path} does not fit this run "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from None
