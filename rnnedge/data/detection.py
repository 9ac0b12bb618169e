"""The in-memory detection dataset every detection loader returns, and letterboxing.

A `DetectionDataset` holds images already letterboxed to the model's input (uint8 N x H x W
x C: resized keeping the aspect ratio, centred, padded with grey 114 as YOLOv5 does), and per
image the boxes in those pixels (float32 M x 4, x1 y1 x2 y2), their class indices, their
COCO `iscrowd` flags (crowd boxes are never training targets; the evaluation treats them as
COCO does: detections on them are ignored), the original image size and the letterbox
transform, so detections map back to the original pixels for evaluation.

Loaders build one with `make_detection_dataset`, which clips boxes to the image and drops
boxes left under one pixel wide or high; each drop is counted in `skipped` (the documented
skip with a count), never silent.

May import: numpy, Pillow, rnnedge.errors.
"""

from dataclasses import dataclass, field

import numpy as np

from rnnedge.errors import RnnedgeError

PAD_VALUE = 114
"""Letterbox padding grey level (YOLOv5's)."""
MIN_BOX = 1.0
"""Boxes narrower or lower than this many letterboxed pixels after clipping are dropped."""


@dataclass(frozen=True)
class Letterbox:
    """How an original image maps into the model input: x' = x * scale + pad_x."""

    scale: float
    pad_x: float
    pad_y: float

    def to_original(self, boxes):
        """Letterboxed x1 y1 x2 y2 boxes -> original-image pixels."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y])
        return (boxes - pad) / self.scale


IDENTITY = Letterbox(1.0, 0.0, 0.0)


@dataclass(frozen=True)
class BoxAugmentation:
    """Box-aware training jitter (applied by `rnnedge.detect.augment`): a random scale in
    [1 - scale, 1 + scale] and a translation of up to `translate` of the side, a horizontal
    flip when `flip`, brightness/contrast jitter; a box keeps at least `min_visible` of its
    area or is dropped. `enabled` False: images go in as they are."""

    enabled: bool = True
    scale: float = 0.25
    translate: float = 0.1
    flip: bool = True
    brightness: float = 0.2
    min_visible: float = 0.3


NO_BOX_AUGMENTATION = BoxAugmentation(enabled=False)


@dataclass(frozen=True)
class DetectionDataset:
    """Letterboxed images with their boxes (see the module docstring)."""

    images: np.ndarray
    boxes: tuple
    labels: tuple
    crowd: tuple
    class_names: tuple
    source: str
    original_sizes: tuple  # (height, width) per image
    letterboxes: tuple  # Letterbox per image
    image_ids: tuple  # ints (COCO image ids, or 1..N)
    skipped: dict = field(default_factory=dict)
    augmentation: BoxAugmentation = BoxAugmentation()
    task: str = "detect"

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def image_shape(self):
        return tuple(self.images.shape[1:])

    def __len__(self):
        return int(self.images.shape[0])

    def objects(self):
        """Number of non-crowd boxes."""
        return int(sum(int((~c).sum()) for c in self.crowd))


def letterbox(image, size):
    """(image resized into `size` (H, W) keeping its aspect ratio and centred on grey, its
    Letterbox). `image` is uint8 H x W x C."""
    from PIL import Image

    height, width = size
    h0, w0 = image.shape[:2]
    scale = min(height / h0, width / w0)
    new_h, new_w = max(1, round(h0 * scale)), max(1, round(w0 * scale))
    pad_y, pad_x = (height - new_h) // 2, (width - new_w) // 2
    channels = image.shape[2]
    out = np.full((height, width, channels), PAD_VALUE, np.uint8)
    if (new_h, new_w) == (h0, w0):
        resized = image
    else:
        pil = Image.fromarray(image if channels == 3 else image[:, :, 0])
        resized = np.asarray(pil.resize((new_w, new_h), Image.Resampling.BILINEAR))
        resized = resized.reshape(new_h, new_w, channels)
    out[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = resized
    return out, Letterbox(new_w / w0 if w0 else 1.0, float(pad_x), float(pad_y))


def clip_boxes(boxes, height, width):
    """x1 y1 x2 y2 boxes clipped to [0, width] x [0, height]."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes


def make_detection_dataset(images, boxes, labels, crowd, class_names, source, *,
                           original_sizes=None, letterboxes=None, image_ids=None, skipped=None):
    """Check and assemble a `DetectionDataset`. Boxes are clipped to the image; boxes then
    smaller than MIN_BOX are dropped and counted in skipped["boxes_outside"]."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
        raise RnnedgeError(f"{source}: images must be N x H x W x 1|3 uint8, got "
                           f"{images.shape} {images.dtype}")
    n, height, width = images.shape[:3]
    class_names = tuple(str(c) for c in class_names)
    if not class_names:
        raise RnnedgeError(f"{source}: a detection dataset needs at least one class")
    if len(set(class_names)) != len(class_names):
        raise RnnedgeError(f"{source}: class names are not unique")
    if not len(boxes) == len(labels) == len(crowd) == n:
        raise RnnedgeError(f"{source}: boxes, labels and crowd flags must be given per image")
    skipped = dict(skipped or {})
    kept_boxes, kept_labels, kept_crowd = [], [], []
    for b, lab, c in zip(boxes, labels, crowd):
        b = clip_boxes(b, height, width)
        lab = np.asarray(lab, np.int64).reshape(-1)
        c = np.asarray(c, bool).reshape(-1)
        if len(lab) != len(b) or len(c) != len(b):
            raise RnnedgeError(f"{source}: an image has {len(b)} boxes but {len(lab)} labels")
        if lab.size and (lab.min() < 0 or lab.max() >= len(class_names)):
            raise RnnedgeError(f"{source}: class index {int(lab.max())} outside the "
                               f"{len(class_names)} classes")
        ok = ((b[:, 2] - b[:, 0]) >= MIN_BOX) & ((b[:, 3] - b[:, 1]) >= MIN_BOX)
        if not ok.all():
            skipped["boxes_outside"] = skipped.get("boxes_outside", 0) + int((~ok).sum())
        kept_boxes.append(b[ok])
        kept_labels.append(lab[ok])
        kept_crowd.append(c[ok])
    sizes = tuple(tuple(int(v) for v in s) for s in (original_sizes or [(height, width)] * n))
    return DetectionDataset(np.ascontiguousarray(images), tuple(kept_boxes), tuple(kept_labels),
                            tuple(kept_crowd), class_names, source, sizes,
                            tuple(letterboxes or [IDENTITY] * n),
                            tuple(int(i) for i in (image_ids or range(1, n + 1))), skipped)


def read_image(path, channels=3):
    """Decode an image file to uint8 H x W x C; RnnedgeError naming the file otherwise."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB" if channels == 3 else "L"), np.uint8)
    except FileNotFoundError:
        raise RnnedgeError(f"{path}: image file not found") from None
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError,
            SyntaxError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RnnedgeError(f"{path}: not a readable image ({detail})") from None
    return array.reshape(array.shape[0], array.shape[1], channels)


def subset(dataset, n):
    """The first `n` images of `dataset` (all when n is None or larger)."""
    if n is None or n >= len(dataset):
        return dataset
    return DetectionDataset(dataset.images[:n], dataset.boxes[:n], dataset.labels[:n],
                            dataset.crowd[:n], dataset.class_names,
                            f"{dataset.source} (first {n})", dataset.original_sizes[:n],
                            dataset.letterboxes[:n], dataset.image_ids[:n], dataset.skipped)
