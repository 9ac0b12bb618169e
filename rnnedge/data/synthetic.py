"""The embedded default dataset: classes defined by long-range structure, generated from a seed.

Every image holds two marks, a 5x5 plus sign (A) and a 5x5 hollow square (B), 30-50% of the
image size apart, over a colour gradient with clutter (dots, diagonals, small crosses) and
Gaussian noise; mark and clutter colours come from one distribution, so only shape tells
them apart. The class is the direction from A to B: class c of K covers the angles
[c, c + 1) * 360/K degrees (counter-clockwise from "B right of A"), and the drawn angle
stays in the middle 60% of its sector, checked after rounding to pixels. Either mark alone
says little about the class (only through the border: a mark near the right edge has its
partner to its left), so a model must relate features 10-16 pixels apart: a 3-layer 3x3
CNN with global pooling (receptive field 7 pixels) stays at chance. Measured over 6 epochs
(10 classes, 10,000 training images, seed 0, validation accuracy): with Adam (the
`rnnedge train` default) cifar-resnet18-rnn 99.5%, -thin 99.6%, -short 99.6%,
cifar-resnet18 99.6%, the 3-layer CNN 10.8%; with SGD at lr 0.05, -thin and cifar-resnet18
stayed at chance (an optimisation plateau: every ResNet variant sees the whole image by
conv4). So the set separates local from image-wide models, not the ResNet variants. A
horizontal flip mirrors the angle and changes the class, so augmentation is a small crop.

Splits come from independent random streams of the same seed (SeedSequence([seed, split])),
so train, val and check images are disjoint. Generation is vectorised numpy, in chunks.

Camera optics (`optics=SIGMA`, opt-in; 0, the default, draws exactly the set behind every
published number): the noiseless 8-bit scene is blurred by a Gaussian point-spread function
of SIGMA pixels before the sensor noise is added and before any format conversion
(rnnedge.data.spec.as_sensor), so RGB, gray and Bayer see the same optics, as in a camera,
where the lens and the optical low-pass filter blur the scene before the colour filter array
samples it. The PSF is the sampled Gaussian truncated at OPTICS_TRUNCATE sigma, normalised,
with mirrored borders (`d c b a | a b c d`). The blur draws no random numbers, so an image
of the option is the default image's scene through the lens, with the same noise. A typical
value is 0.7: an OLPF splits each point into four copies one pixel apart (standard deviation
0.5 px per axis), and the lens' diffraction and aberrations (at f/2.8, 0.55 um light, 3 um
pixels the Airy core alone is ~0.2 px) and the pixel aperture (1/sqrt(12) px) add to it in
quadrature: sqrt(0.25 + 0.05 + 0.08) ~ 0.6-0.7 px.

May import: numpy, rnnedge.budget, rnnedge.data.base, rnnedge.errors.
"""

from dataclasses import dataclass

import numpy as np

from rnnedge.budget import DATA_BYTES, check_bytes
from rnnedge.data.base import Augmentation, fit_images, make_dataset
from rnnedge.errors import RnnedgeError

SPLIT_STREAMS = {"train": 0, "val": 1, "check": 2}
DEFAULT_SIZES = {"train": 10000, "val": 2000, "check": 2000}
MAX_CLASSES = 16
MIN_SIZE = 16
MAX_NOISE = 255.0
MAX_CLUTTER = 1000
MAX_OPTICS = 4.0
"""Largest PSF sigma in pixels (the PSF then spans 33 pixels, the whole default image)."""
OPTICS_TRUNCATE = 4.0
JITTER = 0.3
"""The drawn angle stays within +-JITTER sectors of the sector's centre."""
DISTANCE = (0.3, 0.5)
"""Mark distance range as fractions of the image's smaller side."""
CROP_PAD = 2
MARGIN = 2 + CROP_PAD
"""Mark centres keep this far from the border, so a padded crop never cuts a mark."""
CHUNK = 2048


def _offsets(pixels):
    """(P, 2) int array of (dy, dx) offsets."""
    return np.array(pixels, np.int64)


PLUS = _offsets([(d, 0) for d in range(-2, 3)] + [(0, d) for d in (-2, -1, 1, 2)])
RING = _offsets([(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if max(abs(dy), abs(dx)) == 2])
_CLUTTER_SHAPES = (
    [(0, 0), (0, 1), (1, 0), (1, 1)],                 # 2x2 dot
    [(0, 0), (1, 1), (2, 2), (3, 3)],                 # diagonal
    [(0, 3), (1, 2), (2, 1), (3, 0)],                 # anti-diagonal
    [(0, 0), (0, 2), (1, 1), (2, 0), (2, 2)],         # 3x3 cross
)
CLUTTER = np.stack([_offsets(s + s[:1] * (5 - len(s))) for s in _CLUTTER_SHAPES])
"""(shapes, 5, 2): clutter shapes padded to 5 offsets by repeating their first pixel."""


@dataclass(frozen=True)
class SyntheticConfig:
    """Knobs of the synthetic dataset: class count, seed, samples per split (None: the
    split's default), noise standard deviation in grey levels, clutter shapes per image,
    lens PSF sigma in pixels (0: no optics, the default set)."""

    classes: int = 10
    seed: int = 0
    n: int | None = None
    noise: float = 12.0
    clutter: int = 6
    optics: float = 0.0


def class_names(classes):
    """Names of the direction classes, by the sector's centre angle in degrees."""
    return [f"angle{round(360 * (c + 0.5) / classes):03d}" for c in range(classes)]


def generate(config, split, size=(32, 32), channels=3):
    """Generate `split` of the synthetic dataset at image `size` (H, W) with `channels`."""
    _check(config, size)
    n = DEFAULT_SIZES[split] if config.n is None else config.n
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, SPLIT_STREAMS[split]]))
    labels = rng.permutation(np.arange(n) % config.classes)
    images = np.empty((n, size[0], size[1], 3), np.uint8)
    for start in range(0, n, CHUNK):
        chunk = labels[start:start + CHUNK]
        images[start:start + len(chunk)] = _render(rng, chunk, config, size)
    options = f", optics={config.optics:g}" if config.optics else ""
    if config.noise != SyntheticConfig.noise:  # the default set's name stays as it was
        options += f", noise={config.noise:g}"
    return make_dataset(fit_images(images, size, channels, "synthetic"), labels,
                        class_names(config.classes),
                        f"synthetic {split} (classes={config.classes}, seed={config.seed}"
                        f"{options})",
                        Augmentation(crop_pad=CROP_PAD, flip=False))


def _check(config, size):
    """Reject settings the generator cannot honour."""
    if not 2 <= config.classes <= MAX_CLASSES:
        raise RnnedgeError(f"synthetic classes must be in [2, {MAX_CLASSES}] (directions "
                           f"finer than {360 // MAX_CLASSES} degrees blur on a pixel grid), "
                           f"got {config.classes}")
    if not 0 <= config.seed < 2**63:
        raise RnnedgeError(f"synthetic seed must be in [0, 2**63), got {config.seed}")
    if config.n is not None and config.n < 1:
        raise RnnedgeError(f"synthetic n must be at least 1, got {config.n}")
    if not 0 <= config.optics <= MAX_OPTICS:  # also refuses nan
        raise RnnedgeError(f"synthetic optics (lens PSF sigma, pixels) must be in "
                           f"[0, {MAX_OPTICS:g}], got {config.optics}")
    if not 0 <= config.noise <= MAX_NOISE or not 0 <= config.clutter <= MAX_CLUTTER:
        raise RnnedgeError(f"synthetic noise and clutter must be non-negative, at most "
                           f"{MAX_NOISE:g} and {MAX_CLUTTER}; got {config.noise} and "
                           f"{config.clutter}")
    if min(size) < MIN_SIZE:
        raise RnnedgeError(f"synthetic images need at least {MIN_SIZE}x{MIN_SIZE} pixels, "
                           f"the model asks for {size[0]}x{size[1]}")
    n = max(DEFAULT_SIZES.values()) if config.n is None else config.n
    check_bytes(f"synthetic n={n} at {size[0]}x{size[1]}", 3 * n * size[0] * size[1],
                DATA_BYTES, "n= in the data spec")


def _render(rng, labels, config, size):
    """Draw the images of one chunk as (n, H, W, 3) uint8."""
    n = len(labels)
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy, xx = yy / height - 0.5, xx / width - 0.5
    base = rng.uniform(40, 215, (n, 1, 1, 3)).astype(np.float32)
    slope = rng.uniform(-60, 60, (n, 2, 1, 1, 3)).astype(np.float32)
    images = base + slope[:, 0] * yy[None, :, :, None] + slope[:, 1] * xx[None, :, :, None]
    rows = np.arange(n)[:, None]
    for _ in range(config.clutter):
        offsets = CLUTTER[rng.integers(0, len(CLUTTER), n)]
        corner = np.stack([rng.integers(0, height - 3, n), rng.integers(0, width - 3, n)], 1)
        _stamp(images, rows, corner[:, None, :] + offsets, _colours(rng, base))
    first, second = _mark_centres(rng, labels, config.classes, size)
    _stamp(images, rows, first[:, None, :] + PLUS[None], _colours(rng, base))
    _stamp(images, rows, second[:, None, :] + RING[None], _colours(rng, base))
    if config.optics:  # the noiseless 8-bit scene through the lens, then the sensor's noise
        images = lens_blur(np.clip(np.rint(images), 0, 255), config.optics)
    if config.noise:
        images += config.noise * rng.standard_normal(images.shape, dtype=np.float32)
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def lens_blur(images, sigma):
    """Images (n, H, W, 3) convolved with the Gaussian PSF of `sigma` pixels (float64):
    separable, truncated at OPTICS_TRUNCATE sigma, mirrored borders."""
    radius = int(OPTICS_TRUNCATE * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = np.asarray(images, np.float64)
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="symmetric")
        size = out.shape[axis]
        out = sum(weight * np.take(padded, np.arange(k, k + size), axis=axis)
                  for k, weight in enumerate(taps))
    return out


def _stamp(images, rows, pixels, colours):
    """Paint pixels (n, P, 2) of each image with that image's colour (n, 3)."""
    ys = np.clip(pixels[..., 0], 0, images.shape[1] - 1)
    xs = np.clip(pixels[..., 1], 0, images.shape[2] - 1)
    images[rows, ys, xs] = colours[:, None, :]


def _colours(rng, base):
    """Random colours that differ from the image's base colour by at least 80 in one channel."""
    colours = rng.uniform(0, 255, (len(base), 3)).astype(np.float32)
    flat = base[:, 0, 0, :]
    weak = np.abs(colours - flat).max(axis=1) < 80
    colours[weak] = (colours[weak] + 128) % 256
    return colours


def _mark_centres(rng, labels, classes, size):
    """Centres (n, 2) of marks A and B (as y, x) with B in the direction of each label."""
    height, width = size
    n = len(labels)
    first = np.zeros((n, 2), np.int64)
    second = np.zeros((n, 2), np.int64)
    todo = np.arange(n)
    low, high = (fraction * min(size) for fraction in DISTANCE)
    sector = 2 * np.pi / classes
    while todo.size:
        m = todo.size
        a = np.stack([rng.integers(MARGIN, height - MARGIN, m),
                      rng.integers(MARGIN, width - MARGIN, m)], 1)
        angle = (labels[todo] + 0.5 + rng.uniform(-JITTER, JITTER, m)) * sector
        distance = rng.uniform(low, high, m)
        b = np.stack([np.rint(a[:, 0] - distance * np.sin(angle)),
                      np.rint(a[:, 1] + distance * np.cos(angle))], 1).astype(np.int64)
        inside = ((b[:, 0] >= MARGIN) & (b[:, 0] < height - MARGIN)
                  & (b[:, 1] >= MARGIN) & (b[:, 1] < width - MARGIN))
        drawn = np.arctan2(a[:, 0] - b[:, 0], b[:, 1] - a[:, 1]) % (2 * np.pi)
        ok = inside & (np.floor(drawn / sector).astype(np.int64) == labels[todo])
        first[todo[ok]], second[todo[ok]] = a[ok], b[ok]
        todo = todo[~ok]
    return first, second
