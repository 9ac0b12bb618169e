"""CIFAR-10 and CIFAR-100 from the standard python-pickle folders.

`cifar-100-python/{train,test,meta}` holds fine (100) and coarse (20) labels;
`cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}` holds 10 labels. Each batch
is a dict with a (N, 3072) uint8 `data` array (1024 red, then green, then blue values, rows
top to bottom) and a label list. The files are read with the restricted unpickler, and every
field is checked before use.

Splits: `check` is the test file; `val` is the last tenth of the training file and `train`
the rest, so the epoch picked on `val` was never selected with the test images.

May import: numpy, rnnedge.data.base, rnnedge.data.safe_pickle, rnnedge.errors.
"""

from pathlib import Path

import numpy as np

from rnnedge.data.base import Augmentation, make_dataset
from rnnedge.data.safe_pickle import load_cifar_pickle
from rnnedge.errors import RnnedgeError

CIFAR100_DIR = "cifar-100-python"
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
VAL_FRACTION = 10
"""`val` is the last 1/VAL_FRACTION of the training file."""

CIFAR_AUGMENTATION = Augmentation(crop_pad=4, flip=True)
PIXELS = 32 * 32 * 3


def find_cifar_root(path):
    """Return ("cifar100" | "cifar10", folder) when `path` is, or directly contains, a
    standard CIFAR python folder (recognised by its meta file); None otherwise."""
    path = Path(path)
    for kind, name, marker in (("cifar100", CIFAR100_DIR, "meta"),
                               ("cifar10", CIFAR10_DIR, "batches.meta")):
        for folder in (path / name, path):
            if (folder / marker).is_file():
                return kind, folder
    return None


def load_cifar100(folder, split, labels="fine"):
    """Load a split of CIFAR-100 from `folder` (cifar-100-python) with `labels` "fine" (100
    classes) or "coarse" (20 superclasses)."""
    if labels not in ("fine", "coarse"):
        raise RnnedgeError(f"CIFAR-100 labels must be 'fine' or 'coarse', got {labels!r}")
    folder = Path(folder)
    meta = load_cifar_pickle(folder / "meta")
    names = _names(meta, f"{labels}_label_names", 100 if labels == "fine" else 20,
                   folder / "meta")
    batch_path = folder / ("test" if split == "check" else "train")
    batch = load_cifar_pickle(batch_path)
    images = _images(batch, batch_path)
    label_array = _labels(batch, f"{labels}_labels", len(images), len(names), batch_path)
    images, label_array = _take_split(images, label_array, split)
    return make_dataset(images, label_array, names, f"CIFAR-100 {split} ({labels}) {folder}",
                        CIFAR_AUGMENTATION)


def load_cifar10(folder, split):
    """Load a split of CIFAR-10 from `folder` (cifar-10-batches-py)."""
    folder = Path(folder)
    meta = load_cifar_pickle(folder / "batches.meta")
    names = _names(meta, "label_names", 10, folder / "batches.meta")
    per_batch = meta.get("num_cases_per_batch")
    files = ("test_batch",) if split == "check" else CIFAR10_TRAIN_FILES
    images, labels = [], []
    for name in files:
        path = folder / name
        if not path.is_file():
            raise RnnedgeError(f"{folder}: missing CIFAR-10 batch file {name}")
        batch = load_cifar_pickle(path)
        batch_images = _images(batch, path)
        if isinstance(per_batch, int) and len(batch_images) != per_batch:
            raise RnnedgeError(f"{path}: {len(batch_images)} images, but batches.meta says "
                               f"{per_batch} per batch (truncated file?)")
        images.append(batch_images)
        labels.append(_labels(batch, "labels", len(batch_images), len(names), path))
    images, label_array = _take_split(np.concatenate(images), np.concatenate(labels), split)
    return make_dataset(images, label_array, names, f"CIFAR-10 {split} {folder}",
                        CIFAR_AUGMENTATION)


def _take_split(images, labels, split):
    """Cut the training file into `train` and `val` (its last tenth); `check` passes through."""
    if split == "check":
        return images, labels
    cut = len(images) - len(images) // VAL_FRACTION
    return (images[:cut], labels[:cut]) if split == "train" else (images[cut:], labels[cut:])


def _names(meta, key, count, path):
    """The `count` class names stored under `key` of a meta dict, decoded to str."""
    names = meta.get(key)
    if not isinstance(names, list) or len(names) != count:
        found = len(names) if isinstance(names, list) else type(names).__name__
        raise RnnedgeError(f"{path}: expected {count} names under {key!r}, found {found}")
    decoded = []
    for name in names:
        if not isinstance(name, (bytes, str)):
            raise RnnedgeError(f"{path}: class names must be strings")
        decoded.append(name.decode("utf-8", "replace") if isinstance(name, bytes) else name)
    return decoded


def _images(batch, path):
    """The batch's `data` array (N, 3072) uint8 as (N, 32, 32, 3) HWC images."""
    data = batch.get("data")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != PIXELS:
        shape = (data.shape, data.dtype) if isinstance(data, np.ndarray) else type(data).__name__
        raise RnnedgeError(f"{path}: 'data' must be an N x {PIXELS} uint8 array, found {shape}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def _labels(batch, key, count, num_classes, path):
    """The batch's label list under `key`: `count` ints in [0, num_classes)."""
    labels = batch.get(key)
    if not isinstance(labels, (list, np.ndarray)) or len(labels) != count:
        found = len(labels) if isinstance(labels, (list, np.ndarray)) else "none"
        raise RnnedgeError(f"{path}: expected {count} labels under {key!r}, found {found}")
    if not all(isinstance(label, (int, np.integer)) for label in labels):
        raise RnnedgeError(f"{path}: labels under {key!r} must be integers")
    array = np.asarray(labels, np.int64)
    if count and (array.min() < 0 or array.max() >= num_classes):
        raise RnnedgeError(f"{path}: labels under {key!r} must lie in [0, {num_classes}), "
                           f"found [{array.min()}, {array.max()}]")
    return array
