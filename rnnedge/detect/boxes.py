"""IoU and Complete-IoU of axis-aligned boxes (x1 y1 x2 y2).

`box_iou_numpy(a, b)` is the pairwise IoU matrix used by NMS and the anchor fit; `ciou(a, b)`
is the element-wise CIoU (Zheng et al. 2020, as YOLOv5's bbox_iou(CIoU=True)) that the box
loss minimises: IoU - centre distance^2 / enclosing diagonal^2 - alpha * v, v measuring the
aspect-ratio mismatch.

May import: math, numpy, torch.
"""

import math

import numpy as np
import torch

EPS = 1e-7


def box_iou_numpy(a, b):
    """(len(a), len(b)) IoU of x1 y1 x2 y2 boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def xywh_to_xyxy(boxes):
    """Centre x, y, width, height -> x1 y1 x2 y2 (torch or numpy, last axis 4)."""
    cx, cy, w, h = boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3]
    parts = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    return torch.stack(parts, -1) if isinstance(boxes, torch.Tensor) else np.stack(parts, -1)


def ciou(pred, target):
    """Element-wise CIoU of centre-x, y, w, h boxes (N, 4) torch tensors."""
    (px, py, pw, ph), (tx, ty, tw, th) = pred.unbind(-1), target.unbind(-1)
    p1x, p1y, p2x, p2y = px - pw / 2, py - ph / 2, px + pw / 2, py + ph / 2
    t1x, t1y, t2x, t2y = tx - tw / 2, ty - th / 2, tx + tw / 2, ty + th / 2
    inter = ((torch.min(p2x, t2x) - torch.max(p1x, t1x)).clamp(0)
             * (torch.min(p2y, t2y) - torch.max(p1y, t1y)).clamp(0))
    union = pw * ph + tw * th - inter + EPS
    iou = inter / union
    cw = torch.max(p2x, t2x) - torch.min(p1x, t1x)
    ch = torch.max(p2y, t2y) - torch.min(p1y, t1y)
    diagonal = cw ** 2 + ch ** 2 + EPS
    centres = (tx - px) ** 2 + (ty - py) ** 2
    v = (4 / math.pi ** 2) * (torch.atan(tw / (th + EPS)) - torch.atan(pw / (ph + EPS))) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + EPS))
    return iou - (centres / diagonal + v * alpha)
