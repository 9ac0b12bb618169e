"""`DetectionTask`: what the training loop needs from a detector.

The task interface training uses (`loss`, `evaluate`, `collate`, `checkpoint_extra`):
- `loss(outputs, targets)`: the YOLOv5-style loss (`rnnedge.detect.loss`) of the head maps;
- `evaluate(model, dataset)`: (validation AP50, metrics) by pycocotools, higher is better,
  which picks the best epoch;
- `collate`: the DataLoader collate_fn (`rnnedge.detect.augment.collate`);
- `checkpoint_extra()`: {"detection": anchors, strides, classes, input size} for the
  checkpoint, so export and check can decode without guessing.
`predict(model, images)` runs the float model and decodes with `rnnedge.detect.decode`.

May import: numpy, torch, rnnedge.detect.{augment, decode, evaluate, loss, metadata}.
"""

import numpy as np
import torch

from rnnedge.detect import decode, metadata
from rnnedge.detect.augment import collate, normalized_images
from rnnedge.detect.evaluate import coco_metrics
from rnnedge.detect.loss import DetectionLoss

EVAL_BATCH = 32


class DetectionTask:
    """A detector's loss, evaluation and checkpoint data (see the module docstring)."""

    name = "detect"

    def __init__(self, anchors, strides, class_names, input_hw, normalization,
                 anchor_source="kmeans"):
        self.anchors = np.asarray(anchors, np.float64)
        self.strides = list(strides)
        self.class_names = list(class_names)
        self.input_hw = tuple(input_hw)
        self.normalization = normalization
        self.anchor_source = anchor_source
        self._loss = DetectionLoss(self.anchors, self.strides, len(self.class_names),
                                   self.input_hw)
        self.collate = collate

    @property
    def num_classes(self):
        return len(self.class_names)

    def loss(self, outputs, targets):
        """Scalar loss of the head maps for the batch's targets (T, 6)."""
        return self._loss(outputs, targets)[0]

    def predict(self, model, dataset, batch=EVAL_BATCH, progress=None):
        """Per-image (boxes, scores, classes) of the float model on `dataset`."""
        model.eval()
        results = []
        with torch.no_grad():
            for start in range(0, len(dataset), batch):
                x = normalized_images(dataset, self.normalization, start, start + batch)
                maps = [m.numpy() for m in model(torch.from_numpy(x))]
                results += decode.postprocess(maps, self.anchors, self.strides,
                                              self.num_classes)
                if progress:
                    progress(min(start + batch, len(dataset)), len(dataset))
        return results

    def evaluate(self, model, dataset):
        """(AP50 in percent, metrics dict) of `model` on `dataset`."""
        metrics = coco_metrics(self.predict(model, dataset), dataset)
        return metrics["ap50"], metrics

    def checkpoint_extra(self):
        """Plain data for the checkpoint's `extra`."""
        return {"detection": metadata.make(self.anchors, self.strides, self.class_names,
                                           self.input_hw, self.anchor_source)}

    @classmethod
    def from_metadata(cls, info, normalization):
        """The task of a saved detector (checkpoint extra or .tflite metadata)."""
        return cls(info["anchors"], info["strides"], info["class_names"], info["input_hw"],
                   normalization, info.get("anchor_source", "given"))
