"""`open_dataset` spec parsing and errors, and the PyTorch adapter (normalisation,
augmentation, seeded loader)."""

import numpy as np
import pytest
import torch

from rnnedge.data import Augmentation, open_dataset
from rnnedge.data.base import make_dataset
from rnnedge.data.spec import parse_spec
from rnnedge.data.torch_adapter import Normalization, TorchImageDataset, make_loader
from rnnedge.errors import RnnedgeError


def test_parse_spec():
    assert parse_spec("synthetic") == ("synthetic", {})
    assert parse_spec("synthetic:classes=4,seed=2,n=10,noise=0.5") == \
        ("synthetic", {"classes": 4, "seed": 2, "n": 10, "noise": 0.5})
    assert parse_spec("/data/cifar:labels=coarse,n=5") == \
        ("/data/cifar", {"labels": "coarse", "n": 5})
    assert parse_spec("/data/plain") == ("/data/plain", {})


def test_path_with_colon_that_exists_is_a_path(tmp_path):
    folder = tmp_path / "a:b=c"
    folder.mkdir()
    assert parse_spec(str(folder)) == (str(folder), {})


@pytest.mark.parametrize("make, message", [
    (lambda p: str(p / "missing"), "not found"),
    (lambda p: (p / "file.tar.gz").write_bytes(b"x") and str(p / "file.tar.gz"), "is a file"),
    (lambda p: str(p), "no class sub-folders with images"),
    (lambda p: str(p) + ":n=x", "bad value for n"),
    (lambda p: str(p) + ":seed=1", "bad data option 'seed=1'"),
])
def test_bad_specs_are_one_line_errors(tmp_path, make, message):
    with pytest.raises(RnnedgeError, match=message) as info:
        open_dataset(make(tmp_path), "train")
    assert "\n" not in str(info.value)


def test_unknown_split():
    with pytest.raises(RnnedgeError, match="unknown split 'dev'"):
        open_dataset("synthetic", "dev")


def test_make_dataset_checks():
    images = np.zeros((2, 4, 4, 3), np.uint8)
    with pytest.raises(RnnedgeError, match="uint8"):
        make_dataset(images.astype(np.float32), [0, 1], ["a", "b"], "x")
    with pytest.raises(RnnedgeError, match="3 labels for 2 images"):
        make_dataset(images, [0, 1, 1], ["a", "b"], "x")
    with pytest.raises(RnnedgeError, match=r"\[0, 2\)"):
        make_dataset(images, [0, 2], ["a", "b"], "x")
    with pytest.raises(RnnedgeError, match="unique"):
        make_dataset(images, [0, 1], ["a", "a"], "x")


def tiny_dataset(flip):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    return make_dataset(images, [0, 1, 2, 0, 1, 2], ["a", "b", "c"], "tiny",
                        Augmentation(crop_pad=2, flip=flip))


def test_normalization_matches_numpy():
    dataset = tiny_dataset(False)
    norm = Normalization.of_images(dataset.images)
    pixels = dataset.images.astype(np.float64) / 255
    assert np.allclose(norm.mean, pixels.mean(axis=(0, 1, 2)))
    assert np.allclose(norm.std, pixels.std(axis=(0, 1, 2)))
    tensor, label = TorchImageDataset(dataset, norm)[4]
    expected = (pixels[4].transpose(2, 0, 1) - np.array(norm.mean)[:, None, None]) / \
        np.array(norm.std)[:, None, None]
    assert label == 1 and tensor.dtype == torch.float32
    assert np.allclose(tensor.numpy(), expected, atol=1e-6)


def test_augmentation_is_a_shifted_crop_and_optional_flip():
    for flip in (False, True):
        dataset = tiny_dataset(flip)
        norm = Normalization((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
        plain = TorchImageDataset(dataset, norm)
        augmented = TorchImageDataset(dataset, norm, dataset.augmentation, seed=1)
        flips_seen = set()
        for epoch in range(4):
            augmented.set_epoch(epoch)
            for i in range(len(dataset)):
                original = plain[i][0].numpy()
                out = augmented[i][0].numpy()
                matches = []
                for mirrored in (False, True):
                    source = original[:, :, ::-1] if mirrored else original
                    padded = np.pad(source, ((0, 0), (2, 2), (2, 2)))
                    matches += [mirrored for dy in range(5) for dx in range(5)
                                if np.array_equal(padded[:, dy:dy + 8, dx:dx + 8], out)]
                assert matches, "not a padded crop of the image"
                flips_seen.update(matches)
        assert flips_seen == ({False, True} if flip else {False})


def test_loader_order_depends_on_seed_and_epoch_only():
    dataset = tiny_dataset(True)
    norm = Normalization.of_images(dataset.images)

    def run(seed, epoch):
        data = TorchImageDataset(dataset, norm, dataset.augmentation, seed=seed)
        return torch.cat([x for x, _ in make_loader(data, 4, shuffle=True, epoch=epoch)])

    assert torch.equal(run(0, 3), run(0, 3))
    assert not torch.equal(run(0, 3), run(0, 4))
    assert not torch.equal(run(0, 3), run(1, 3))
