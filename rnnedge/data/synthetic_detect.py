"""The embedded detection default `synthetic-detect`: figures standing on a ground plane.

Each image is a scene with a horizon: sky above, ground below, a colour gradient, blobs of
clutter and Gaussian noise. Objects stand with their feet on the ground, and their size
grows with how far below the horizon they stand (a pinhole camera over a flat floor), so the
scene's layout tells a model how large an object at a given row must be: context a recurrent
head can use and a local CNN head must infer from the object alone. Classes (1 to 3):
`person` (round head over a taller body, about 1 : 2.6), `car` (wide body on two dark
wheels, about 2 : 1), `tree` (triangle crown on a trunk). Distractors share the objects'
colours: lone discs (a head without a body) and bars, never labelled, so colour or a single
part does not make an object. 1-4 objects per image, overlapping at most a little.

Splits come from independent random streams of the same seed (SeedSequence([seed, split])),
so train, val and check scenes are disjoint; the same spec gives the same images.

May import: numpy, rnnedge.data.detection, rnnedge.errors.
"""

from dataclasses import dataclass

import numpy as np

from rnnedge.data.detection import make_detection_dataset
from rnnedge.errors import RnnedgeError

NAME = "synthetic-detect"
CLASS_NAMES = ("person", "car", "tree")
SPLIT_STREAMS = {"train": 0, "val": 1, "check": 2}
DEFAULT_SIZES = {"train": 1000, "val": 200, "check": 200}
MIN_SIZE = 32
MAX_OBJECTS = 4
ASPECT = {"person": (0.38, 1.0), "car": (1.0, 0.5), "tree": (0.6, 1.0)}
"""(width, height) of each class's box relative to its height."""


@dataclass(frozen=True)
class SyntheticDetectConfig:
    """Class count (1-3), seed, images per split (None: DEFAULT_SIZES), noise std in grey
    levels, distractors per image."""

    classes: int = 1
    seed: int = 0
    n: int | None = None
    noise: float = 8.0
    clutter: int = 3


def generate(config, split, size=(128, 128), channels=3):
    """`split` of the synthetic detection set at image `size` (H, W)."""
    if not 1 <= config.classes <= len(CLASS_NAMES):
        raise RnnedgeError(f"synthetic-detect classes must be 1..{len(CLASS_NAMES)}, got "
                           f"{config.classes}")
    if config.n is not None and config.n < 1:
        raise RnnedgeError(f"synthetic-detect n must be at least 1, got {config.n}")
    if min(size) < MIN_SIZE:
        raise RnnedgeError(f"synthetic-detect images need at least {MIN_SIZE}x{MIN_SIZE} "
                           f"pixels, the model asks for {size[0]}x{size[1]}")
    if config.noise < 0 or config.clutter < 0:
        raise RnnedgeError("synthetic-detect noise and clutter must be non-negative")
    n = DEFAULT_SIZES[split] if config.n is None else config.n
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, SPLIT_STREAMS[split]]))
    images = np.empty((n, size[0], size[1], 3), np.uint8)
    boxes, labels = [], []
    for i in range(n):
        images[i], b, lab = _scene(rng, size, config)
        boxes.append(b)
        labels.append(lab)
    if channels == 1:
        images = np.clip(np.rint(images.astype(np.float32) @ np.array([0.299, 0.587, 0.114],
                                                                     np.float32)), 0, 255)
        images = images.astype(np.uint8)[..., None]
    return make_detection_dataset(images, boxes, labels, [[False] * len(b) for b in boxes],
                                  CLASS_NAMES[:config.classes],
                                  f"{NAME} {split} (classes={config.classes}, "
                                  f"seed={config.seed})")


def _scene(rng, size, config):
    """One image (H, W, 3) uint8, its boxes (M, 4) and labels (M,)."""
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    horizon = rng.uniform(0.25, 0.5) * height
    sky, ground = rng.uniform(60, 220, 3), rng.uniform(30, 200, 3)
    image = np.where((yy < horizon)[..., None], sky, ground).astype(np.float32)
    image += rng.uniform(-30, 30, 3) * (xx / width - 0.5)[..., None]
    placed = []
    for _ in range(int(rng.integers(1, MAX_OBJECTS + 1))):
        cls = int(rng.integers(0, config.classes))
        box = _place(rng, horizon, size, cls, placed)
        if box is not None:
            placed.append((box, cls))
    colours = [_colour(rng, image) for _ in range(len(placed) + config.clutter)]
    for (x1, y1, x2, y2), cls in sorted(placed, key=lambda p: p[0][3]):  # far ones first
        _draw(image, yy, xx, CLASS_NAMES[cls], (x1, y1, x2, y2), colours.pop())
    for _ in range(config.clutter):
        _distractor(rng, image, yy, xx, size, colours.pop())
    if config.noise:
        image += config.noise * rng.standard_normal(image.shape).astype(np.float32)
    boxes = np.array([p[0] for p in placed], np.float32).reshape(-1, 4)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), boxes, [p[1] for p in placed]


def _place(rng, horizon, size, cls, placed, tries=20):
    """A box for class `cls` standing on the ground, overlapping others by IoU < 0.3."""
    height, width = size
    rel_w, rel_h = ASPECT[CLASS_NAMES[cls]]
    for _ in range(tries):
        foot = rng.uniform(horizon + 0.12 * height, height)
        object_h = (foot - horizon) * rng.uniform(0.9, 1.2) * (0.8 if cls == 1 else 1.0)
        object_h = max(object_h, 6.0)
        object_w = object_h * rel_w / rel_h
        cx = rng.uniform(object_w / 2, width - object_w / 2) if object_w < width else width / 2
        box = (cx - object_w / 2, foot - object_h, cx + object_w / 2, foot)
        if all(_iou(box, other) < 0.3 for other, _ in placed):
            return tuple(float(v) for v in np.clip(box, 0, [width, height, width, height]))
    return None


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _colour(rng, image):
    """A colour at least 70 grey levels from the image's mean colour in one channel."""
    mean = image.reshape(-1, 3).mean(axis=0)
    colour = rng.uniform(0, 255, 3)
    if np.abs(colour - mean).max() < 70:
        colour = (colour + 128) % 256
    return colour


def _draw(image, yy, xx, kind, box, colour):
    """Paint one object filling `box`."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cx = (x1 + x2) / 2
    if kind == "person":
        r = 0.5 * w * 0.8
        head = (yy - (y1 + r)) ** 2 + (xx - cx) ** 2 <= r * r
        body = (yy >= y1 + 2 * r) & (yy < y1 + 0.62 * h) & (np.abs(xx - cx) <= w / 2)
        legs = (yy >= y1 + 0.62 * h) & (yy < y2) & (np.abs(np.abs(xx - cx) - w * 0.25) <= w * 0.14)
        mask = head | body | legs
    elif kind == "car":
        body = (yy >= y1 + 0.15 * h) & (yy < y1 + 0.75 * h) & (xx >= x1) & (xx < x2)
        roof = (yy >= y1) & (yy < y1 + 0.2 * h) & (np.abs(xx - cx) <= w * 0.28)
        image[body | roof] = colour
        r = 0.25 * h
        for wx in (x1 + 0.25 * w, x2 - 0.25 * w):
            image[(yy - (y2 - r)) ** 2 + (xx - wx) ** 2 <= r * r] = (25, 25, 25)
        return
    else:
        crown = (yy >= y1) & (yy < y1 + 0.75 * h) & (np.abs(xx - cx) <= (yy - y1) / (0.75 * h) * w / 2)
        trunk = (yy >= y1 + 0.75 * h) & (yy < y2) & (np.abs(xx - cx) <= w * 0.1)
        mask = crown | trunk
    image[mask] = colour


def _distractor(rng, image, yy, xx, size, colour):
    """A disc or a bar that is no object."""
    height, width = size
    cy, cx = rng.uniform(0, height), rng.uniform(0, width)
    extent = rng.uniform(0.03, 0.1) * min(size)
    if rng.random() < 0.5:
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= extent ** 2
    else:
        mask = (np.abs(yy - cy) <= extent / 3) & (np.abs(xx - cx) <= extent * 1.5)
    image[mask] = colour
