"""The synthetic dataset: labels recomputed from the rendered marks, determinism, disjoint
splits, balance, and settings it refuses."""

import math

import numpy as np
import pytest

from rnnedge.data import open_dataset
from rnnedge.data.synthetic import SyntheticConfig, generate
from rnnedge.errors import RnnedgeError


def find_marks(image):
    """Centres (y, x) of the plus (9 equal pixels, differing diagonal neighbours) and of the
    hollow square (16 equal border pixels, differing centre) in a noise-free image."""
    img = image.astype(int)
    height, width, _ = img.shape
    plus = [(d, 0) for d in (-2, -1, 1, 2)] + [(0, d) for d in (-2, -1, 1, 2)]
    ring = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if max(abs(dy), abs(dx)) == 2]
    found = {"plus": [], "ring": []}
    for y in range(2, height - 2):
        for x in range(2, width - 2):
            centre = img[y, x]
            if all((img[y + dy, x + dx] == centre).all() for dy, dx in plus) and \
                    all((img[y + dy, x + dx] != centre).any() for dy in (-1, 1) for dx in (-1, 1)):
                found["plus"].append((y, x))
            first = img[y + ring[0][0], x + ring[0][1]]
            if all((img[y + dy, x + dx] == first).all() for dy, dx in ring) and \
                    (centre != first).any():
                found["ring"].append((y, x))
    return found


@pytest.mark.parametrize("classes", [4, 10, 16])
def test_label_is_the_direction_from_plus_to_square(classes):
    dataset = open_dataset(f"synthetic:classes={classes},n=60,noise=0,clutter=0,seed=3", "val")
    assert dataset.num_classes == classes
    for image, label in zip(dataset.images, dataset.labels):
        marks = find_marks(image)
        assert len(marks["plus"]) == 1 and len(marks["ring"]) == 1
        (ay, ax), (by, bx) = marks["plus"][0], marks["ring"][0]
        angle = math.degrees(math.atan2(ay - by, bx - ax)) % 360
        assert int(angle // (360 / classes)) == label
        assert 0.3 * 32 - 1 <= math.hypot(by - ay, bx - ax) <= 0.5 * 32 + 1
        assert min(ay, ax, by, bx) >= 4 and max(ay, ax, by, bx) <= 27


def test_deterministic_and_splits_disjoint():
    a = generate(SyntheticConfig(n=300, seed=5), "train")
    b = generate(SyntheticConfig(n=300, seed=5), "train")
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    other = generate(SyntheticConfig(n=300, seed=6), "train")
    assert not np.array_equal(a.images, other.images)
    hashes = {split: {image.tobytes()
                      for image in generate(SyntheticConfig(n=300, seed=5), split).images}
              for split in ("train", "val", "check")}
    assert len(hashes["train"]) == 300
    assert not hashes["train"] & hashes["val"] and not hashes["train"] & hashes["check"]
    assert not hashes["val"] & hashes["check"]


def test_defaults_balance_and_shape():
    train = open_dataset("synthetic", "train")
    assert train.images.shape == (10000, 32, 32, 3) and train.images.dtype == np.uint8
    assert np.bincount(train.labels).tolist() == [1000] * 10
    assert train.class_names[0] == "angle018"
    assert not train.augmentation.flip and train.augmentation.crop_pad == 2
    assert len(open_dataset("synthetic", "check")) == 2000


def test_chunked_generation_matches_size_and_other_input_shapes():
    big = generate(SyntheticConfig(n=2100), "check", size=(24, 40), channels=1)
    assert big.images.shape == (2100, 24, 40, 1)
    assert np.bincount(big.labels).tolist() == [210] * 10


@pytest.mark.parametrize("spec, message", [
    ("synthetic:classes=1", r"classes must be in \[2, 16\]"),
    ("synthetic:classes=40", r"classes must be in \[2, 16\]"),
    ("synthetic:n=0", "n must be at least 1"),
    ("synthetic:noise=-1", "non-negative"),
    ("synthetic:colour=1", "bad data option 'colour=1'"),
    ("synthetic:classes=ten", "bad value for classes"),
])
def test_bad_settings_rejected(spec, message):
    with pytest.raises(RnnedgeError, match=message):
        open_dataset(spec, "train")


def test_too_small_input_rejected():
    with pytest.raises(RnnedgeError, match="at least 16x16"):
        open_dataset("synthetic:n=4", "train", image_shape=(3, 12, 12))
