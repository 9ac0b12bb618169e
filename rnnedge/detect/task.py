"""`DetectionTask`: a detector for `rnnedge.train.fit(task=...)`.

What fit asks of a task, for detection:
- `torch_dataset(dataset, normalization, augmentation, seed)`: the letterboxed images with
  their boxes, box-aware jitter (`rnnedge.detect.augment`); `collate` stacks the targets;
- `check_model`: the model must return one map of 3 x (5 + K) channels per head;
- `loss(outputs, targets)`: the YOLOv5-style loss (`rnnedge.detect.loss`) of the head maps;
  `train_counts`: none beyond the loss;
- `evaluate(model, torch_dataset)`: (validation AP50, {val_ap50, val_ap, val_f1}) by
  pycocotools, higher is better, which picks the best epoch;
- `checkpoint_extra()`: {"detection": anchors, strides, classes, input size} for the
  checkpoint, so export and check decode without guessing;
- with `ema` (a `rnnedge.detect.ema.WeightEMA`): `after_step` updates the average,
  validation and `model_to_save` use it, and after every validation its state goes to
  `ema_path` (beside the training state) so `--resume` continues it (`resume_ema`).
`predict(model, dataset, normalization)` runs the float model and decodes with
`rnnedge.detect.decode`.

May import: os, numpy, torch, rnnedge.{errors, files}, rnnedge.detect.{augment, decode, ema,
evaluate, loss, metadata}.
"""

import os

import numpy as np
import torch

from rnnedge.detect import decode, metadata
from rnnedge.detect.augment import DetectionTorchDataset, collate, normalized_images
from rnnedge.detect.evaluate import coco_metrics
from rnnedge.detect.loss import DetectionLoss
from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_output

EVAL_BATCH = 32


class DetectionTask:
    """A detector's data, loss, evaluation and checkpoint data (see the module docstring)."""

    name = "detect"
    score_name = "val_ap50"
    collate = staticmethod(collate)

    def __init__(self, anchors, strides, class_names, input_hw, anchor_source="kmeans",
                 ema=None, ema_path=None):
        self.ema, self.ema_path, self.validations = ema, ema_path, 0
        self.anchors = np.asarray(anchors, np.float64)
        self.strides = list(strides)
        self.class_names = list(class_names)
        self.input_hw = tuple(input_hw)
        self.anchor_source = anchor_source
        self._loss = DetectionLoss(self.anchors, self.strides, len(self.class_names),
                                   self.input_hw)

    @property
    def num_classes(self):
        return len(self.class_names)

    def torch_dataset(self, dataset, normalization, augmentation=None, seed=0):
        """(image tensor, targets) pairs of a DetectionDataset."""
        return DetectionTorchDataset(dataset, normalization, augmentation, seed)

    def check_model(self, model, input_shape, dataset):
        """RnnedgeError unless `model` maps an image to one 3 x (5 + K) map per stride."""
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                maps = model(torch.zeros(1, *input_shape))
        except RuntimeError as exc:
            raise RnnedgeError(f"the detector does not accept {tuple(input_shape)} inputs: "
                               f"{str(exc).splitlines()[0]}") from None
        finally:
            model.train(was_training)
        channels = 3 * (5 + dataset.num_classes)
        if len(maps) != len(self.strides) or any(m.shape[1] != channels for m in maps):
            raise RnnedgeError(f"the detector's heads give {[m.shape[1] for m in maps]} "
                               f"channels; {len(self.strides)} heads of {channels} expected")

    def loss(self, outputs, targets):
        """Scalar loss of the head maps for the batch's targets (T, 6)."""
        return self._loss(outputs, targets)[0]

    def train_counts(self, outputs, targets):
        """Nothing per batch beyond the loss (AP needs whole-set matching)."""
        return {}

    def predict(self, model, dataset, normalization, batch=EVAL_BATCH, progress=None):
        """Per-image (boxes, scores, classes) of the float model on a DetectionDataset."""
        model.eval()
        results = []
        with torch.no_grad():
            for start in range(0, len(dataset), batch):
                x = normalized_images(dataset, normalization, start, start + batch)
                maps = [m.numpy() for m in model(torch.from_numpy(x))]
                results += decode.postprocess(maps, self.anchors, self.strides,
                                              self.num_classes)
                if progress:
                    progress(min(start + batch, len(dataset)), len(dataset))
        return results

    def after_step(self, model):
        """After an optimizer step: move the weight EMA (if any)."""
        if self.ema is not None:
            self.ema.update(model)

    def model_to_save(self, model):
        """The weights the checkpoint gets: the EMA's once it exists, else `model`'s."""
        return self.ema.model if self.ema is not None and self.ema.model is not None else model

    def resume_ema(self, epoch):
        """Continue the EMA saved at `ema_path` when it was saved after epoch `epoch` (the
        training state's); False (a fresh average) when it is missing or from another
        epoch."""
        self.validations = epoch
        if self.ema is None or not self.ema_path or not os.path.isfile(self.ema_path):
            return False
        try:
            state = torch.load(self.ema_path, map_location="cpu", weights_only=True)
            if int(state["epoch"]) != epoch:
                return False
            self.ema.load_state(state)
        except Exception:  # a damaged side file: start a fresh average
            return False
        return True

    def evaluate(self, model, torch_dataset):
        """(AP50 %, {"val_ap50", "val_ap", "val_f1"}) of `model` (its EMA when kept) on a
        torch_dataset's images; then the EMA's state to `ema_path`."""
        dataset = torch_dataset.dataset
        evaluated = self.model_to_save(model)
        metrics = coco_metrics(self.predict(evaluated, dataset, torch_dataset.normalization),
                               dataset)
        self.validations += 1
        if self.ema_path and self.ema is not None and self.ema.model is not None:
            with atomic_output(self.ema_path) as tmp:
                torch.save({**self.ema.state(), "epoch": self.validations}, tmp)
        return metrics["ap50"], {"val_ap50": metrics["ap50"], "val_ap": metrics["ap"],
                                 "val_f1": metrics["f1"]}

    def checkpoint_extra(self):
        """Plain data for the checkpoint's `extra`."""
        return {"detection": metadata.make(self.anchors, self.strides, self.class_names,
                                           self.input_hw, self.anchor_source)}

    @classmethod
    def from_metadata(cls, info):
        """The task of a saved detector (checkpoint extra or .tflite metadata)."""
        return cls(info["anchors"], info["strides"], info["class_names"], info["input_hw"],
                   info.get("anchor_source", "given"))
