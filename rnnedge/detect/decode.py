"""Raw prediction maps -> boxes, and class-aware NMS: one implementation for every model.

A head's map has 3 x (5 + K) channels, anchor-major: channel a * (5 + K) + c holds, for
anchor a, c = 0..3 the box terms (tx, ty, tw, th), c = 4 objectness, c = 5.. the K class
logits. Decoding is YOLOv5's: for cell (i, j) of a head with stride s and anchor (aw, ah),
    x = (2 sigmoid(tx) - 0.5 + j) s      y = (2 sigmoid(ty) - 0.5 + i) s
    w = (2 sigmoid(tw))^2 aw             h = (2 sigmoid(th))^2 ah
    score = sigmoid(obj) * sigmoid(class logit), for the best class.
The float model's NCHW maps and the int8 .tflite's dequantised NHWC maps both go through
`postprocess` (`layout` says which), so float and int8 are decoded identically; the C decoder
emitted for the firmware (`rnnedge.detect.firmware`) follows these formulas and the same NMS.

NMS: candidates with score >= `conf` sorted by score (ties: lower index first), at most
MAX_CANDIDATES of them; greedily keep a box unless it overlaps an already kept box of the
same class by IoU > `iou`; at most `max_det` boxes (COCO counts 100 per image).

May import: numpy, rnnedge.detect.boxes.
"""

import numpy as np

from rnnedge.detect.boxes import box_iou_numpy

CONF = 0.001
"""Score threshold for AP evaluation (as YOLOv5's val.py); deployment uses a higher one."""
IOU = 0.6
MAX_DET = 100
MAX_CANDIDATES = 3000


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def decode_head(raw, anchors, stride, num_classes, layout="nchw"):
    """One head's map for N images -> (boxes (N, P, 4) x1 y1 x2 y2 in input pixels, scores
    (N, P), classes (N, P)); P = 3 * H * W in (anchor, row, column) order."""
    raw = np.asarray(raw, np.float64)
    if layout == "nhwc":
        raw = raw.transpose(0, 3, 1, 2)
    n, channels, height, width = raw.shape
    per = 5 + num_classes
    anchors = np.asarray(anchors, np.float64).reshape(-1, 2)
    if channels != len(anchors) * per:
        raise ValueError(f"a head map has {channels} channels; {len(anchors)} anchors x "
                         f"(5 + {num_classes}) expected")
    p = sigmoid(raw.reshape(n, len(anchors), per, height, width))
    gy, gx = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    cx = (p[:, :, 0] * 2 - 0.5 + gx) * stride
    cy = (p[:, :, 1] * 2 - 0.5 + gy) * stride
    w = (p[:, :, 2] * 2) ** 2 * anchors[None, :, 0, None, None]
    h = (p[:, :, 3] * 2) ** 2 * anchors[None, :, 1, None, None]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1).reshape(n, -1, 4)
    cls = p[:, :, 5:]
    best = cls.argmax(2)
    score = p[:, :, 4] * np.take_along_axis(cls, best[:, :, None], 2)[:, :, 0]
    return boxes, score.reshape(n, -1), best.reshape(n, -1)


def nms(boxes, scores, classes, conf=CONF, iou=IOU, max_det=MAX_DET):
    """Indices of the boxes kept by class-aware greedy NMS, best first."""
    candidates = np.flatnonzero(scores >= conf)
    order = candidates[np.argsort(-scores[candidates], kind="stable")][:MAX_CANDIDATES]
    keep = []
    suppressed = np.zeros(len(order), bool)
    ordered_boxes, ordered_classes = boxes[order], classes[order]
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(order[i])
        if len(keep) == max_det:
            break
        overlap = box_iou_numpy(ordered_boxes[i], ordered_boxes[i + 1:])[0]
        suppressed[i + 1:] |= (ordered_classes[i + 1:] == ordered_classes[i]) & (overlap > iou)
    return np.array(keep, np.int64)


def postprocess(maps, anchors, strides, num_classes, layout="nchw", conf=CONF, iou=IOU,
                max_det=MAX_DET):
    """Every head's map for N images -> per image (boxes (M, 4), scores (M,), classes (M,))
    after NMS, boxes in input pixels clipped to the input."""
    decoded = [decode_head(m, a, s, num_classes, layout) for m, a, s in
               zip(maps, anchors, strides)]
    boxes = np.concatenate([d[0] for d in decoded], 1)
    scores = np.concatenate([d[1] for d in decoded], 1)
    classes = np.concatenate([d[2] for d in decoded], 1)
    first = np.asarray(maps[0])
    height, width = ((first.shape[2], first.shape[3]) if layout == "nchw"
                     else (first.shape[1], first.shape[2]))
    limit = np.array([width, height, width, height], np.float64) * strides[0]
    results = []
    for b, s, c in zip(boxes, scores, classes):
        kept = nms(b, s, c, conf, iou, max_det)
        results.append((np.clip(b[kept], 0, limit), s[kept], c[kept]))
    return results
