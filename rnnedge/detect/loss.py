"""The anchor-based detection loss (YOLOv5's ComputeLoss, for 5 heads at any input size).

Targets are rows (image index, class, cx, cy, w, h) in input pixels. On each head, a target
is matched to every anchor whose width and height ratios to the target's stay below
ANCHOR_T (4), in its own grid cell and the two neighbouring cells its centre is nearest to
(YOLOv5's 3-cell assignment), so one object trains several predictions across the heads.
Box loss: 1 - CIoU of the decoded box (`rnnedge.detect.decode`'s formulas) with the target.
Objectness: BCE towards the CIoU of matched predictions (clamped at 0) and 0 elsewhere,
weighted per head by BALANCE (the fine heads see most cells). Classes: BCE with one-hot
targets (only when K > 1, as YOLOv5). The gains are YOLOv5's hyperparameters, rescaled as
its train.py does for 5 heads, K classes and the input size.

`init_prediction_biases` sets the prediction convs' objectness bias to expect 8 objects per
640x640 image and the class bias to 0.6 / (K - 0.99) (YOLOv5's initialisation), which
training from scratch needs to start from a sensible objectness.

May import: math, torch, rnnedge.detect.boxes.
"""

import math

import torch
from torch import nn

from rnnedge.detect.boxes import ciou

ANCHOR_T = 4.0
BALANCE = (4.0, 1.0, 0.25, 0.06, 0.02)
GAINS = {"box": 0.05, "obj": 1.0, "cls": 0.5}
NEIGHBOUR_OFFSETS = torch.tensor([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]], dtype=torch.float32)


def init_prediction_biases(predict_convs, strides, num_classes):
    """YOLOv5's prior for the prediction convs' biases (objectness and classes), stated for
    640x640 inputs and used as it is at every input size."""
    with torch.no_grad():
        for conv, stride in zip(predict_convs, strides):
            bias = conv.bias.view(-1, 5 + num_classes)
            bias[:, 4] += math.log(8 / (640 / stride) ** 2)
            bias[:, 5:] += math.log(0.6 / (num_classes - 0.99))


class DetectionLoss:
    """Callable: (head maps [(N, 3 (5+K), H, W)], targets (T, 6)) -> (loss, parts dict)."""

    def __init__(self, anchors, strides, num_classes, input_hw):
        self.anchors = torch.as_tensor(anchors, dtype=torch.float32)  # (heads, 3, 2) pixels
        self.strides = list(strides)
        self.num_classes = num_classes
        heads = len(self.strides)
        self.balance = BALANCE[:heads] if heads <= len(BALANCE) else (1.0,) * heads
        scale = 3 / heads
        self.gain_box = GAINS["box"] * scale
        self.gain_cls = GAINS["cls"] * num_classes / 80 * scale
        self.gain_obj = GAINS["obj"] * (input_hw[0] * input_hw[1]) / 640 ** 2 * scale
        self.bce = nn.BCEWithLogitsLoss()

    def __call__(self, maps, targets):
        device = maps[0].device
        zero = torch.zeros((), device=device)
        loss_box, loss_obj, loss_cls = zero, zero, zero
        per = 5 + self.num_classes
        for level, raw in enumerate(maps):
            n, _, height, width = raw.shape
            pred = raw.view(n, 3, per, height, width).permute(0, 1, 3, 4, 2)
            anchors = self.anchors[level].to(device) / self.strides[level]
            b, a, gj, gi, tbox, tcls = self._match(targets, anchors, self.strides[level],
                                                   height, width)
            tobj = torch.zeros(pred.shape[:4], device=device)
            if len(b):
                ps = pred[b, a, gj, gi]
                pxy = ps[:, :2].sigmoid() * 2 - 0.5
                pwh = (ps[:, 2:4].sigmoid() * 2) ** 2 * anchors[a]
                overlap = ciou(torch.cat((pxy, pwh), 1), tbox)
                loss_box = loss_box + (1.0 - overlap).mean()
                tobj[b, a, gj, gi] = overlap.detach().clamp(0).to(tobj.dtype)
                if self.num_classes > 1:
                    onehot = torch.zeros_like(ps[:, 5:])
                    onehot[torch.arange(len(tcls)), tcls] = 1.0
                    loss_cls = loss_cls + self.bce(ps[:, 5:], onehot)
            loss_obj = loss_obj + self.bce(pred[..., 4], tobj) * self.balance[level]
        parts = {"box": loss_box * self.gain_box, "obj": loss_obj * self.gain_obj,
                 "cls": loss_cls * self.gain_cls}
        return parts["box"] + parts["obj"] + parts["cls"], parts

    @staticmethod
    def _match(targets, anchors, stride, height, width):
        """(image, anchor, row, column indices; target boxes relative to their cell in grid
        units (cx, cy, w, h); classes) of every matched prediction on one head."""
        device = targets.device
        empty = torch.zeros(0, dtype=torch.long, device=device)
        if not len(targets):
            return empty, empty, empty, empty, torch.zeros(0, 4, device=device), empty
        count = len(anchors)
        grid = targets[:, 2:6] / stride  # cx cy w h in cells
        ratio = grid[None, :, 2:4] / anchors[:, None]  # (A, T, 2)
        matched = torch.max(ratio, 1 / ratio).max(2).values < ANCHOR_T
        anchor_index = torch.arange(count, device=device)[:, None].expand(count, len(targets))
        target_index = torch.arange(len(targets), device=device)[None].expand(count, -1)
        a, t = anchor_index[matched], target_index[matched]
        gxy = grid[t, :2]
        inverse = torch.tensor([width, height], device=device) - gxy
        j, k = ((gxy % 1 < 0.5) & (gxy > 1)).T
        l, m = ((inverse % 1 < 0.5) & (inverse > 1)).T
        use = torch.stack((torch.ones_like(j), j, k, l, m))  # (5, M)
        offsets = (NEIGHBOUR_OFFSETS.to(device) * 0.5)[:, None].expand(-1, len(a), -1)[use]
        a = a[None].expand(5, -1)[use]
        t = t[None].expand(5, -1)[use]
        gxy = grid[t, :2]
        cells = (gxy - offsets).long()
        gi = cells[:, 0].clamp(0, width - 1)
        gj = cells[:, 1].clamp(0, height - 1)
        tbox = torch.cat((gxy - torch.stack((gi, gj), 1), grid[t, 2:4]), 1)
        return targets[t, 0].long(), a, gj, gi, tbox, targets[t, 1].long()
