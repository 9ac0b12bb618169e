"""`rnnedge train det-...`: train a zoo detector and save the best epoch by validation AP50.

`train_detector(model_name, data, ...)` opens the train and val splits of detection data
(`rnnedge.data.detection_spec`) letterboxed to the input size (`--input-size`, any multiple of
32; parameters do not depend on it), builds the zoo network with a prediction conv per head
for 3 anchors x (5 + K), fits the anchors to the training boxes (k-means, or `--anchors`;
deterministic, so a resumed run fits the same ones; `--resume` refuses another input size,
classes or fitted anchors in one line), initialises the prediction biases as
YOLOv5 does, and hands the rest to `rnnedge.train.fit` with a `DetectionTask`: the same
optimiser, learning-rate schedule, seeded shuffles and jitter, progress bar, per-epoch
validation (AP50 by pycocotools picks the best epoch), checkpoint (anchors, strides and
classes in its `extra["detection"]`) and `--resume` state as classification. Validation
and the checkpoint use an exponential moving average of the weights (`rnnedge.detect.ema`,
as YOLOv5 does), kept in `<out>.ema` so `--resume` continues it.

May import: numpy, torch, rnnedge.{zoo, train, errors, data.detection_spec},
rnnedge.train_state, rnnedge.detect.{anchors, ema, loss, task}.
"""

import os
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from rnnedge.detect.anchors import fit_anchors, head_strides, parse_anchors
from rnnedge.detect.ema import WeightEMA
from rnnedge.detect.loss import init_prediction_biases
from rnnedge.detect.task import DetectionTask
from rnnedge.errors import RnnedgeError
from rnnedge.train import TrainConfig, fit

STRIDE_MULTIPLE = 32


@dataclass
class DetectTrainResult:
    """What a detector's training produced; AP in percent (`fit`'s TrainResult, plus the
    detector's input, anchors and data counts)."""

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


def build_detector(model_name, num_classes, input_format="rgb"):
    """(model, zoo config) of a zoo detector with prediction convs for `num_classes`, reading
    `input_format` (rnnedge.sensor)."""
    from rnnedge import zoo

    entry = zoo.get(model_name)
    if entry.num_classes is not None:
        raise RnnedgeError(f"{model_name} is a classifier, not a detector")
    config = {"predict_channels": 3 * (5 + num_classes)}
    if input_format != "rgb":
        config["input_format"] = input_format
    return zoo.build(model_name, **config), config


def check_resumable(out, task):
    """RnnedgeError (one line) unless the run saved at `out` decodes as `task` does: the same
    input size, classes and anchors (anchors are fitted to the training boxes, so another
    dataset shows there). The weights alone would load at any input size and any data."""
    if not os.path.isfile(out):
        return  # fit's own --resume checks say what is missing
    try:
        saved = torch.load(out, map_location="cpu", weights_only=True)["extra"]["detection"]
        saved = {"input_hw": [int(v) for v in saved["input_hw"]],
                 "class_names": [str(c) for c in saved["class_names"]],
                 "anchors": np.asarray(saved["anchors"], np.float64)}
    except Exception:  # a foreign or damaged file: torch raises many types
        raise RnnedgeError(f"--resume: {out} is not a detector checkpoint of rnnedge") from None
    now = task.checkpoint_extra()["detection"]
    if saved["input_hw"] != now["input_hw"]:
        raise RnnedgeError(f"--resume: {out} was trained at --input-size "
                           f"{'x'.join(map(str, saved['input_hw']))}, now "
                           f"{'x'.join(map(str, now['input_hw']))}; resume with the same size")
    if saved["class_names"] != now["class_names"]:
        raise RnnedgeError(f"--resume: {out} detects {', '.join(saved['class_names'])}, this "
                           f"data {', '.join(now['class_names'])}; resume with the same classes")
    anchors = np.asarray(now["anchors"], np.float64)
    if saved["anchors"].shape != anchors.shape or \
            not np.allclose(saved["anchors"], anchors, atol=1e-2):
        raise RnnedgeError(f"--resume: the anchors fitted to this data differ from {out}'s "
                           "(another dataset or --anchors); resume on the same data")


def _saved_epoch(out):
    """The epoch of the training state beside `out`, or None (fit reports what is wrong)."""
    from rnnedge.train_state import state_path

    try:
        return int(torch.load(state_path(out), map_location="cpu", weights_only=True)["epoch"])
    except Exception:  # missing or damaged: fit's --resume checks say so in one line
        return None


def train_detector(model_name, data="synthetic-detect", *, out="model.pt", config=None,
                   input_size=None, classes=None, anchors=None, resume=False, progress=False,
                   log=None, threads=None, input_format="rgb", sensor_noise=0.0, ema=True):
    """Train zoo detector `model_name` on detection data `data` (delivered as the sensor of
    `input_format` gives it), validating and saving a weight EMA unless `ema` is False; see
    the module docstring."""
    from rnnedge import sensor, zoo
    from rnnedge.data.detection_spec import open_detection_dataset
    from rnnedge.data.spec import as_sensor

    config = config or TrainConfig(batch=8)
    config.validate()
    input_hw = parse_input_size(input_size, zoo.get(model_name).input_shape[1:])
    shape = (sensor.channels(input_format), *input_hw)
    train_set = as_sensor(open_detection_dataset(data, "train", (3, *input_hw), classes),
                          "train", input_format, sensor_noise)
    val_set = as_sensor(open_detection_dataset(data, "val", (3, *input_hw),
                                               train_set.class_names),
                        "val", input_format, sensor_noise)
    if train_set.objects() == 0 and len(train_set):
        raise RnnedgeError(f"detection data {data}: the train split has no objects")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
    try:
        torch.manual_seed(config.seed)
        model, model_config = build_detector(model_name, train_set.num_classes, input_format)
        strides = head_strides(model, shape[0])
        given = parse_anchors(anchors, strides)
        fitted, source = (given, "given") if given is not None else fit_anchors(train_set, strides)
        init_prediction_biases(model.predict, strides, train_set.num_classes)
        task = DetectionTask(fitted, strides, train_set.class_names, input_hw, source,
                             ema=WeightEMA() if ema else None,
                             ema_path=f"{out}.ema" if ema else None)
        if resume:
            check_resumable(out, task)
            epoch = _saved_epoch(out)
            if epoch is not None and not task.resume_ema(epoch) and ema and log:
                log(f"--resume: no weight EMA saved after epoch {epoch}; starting a fresh one")
        trained = fit(model, train_set, val_set, out=out, config=config, input_shape=shape,
                      zoo_name=model_name, model_config=model_config, task=task, resume=resume,
                      progress=progress, log=log)
    finally:
        torch.set_num_threads(previous)
    skipped = {**train_set.skipped, **{f"val_{k}": v for k, v in val_set.skipped.items()}}
    return DetectTrainResult(trained.checkpoint, trained.state, trained.class_names,
                             trained.parameters, list(shape), task.anchors.round(2).tolist(),
                             source, len(train_set), len(val_set), train_set.objects(), skipped,
                             trained.best_epoch, trained.best_score, trained.start_epoch,
                             trained.history)
