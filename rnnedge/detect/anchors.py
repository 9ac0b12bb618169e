"""Anchor boxes and head strides of the detection networks.

Each of the 5 heads predicts for 3 anchors (the paper's "3 anchor boxes each"). By default
the 15 anchors are fitted to the training boxes by k-means on their (width, height), with
1 - IoU of corner-aligned boxes as the distance (as YOLO users expect; YOLOv2's dimension
clusters), initialised at area quantiles so the fit is deterministic; sorted by area, the 3
smallest go to the finest head (stride 8) and the 3 largest to the coarsest (stride 128).
With fewer than 15 distinct box shapes the default anchors are used: YOLOv5's P3 anchors
(10,13, 16,30, 33,23 at stride 8) scaled by each head's stride. Anchors are in input pixels.

`head_strides(model)` finds each head's stride from the map sizes of a forward pass at 256x256
(other sizes round their maps up: a 480-pixel side ends in a 4-cell map at stride 128).

May import: numpy, torch, rnnedge.errors.
"""

import math

import numpy as np

from rnnedge.errors import RnnedgeError

HEADS = 5
PER_HEAD = 3
DEFAULT_RATIOS = ((1.25, 1.625), (2.0, 3.75), (4.125, 2.875))
"""YOLOv5's P3 anchors divided by their stride 8."""
KMEANS_ITERATIONS = 100
STRIDE_PROBE = 256


def default_anchors(strides):
    """(heads, 3, 2) anchors: DEFAULT_RATIOS times each head's stride."""
    return np.array([[(s * rw, s * rh) for rw, rh in DEFAULT_RATIOS] for s in strides],
                    np.float64)


def wh_iou(wh, centres):
    """(len(wh), len(centres)) IoU of boxes sharing a corner."""
    inter = (np.minimum(wh[:, None, 0], centres[None, :, 0])
             * np.minimum(wh[:, None, 1], centres[None, :, 1]))
    union = wh[:, None].prod(2) + centres[None].prod(2) - inter
    return inter / union


def kmeans_anchors(wh, count=HEADS * PER_HEAD):
    """`count` anchors (sorted by area) fitted to box sizes `wh` (N, 2), or None when the
    boxes have fewer than `count` distinct shapes."""
    wh = np.asarray(wh, np.float64).reshape(-1, 2)
    wh = wh[(wh >= 1).all(axis=1)]
    if len(np.unique(np.round(wh, 1), axis=0)) < count:
        return None
    order = np.argsort(wh.prod(1), kind="stable")
    centres = wh[order[np.round(np.linspace(0, len(wh) - 1, count)).astype(int)]].copy()
    for _ in range(KMEANS_ITERATIONS):
        assign = wh_iou(wh, centres).argmax(1)
        moved = centres.copy()
        for k in range(count):
            members = wh[assign == k]
            if len(members):
                moved[k] = np.median(members, axis=0)
        if np.allclose(moved, centres):
            break
        centres = moved
    return centres[np.argsort(centres.prod(1), kind="stable")]


def fit_anchors(dataset, strides):
    """(heads, 3, 2) anchors for `dataset` (k-means on its non-crowd boxes, default anchors
    when it has too few) and how they were chosen ("kmeans" or "default")."""
    wh = [b[~c, 2:] - b[~c, :2] for b, c in zip(dataset.boxes, dataset.crowd)]
    wh = np.concatenate(wh) if wh else np.zeros((0, 2))
    fitted = kmeans_anchors(wh, len(strides) * PER_HEAD)
    if fitted is None:
        return default_anchors(strides), "default"
    return fitted.reshape(len(strides), PER_HEAD, 2), "kmeans"


def parse_anchors(text, strides):
    """`--anchors`: "auto" (None: fit), "default", or 30 numbers w,h,... in pixels."""
    if text in (None, "auto"):
        return None
    if text == "default":
        return default_anchors(strides)
    try:
        values = [float(v) for v in str(text).replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise RnnedgeError(f"--anchors: expected auto, default or numbers, got {text!r}") from None
    needed = len(strides) * PER_HEAD * 2
    if len(values) != needed or not all(v > 0 and math.isfinite(v) for v in values):
        raise RnnedgeError(f"--anchors: give {needed} positive numbers (w,h for 3 anchors on "
                           f"each of {len(strides)} heads), got {len(values)}")
    return np.array(values, np.float64).reshape(len(strides), PER_HEAD, 2)


def head_strides(model, channels=3):
    """Each head's stride (input pixels per map cell), measured on a STRIDE_PROBE-pixel square
    input, where every map divides exactly (smaller inputs round their maps up)."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            maps = model(torch.zeros(1, channels, STRIDE_PROBE, STRIDE_PROBE))
    finally:
        model.train(was_training)
    return [int(2 ** round(math.log2(STRIDE_PROBE / m.shape[2]))) for m in maps]
