"""Image folders: one sub-folder per class holding PNG/JPEG files.

Two layouts are read. A split layout has `train/` plus `val/` and/or `test/` (or `check/`)
folders, each with the class sub-folders; a missing `val` uses the test folder and a missing
test folder uses `val`. A flat layout has the class sub-folders directly; its files are split
by a hash of their path relative to the root (80% train, 10% val, 10% check), so a file stays
in its split when others are added. Class names are the sorted sub-folder names (of `train/`
in a split layout). Images are converted to the model's channels and resized to its input
size with Pillow; unreadable images raise RnnedgeError naming the file. The decoded split must
fit rnnedge.budget.DATA_BYTES, checked before any image is read, and no file may declare
more than MAX_PIXELS pixels (checked before it is decoded).

May import: numpy, Pillow, rnnedge.budget, rnnedge.data.base, rnnedge.errors.
"""

import hashlib
from pathlib import Path

import numpy as np

from rnnedge.budget import DATA_BYTES, check_bytes
from rnnedge.data.base import Augmentation, fit_images, make_dataset
from rnnedge.errors import RnnedgeError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "test", "check"),
                 "check": ("test", "check", "val")}
HASH_BUCKETS = {"train": range(0, 80), "val": range(80, 90), "check": range(90, 100)}
MAX_PIXELS = 1 << 26  # 64 M pixels (8192 x 8192): larger files are refused before decoding


def is_image_folder(path):
    """True when `path` holds class sub-folders, directly or under `train/`."""
    path = Path(path)
    root = path / "train" if (path / "train").is_dir() else path
    return path.is_dir() and any(_class_dirs(root))


def load_image_folder(path, split, size, channels):
    """Load a split of the image folder at `path` as (H, W, C) = (*size, channels) images."""
    path = Path(path)
    if (path / "train").is_dir():
        class_names = _class_names(path / "train")
        split_root = next((path / name for name in SPLIT_FOLDERS[split]
                           if (path / name).is_dir()), None)
        if split_root is None:
            raise RnnedgeError(f"{path}: has train/ but no val/ or test/ folder for split "
                               f"{split!r}")
        unknown = sorted(set(d.name for d in _class_dirs(split_root)) - set(class_names))
        if unknown:
            raise RnnedgeError(f"{split_root}: class folders {unknown} are not in "
                               f"{path / 'train'}")
        files = _files(split_root, class_names, require_all=split == "train")
    else:
        class_names = _class_names(path)
        files = [(file, label) for file, label in _files(path, class_names, require_all=True)
                 if _bucket(file.relative_to(path)) in HASH_BUCKETS[split]]
    check_bytes(f"{path}: {len(files)} images at {size[0]}x{size[1]}x{channels}",
                len(files) * size[0] * size[1] * channels, DATA_BYTES, "n= in the data spec")
    images = np.stack([_read(file, size, channels) for file, _ in files]) if files else \
        np.zeros((0, *size, channels), np.uint8)
    labels = np.array([label for _, label in files], np.int64)
    pad = max(1, min(size) // 8)
    return make_dataset(images, labels, class_names, f"image folder {split} {path}",
                        Augmentation(crop_pad=pad, flip=True))


def _class_dirs(root):
    """The visible sub-folders of `root`."""
    return (d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith("."))


def _class_names(root):
    """Sorted class folder names under `root`: at least two."""
    names = [d.name for d in _class_dirs(root)]
    if len(names) < 2:
        raise RnnedgeError(f"{root}: an image folder needs at least 2 class sub-folders, "
                           f"found {len(names)}")
    return names


def _files(root, class_names, require_all):
    """(file, label) for every PNG/JPEG under root/<class>/, sorted; with `require_all`, a
    class folder without images is an error."""
    files = []
    for label, name in enumerate(class_names):
        folder = root / name
        found = sorted(f for f in folder.rglob("*") if f.is_file()
                       and f.suffix.lower() in IMAGE_SUFFIXES
                       and not f.name.startswith(".")) if folder.is_dir() else []
        if require_all and not found:
            raise RnnedgeError(f"{folder}: no PNG or JPEG images in class folder {name!r}")
        files.extend((file, label) for file in found)
    return files


def _bucket(relative):
    """A stable bucket in [0, 100) from a file's relative path."""
    digest = hashlib.sha256(relative.as_posix().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little") % 100


def _read(file, size, channels):
    """Decode one image file to (H, W, C) uint8 at `size` and `channels`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            if image.width * image.height > MAX_PIXELS:
                raise RnnedgeError(f"{file}: {image.width}x{image.height} pixels, more than an "
                                   f"image of a dataset may hold ({MAX_PIXELS:,})")
            image = image.convert("RGB" if channels == 3 else "L")
            array = np.asarray(image, np.uint8)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError,
            SyntaxError) as exc:
        raise RnnedgeError(f"{file}: not a readable PNG/JPEG image "
                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                           ) from None
    array = array.reshape(array.shape[0], array.shape[1], channels)
    return fit_images(array[None], size, channels, str(file))[0]
