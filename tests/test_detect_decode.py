"""Decoder, NMS, anchors and loss matching against hand-computed values."""

import math

import numpy as np
import pytest
import torch

from rnnedge.detect import anchors as anchor_fit
from rnnedge.detect.decode import decode_head, nms, postprocess
from rnnedge.detect.loss import DetectionLoss

LOGIT_075 = math.log(3.0)  # sigmoid = 0.75


def test_decode_head_hand_computed():
    # one image, 2x2 grid, stride 8, K = 1, anchors (10, 20), (4, 4), (30, 30)
    anchors = [(10, 20), (4, 4), (30, 30)]
    raw = np.zeros((1, 18, 2, 2))
    # anchor 0 at row 1, column 0: tx -> 0.75, ty 0.5, tw 0.75, th 0.5, obj 0.75, cls 0.5
    raw[0, 0, 1, 0] = LOGIT_075
    raw[0, 2, 1, 0] = LOGIT_075
    raw[0, 4, 1, 0] = LOGIT_075
    boxes, scores, classes = decode_head(raw, anchors, 8, 1)
    # P index = anchor * 4 + row * 2 + column
    p = 0 * 4 + 1 * 2 + 0
    cx = (2 * 0.75 - 0.5 + 0) * 8          # 8
    cy = (2 * 0.5 - 0.5 + 1) * 8           # 12
    w, h = (2 * 0.75) ** 2 * 10, (2 * 0.5) ** 2 * 20   # 22.5, 20
    assert boxes[0, p] == pytest.approx([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    assert scores[0, p] == pytest.approx(0.75 * 0.5)
    # an all-zero cell of anchor 2 at row 0, column 1: centre (1.5 * 8, 0.5 * 8), 30 x 30
    q = 2 * 4 + 0 * 2 + 1
    assert boxes[0, q] == pytest.approx([12 - 15, 4 - 15, 12 + 15, 4 + 15])
    assert scores[0, q] == pytest.approx(0.25) and classes[0, q] == 0


def test_nhwc_layout_decodes_the_same():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(2, 21, 3, 4))  # K = 2
    a = decode_head(raw, [(5, 5), (9, 7), (3, 8)], 16, 2)
    b = decode_head(raw.transpose(0, 2, 3, 1), [(5, 5), (9, 7), (3, 8)], 16, 2, layout="nhwc")
    for x, y in zip(a, b):
        assert np.array_equal(x, y)


def test_class_aware_nms_hand_computed():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11], [20, 20, 30, 30],
                      [0, 0, 10, 10]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.0005])
    classes = np.array([0, 0, 1, 0, 0])
    # IoU(box 0, box 1) = 81 / 119 = 0.68 > 0.6: suppressed; box 2 is another class; box 4
    # is under the confidence threshold
    assert nms(boxes, scores, classes).tolist() == [0, 2, 3]
    assert nms(boxes, scores, classes, iou=0.7).tolist() == [0, 1, 2, 3]
    assert nms(boxes, scores, classes, max_det=2).tolist() == [0, 2]


def test_postprocess_clips_to_the_input():
    raw = np.zeros((1, 18, 1, 1))
    out = postprocess([raw], [[(300, 300), (10, 10), (10, 10)]], [64], 1)
    boxes, scores, _ = out[0]
    assert boxes.max() <= 64 and boxes.min() >= 0 and len(scores) == 2  # the two 10x10 merge


def test_kmeans_anchors_recover_clusters():
    rng = np.random.default_rng(1)
    centres = np.array([(4 * k + 4, 3 * k + 6) for k in range(15)], float)
    wh = np.concatenate([c + rng.normal(0, 0.2, (20, 2)) for c in centres])
    fitted = anchor_fit.kmeans_anchors(wh)
    assert np.abs(fitted - centres).max() < 0.5
    assert anchor_fit.kmeans_anchors(wh[:10]) is None  # fewer than 15 shapes


def test_default_anchors_are_yolov5_p3_scaled():
    d = anchor_fit.default_anchors([8, 16])
    assert d[0].tolist() == [[10, 13], [16, 30], [33, 23]]
    assert d[1].tolist() == [[20, 26], [32, 60], [66, 46]]


def test_loss_matching_hand_computed():
    """A 12x24 target centred at (19, 19) on a stride-8 head with anchors (12, 24), (100, 100),
    (10, 26): anchors 0 and 2 match (ratio < 4), anchor 1 not; the centre (2.375, 2.375) in cells
    is nearest the left and top neighbours, so 3 cells per matched anchor."""
    targets = torch.tensor([[0, 0, 19.0, 19.0, 12.0, 24.0]])
    anchors = torch.tensor([[12.0, 24.0], [100.0, 100.0], [10.0, 26.0]]) / 8
    b, a, gj, gi, tbox, tcls = DetectionLoss._match(targets, anchors, 8, 6, 6)
    cells = sorted(zip(a.tolist(), gj.tolist(), gi.tolist()))
    assert cells == sorted([(0, 2, 2), (0, 2, 1), (0, 1, 2), (2, 2, 2), (2, 2, 1), (2, 1, 2)])
    # cell-relative centres: 0.375 in the own cell, 1.375 from the left/top neighbour
    own = [(x, y) for (x, y, _, _), i, j in zip(tbox.tolist(), gi.tolist(), gj.tolist())
           if (i, j) == (2, 2)]
    assert own == [(0.375, 0.375), (0.375, 0.375)]
    left = [x for (x, _, _, _), i, j in zip(tbox.tolist(), gi.tolist(), gj.tolist())
            if (i, j) == (1, 2)]
    assert left == [1.375, 1.375] and tcls.tolist() == [0] * 6 and b.tolist() == [0] * 6


def test_loss_decreases_when_the_prediction_is_right():
    loss = DetectionLoss(np.array([[[12, 24]] * 3]), [8], 1, (48, 48))
    targets = torch.tensor([[0, 0, 20.0, 20.0, 12.0, 24.0]])
    wrong = torch.zeros(1, 18, 6, 6)
    right = wrong.clone()
    for a in range(3):
        right[0, a * 6 + 4] = -8.0  # no object anywhere ...
        right[0, a * 6 + 4, 2, 2] = 8.0  # ... but in the target's cell
    assert loss([right], targets)[0] < loss([wrong], targets)[0]
