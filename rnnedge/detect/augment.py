"""Detection batches: normalised images with their boxes, and box-aware augmentation.

`DetectionTorchDataset` yields (CHW float tensor, targets (M, 5): class, cx, cy, w, h in
input pixels); `collate` stacks a batch into images (B, C, H, W) and targets (T, 6) with
the image's index in the batch first, the form `rnnedge.detect.loss` takes. Crowd boxes are
never targets.

Training augmentation, drawn for a whole epoch from a generator seeded by (seed, epoch) so a
resumed run repeats it: a random scale in [1 - SCALE, 1 + SCALE] about the image centre with
a translation of up to TRANSLATE of the side (the uncovered border grey 114, as the
letterbox pads), a horizontal flip with probability 1/2, and brightness/contrast jitter.
Boxes move with the pixels, are clipped to the image, and are dropped when less than
`min_visible` of their area stays visible or they end up under 2 pixels wide or high. The
amounts are the dataset's `BoxAugmentation` (rnnedge.data.detection).

May import: numpy, Pillow, torch, rnnedge.data.detection, rnnedge.data.torch_adapter.
"""

import numpy as np
import torch

from rnnedge.data.detection import NO_BOX_AUGMENTATION, PAD_VALUE, BoxAugmentation
from rnnedge.data.torch_adapter import epoch_seed


def affine_boxes(boxes, scale, shift, flip, width, height):
    """Boxes x1 y1 x2 y2 under x' = (x - W/2) * scale + W/2 + shift_x (then mirrored when
    `flip`), clipped; returns (boxes, kept mask by MIN visibility left to the caller)."""
    centre = np.array([width / 2, height / 2] * 2)
    moved = (boxes - centre) * scale + centre + np.array([shift[0], shift[1]] * 2)
    if flip:
        moved = moved[:, [2, 1, 0, 3]] * np.array([-1, 1, -1, 1]) + np.array([width, 0, width, 0])
    clipped = moved.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, width)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, height)
    return moved, clipped


def _transform_image(image, scale, shift, flip):
    """The image under the same affine map as `affine_boxes` (bilinear, grey border)."""
    from PIL import Image

    height, width, channels = image.shape
    pil = Image.fromarray(image if channels == 3 else image[:, :, 0])
    # PIL maps output -> input: x_in = (x_out - W/2 - shift_x) / scale + W/2
    inv = 1.0 / scale
    coefficients = (inv, 0.0, width / 2 - (width / 2 + shift[0]) * inv,
                    0.0, inv, height / 2 - (height / 2 + shift[1]) * inv)
    fill = (PAD_VALUE,) * channels if channels == 3 else PAD_VALUE
    out = pil.transform((width, height), Image.Transform.AFFINE, coefficients,
                        Image.Resampling.BILINEAR, fillcolor=fill)
    if flip:
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return np.asarray(out).reshape(height, width, channels)


class DetectionTorchDataset(torch.utils.data.Dataset):
    """A DetectionDataset as (image tensor, targets) pairs, normalised, optionally jittered."""

    def __init__(self, dataset, normalization, augmentation=NO_BOX_AUGMENTATION, seed=0):
        self.dataset = dataset
        self.normalization = normalization
        # anything but a BoxAugmentation (e.g. the trainer's NO_AUGMENTATION) means none
        self.augmentation = (augmentation if isinstance(augmentation, BoxAugmentation)
                             else NO_BOX_AUGMENTATION)
        self.seed = seed
        self._mean = np.asarray(normalization.mean, np.float32)[:, None, None]
        self._std = np.asarray(normalization.std, np.float32)[:, None, None]
        self._draws = None
        self.set_epoch(0)

    def set_epoch(self, epoch):
        """Draw every image's jitter for `epoch`."""
        aug = self.augmentation
        if not aug.enabled:
            self._draws = None
            return
        rng = np.random.default_rng(epoch_seed(self.seed, epoch))
        n = len(self.dataset)
        self._draws = {"scale": rng.uniform(1 - aug.scale, 1 + aug.scale, n),
                       "shift": rng.uniform(-aug.translate, aug.translate, (n, 2)),
                       "flip": (rng.random(n) < 0.5) & aug.flip,
                       "gain": rng.uniform(1 - aug.brightness, 1 + aug.brightness, n),
                       "bias": rng.uniform(-aug.brightness, aug.brightness, n) * 64}

    def __len__(self):
        return len(self.dataset)

    def sample(self, index):
        """(uint8 HWC image, boxes (M, 4), classes (M,)) of one sample after augmentation."""
        image = self.dataset.images[index]
        keep = ~self.dataset.crowd[index]
        boxes = self.dataset.boxes[index][keep].astype(np.float64)
        classes = self.dataset.labels[index][keep]
        if self._draws is None:
            return image, boxes, classes
        d = {k: v[index] for k, v in self._draws.items()}
        height, width = image.shape[:2]
        shift = d["shift"] * np.array([width, height])
        image = _transform_image(image, d["scale"], shift, d["flip"])
        image = np.clip(image.astype(np.float32) * d["gain"] + d["bias"], 0, 255).astype(np.uint8)
        moved, clipped = affine_boxes(boxes, d["scale"], shift, d["flip"], width, height)
        area = np.prod(moved[:, 2:] - moved[:, :2], axis=1)
        visible = np.prod(np.clip(clipped[:, 2:] - clipped[:, :2], 0, None), axis=1)
        size = clipped[:, 2:] - clipped[:, :2]
        ok = (visible >= self.augmentation.min_visible * area) & (size >= 2).all(axis=1)
        return image, clipped[ok], classes[ok]

    def __getitem__(self, index):
        image, boxes, classes = self.sample(index)
        x = image.transpose(2, 0, 1).astype(np.float32) / 255.0
        x = (x - self._mean) / self._std
        wh = boxes[:, 2:] - boxes[:, :2]
        targets = np.concatenate([np.asarray(classes, np.float64)[:, None],
                                  boxes[:, :2] + wh / 2, wh], 1).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(targets)


def collate(batch):
    """[(image, targets (M, 5))] -> (images (B, C, H, W), targets (T, 6) image index first)."""
    images = torch.stack([b[0] for b in batch])
    rows = [torch.cat((torch.full((len(t), 1), float(i)), t), 1) for i, (_, t) in enumerate(batch)]
    return images, torch.cat(rows) if rows else torch.zeros(0, 6)


def normalized_images(dataset, normalization, start=0, stop=None):
    """uint8 images [start:stop] of a dataset as a normalised float32 NCHW array."""
    mean = np.asarray(normalization.mean, np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(normalization.std, np.float32).reshape(1, -1, 1, 1)
    images = dataset.images[start:stop].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return (images - mean) / std
