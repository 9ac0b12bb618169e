"""Feed a Dataset to PyTorch: normalisation, augmentation and a seeded DataLoader.

Pixels become float32 CHW tensors `(pixel / 255 - mean) / std` per channel. Augmentation
(padded random crop, horizontal flip when the dataset allows it) is drawn for the whole
epoch at once from a generator seeded by (seed, epoch), and the shuffle order likewise, so
an epoch is identical whether training ran straight through or was resumed before it.

May import: numpy, torch, rnnedge.data.base, rnnedge.errors.
"""

from dataclasses import dataclass

import numpy as np
import torch

from rnnedge.data.base import NO_AUGMENTATION
from rnnedge.errors import RnnedgeError


@dataclass(frozen=True)
class Normalization:
    """Per-channel mean and standard deviation of pixel / 255."""

    mean: tuple
    std: tuple

    def __post_init__(self):
        values = [*self.mean, *self.std]
        if len(self.mean) != len(self.std) or not all(np.isfinite(v) for v in values):
            raise RnnedgeError(f"normalization mean {self.mean} and std {self.std} must be "
                               "finite, one of each per channel")
        if min(self.std) <= 0:
            raise RnnedgeError(f"normalization std {self.std} must be positive (a constant "
                               "channel has std 0: of_images floors it at 1/255)")

    @classmethod
    def of_images(cls, images):
        """The channel statistics of uint8 images (N, H, W, C); std floored at 1/255."""
        pixels = images.reshape(-1, images.shape[-1]).astype(np.float64) / 255.0
        std = np.maximum(pixels.std(axis=0), 1.0 / 255.0)
        return cls(tuple(float(v) for v in pixels.mean(axis=0)), tuple(float(v) for v in std))

    def as_dict(self):
        """{"mean": [...], "std": [...]} for a checkpoint."""
        return {"mean": list(self.mean), "std": list(self.std)}


def epoch_seed(seed, epoch):
    """The 63-bit seed of one epoch's shuffle and augmentation."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0] >> 1)


class TorchImageDataset(torch.utils.data.Dataset):
    """A Dataset as (CHW float tensor, label) pairs, normalised, optionally augmented."""

    def __init__(self, dataset, normalization, augmentation=NO_AUGMENTATION, seed=0):
        self.dataset = dataset
        self.augmentation = augmentation
        self.seed = seed
        self._mean = np.asarray(normalization.mean, np.float32)[:, None, None]
        self._std = np.asarray(normalization.std, np.float32)[:, None, None]
        self._shifts = self._flips = None
        self.set_epoch(0)

    def set_epoch(self, epoch):
        """Draw the crop offsets and flips of `epoch` for every sample."""
        pad = self.augmentation.crop_pad
        rng = np.random.default_rng(epoch_seed(self.seed, epoch))
        n = len(self.dataset)
        period = self.augmentation.period
        self._shifts = (rng.integers(-(pad // period), pad // period + 1, (n, 2)) * period
                        if pad >= period else None)
        self._flips = rng.random(n) < 0.5 if self.augmentation.flip else None

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        image = self.dataset.images[index].transpose(2, 0, 1).astype(np.float32) / 255.0
        image = (image - self._mean) / self._std
        if self._shifts is not None:
            image = _shift(image, *self._shifts[index])
        if self._flips is not None and self._flips[index]:
            image = _flip(image, self.augmentation.period)
        return torch.from_numpy(np.ascontiguousarray(image)), int(self.dataset.labels[index])


def _shift(image, dy, dx):
    """The crop of `image` (C, H, W) zero-padded by |shift| at offset (dy, dx): content moves
    by (-dy, -dx), the uncovered border is 0 (the normalised mean)."""
    out = np.zeros_like(image)
    _, height, width = image.shape
    out[:, max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)] = \
        image[:, max(0, dy):height - max(0, -dy), max(0, dx):width - max(0, -dx)]
    return out


def _flip(image, period):
    """`image` (C, H, W) mirrored left-right; with `period` 2 moved right by one column (the
    first column 0) so that every pixel keeps its column parity, i.e. a Bayer mosaic keeps its
    colour pattern (for an even width)."""
    mirrored = image[:, :, ::-1]
    if period == 1 or image.shape[2] % 2:
        return mirrored
    out = np.zeros_like(image)
    out[:, :, 1:] = mirrored[:, :, :-1]
    return out


def make_loader(torch_dataset, batch_size, shuffle, epoch=0, drop_last=False, collate=None):
    """A single-process DataLoader over `torch_dataset` for `epoch`: augmentation drawn and
    (when `shuffle`) the order fixed by (dataset seed, epoch); `drop_last` drops a short last
    batch; `collate` is the collate_fn (None: PyTorch's default)."""
    torch_dataset.set_epoch(epoch)
    generator = torch.Generator().manual_seed(epoch_seed(torch_dataset.seed, epoch))
    return torch.utils.data.DataLoader(torch_dataset, batch_size=batch_size, shuffle=shuffle,
                                       generator=generator if shuffle else None, num_workers=0,
                                       drop_last=drop_last, collate_fn=collate)
