"""The in-memory dataset every loader returns, and the checks and helpers shared by loaders.

A dataset is numpy uint8 images in HWC order, one int label per image and the class names,
plus the augmentations that keep its labels valid (a horizontal flip changes the class of a
dataset defined by left/right structure). Loaders build one with `make_dataset`, which checks
shapes, dtypes and label ranges, so every consumer can rely on them.

May import: numpy, Pillow, rnnedge.errors.
"""

from dataclasses import dataclass

import numpy as np

from rnnedge.errors import RnnedgeError

SPLITS = ("train", "val", "check")
"""Split names: `train` to fit, `val` to pick the best epoch, `check` for the final check."""

SPLIT_ALIASES = {"test": "check"}


@dataclass(frozen=True)
class Augmentation:
    """Label-preserving training augmentation: a random crop of the image zero-padded by
    `crop_pad` pixels on each side (0: none), and a random horizontal flip when `flip`.
    `period` 2 keeps a Bayer mosaic's 2x2 colour pattern in place: crop offsets are even and a
    flip moves the mirrored image by one column (rnnedge.sensor.pixel_period)."""

    crop_pad: int = 0
    flip: bool = False
    period: int = 1


NO_AUGMENTATION = Augmentation()


@dataclass(frozen=True)
class Dataset:
    """Images (N, H, W, C) uint8, labels (N,) int64 in [0, len(class_names)), the class names,
    a short description of where the data came from, and the augmentation that suits it."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple
    source: str
    augmentation: Augmentation = NO_AUGMENTATION

    @property
    def num_classes(self):
        """Number of classes (the classifier head's width)."""
        return len(self.class_names)

    @property
    def image_shape(self):
        """(H, W, C) of every image."""
        return tuple(self.images.shape[1:])

    def __len__(self):
        return int(self.images.shape[0])


def canonical_split(split):
    """Return the canonical split name for `split` ("test" is an alias of "check")."""
    name = SPLIT_ALIASES.get(split, split)
    if name not in SPLITS:
        raise RnnedgeError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    return name


def make_dataset(images, labels, class_names, source, augmentation=NO_AUGMENTATION):
    """Check and assemble a `Dataset`; raise RnnedgeError naming `source` when the images are
    not (N, H, W, 1|3) uint8, the labels do not match them, or a label is out of range."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    class_names = tuple(str(name) for name in class_names)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
        raise RnnedgeError(
            f"{source}: images must be N x H x W x 1|3 uint8, got {images.shape} {images.dtype}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise RnnedgeError(
            f"{source}: {labels.shape[0] if labels.ndim == 1 else labels.shape} labels for "
            f"{images.shape[0]} images")
    if not np.issubdtype(labels.dtype, np.integer) and labels.size:
        raise RnnedgeError(f"{source}: labels must be integers, got {labels.dtype}")
    if len(class_names) < 2:
        raise RnnedgeError(f"{source}: a classification dataset needs at least 2 classes")
    if len(set(class_names)) != len(class_names):
        raise RnnedgeError(f"{source}: class names are not unique")
    if labels.size and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise RnnedgeError(
            f"{source}: labels must lie in [0, {len(class_names)}), found "
            f"[{labels.min()}, {labels.max()}]")
    return Dataset(np.ascontiguousarray(images), labels.astype(np.int64), class_names, source,
                   augmentation)


def subset(dataset, n):
    """The first `n` samples of `dataset` (all of them when n is None or larger)."""
    if n is None or n >= len(dataset):
        return dataset
    return Dataset(dataset.images[:n], dataset.labels[:n], dataset.class_names,
                   f"{dataset.source} (first {n})", dataset.augmentation)


def fit_images(images, size, channels, source):
    """Return `images` (N, H, W, C) uint8 resized to `size` (H, W) with bilinear filtering and
    converted to `channels` (1: ITU-R 601 luma, 3: grey replicated), unchanged when they fit
    (then PIL, the resizer, is not even imported)."""
    if channels not in (1, 3):
        raise RnnedgeError(f"{source}: models with {channels} input channels are not supported "
                           "(use 1 or 3)")
    if images.shape[3] != channels:
        images = _convert_channels(images, channels)
    height, width = size
    if images.shape[1:3] == (height, width):
        return images
    if height < 1 or width < 1:
        raise RnnedgeError(f"{source}: cannot resize images to {height}x{width}")
    from PIL import Image

    mode = "RGB" if channels == 3 else "L"
    out = np.empty((images.shape[0], height, width, channels), np.uint8)
    for i, image in enumerate(images):
        pil = Image.fromarray(image if channels == 3 else image[:, :, 0], mode)
        resized = np.asarray(pil.resize((width, height), Image.Resampling.BILINEAR))
        out[i] = resized.reshape(height, width, channels)
    return out


def _convert_channels(images, channels):
    """RGB -> luma (channels 1) or grey -> RGB (channels 3), as uint8."""
    if channels == 3:
        return np.repeat(images, 3, axis=3)
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    luma = images.astype(np.float32) @ weights
    return np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None]
