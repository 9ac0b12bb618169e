"""rnnedge.sensor: camera formats, RAW frames, the demosaic folded into conv 1 (issue 20).

Every expectation is computed here independently: mosaic positions from the pattern's
letters, luma from ITU-R 601's weights, the demosaic checked on linear images (which
bilinear interpolation reproduces exactly), the fold against torch running the RGB conv on
the demosaiced image."""

import numpy as np
import pytest
import torch

from rnnedge import sensor
from rnnedge.data import open_dataset
from rnnedge.data.base import Augmentation, make_dataset
from rnnedge.data.torch_adapter import Normalization, TorchImageDataset
from rnnedge.errors import RnnedgeError

PATTERNS = {"bayer-rggb": "RGGB", "bayer-bggr": "BGGR", "bayer-grbg": "GRBG",
            "bayer-gbrg": "GBRG"}


def _rgb(seed=0, n=2, h=8, w=10):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("fmt", sorted(PATTERNS))
def test_mosaic_keeps_the_filter_colour_of_each_pixel(fmt):
    rgb = _rgb()
    mosaic = sensor.from_rgb(rgb, fmt)
    assert mosaic.shape == (2, 8, 10, 1) and mosaic.dtype == np.uint8
    letters = PATTERNS[fmt]
    for y in range(8):
        for x in range(10):
            channel = "RGB".index(letters[2 * (y % 2) + x % 2])
            assert np.array_equal(mosaic[:, y, x, 0], rgb[:, y, x, channel])


def test_gray_is_itu_601_luma_and_rgb_is_unchanged():
    rgb = _rgb()
    gray = sensor.from_rgb(rgb, "gray")
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    assert np.array_equal(gray[..., 0], np.clip(np.rint(0.299 * r + 0.587 * g + 0.114 * b),
                                                0, 255).astype(np.uint8))
    assert np.array_equal(sensor.from_rgb(rgb, "rgb"), rgb)


def test_sensor_noise_is_deterministic_per_seed():
    rgb = _rgb()
    a = sensor.from_rgb(rgb, "bayer-rggb", noise=4, seed=1)
    assert np.array_equal(a, sensor.from_rgb(rgb, "bayer-rggb", noise=4, seed=1))
    assert not np.array_equal(a, sensor.from_rgb(rgb, "bayer-rggb", noise=4, seed=2))
    clean = sensor.from_rgb(rgb, "bayer-rggb").astype(int)
    assert 1 < np.abs(a.astype(int) - clean).mean() < 12  # sigma ~ 4..9 DN
    with pytest.raises(RnnedgeError, match="noise"):
        sensor.from_rgb(rgb, "bayer-rggb", noise=-1)


def test_unknown_format_is_one_line():
    with pytest.raises(RnnedgeError, match="unknown input format 'bayer-rgbg'"):
        sensor.channels("bayer-rgbg")


def _demosaic(mosaic, fmt):
    """Bilinear demosaic with the module's kernels, zero outside the image: (3, H, W)."""
    kernels = sensor.demosaic_kernels(fmt)
    h, w = mosaic.shape
    padded = np.pad(mosaic.astype(np.float64), 1)
    out = np.zeros((3, h, w))
    for y in range(h):
        for x in range(w):
            window = padded[y:y + 3, x:x + 3]
            out[:, y, x] = (kernels[y % 2, x % 2] * window).sum(axis=(1, 2))
    return out


@pytest.mark.parametrize("fmt", sorted(PATTERNS))
def test_bilinear_demosaic_reconstructs_a_linear_image(fmt):
    yy, xx = np.mgrid[0:12, 0:14].astype(np.float64)
    rgb = np.stack([10 + 3 * yy + 2 * xx, 200 - 4 * yy + xx, 50 + yy + 5 * xx], axis=-1)
    mosaic = sensor.from_rgb(rgb.astype(np.uint8)[None], fmt)[0, :, :, 0]
    restored = _demosaic(mosaic, fmt)
    interior = (slice(None), slice(1, -1), slice(1, -1))
    assert np.allclose(restored[interior], rgb.transpose(2, 0, 1)[interior])


@pytest.mark.parametrize("fmt", ["bayer-rggb", "bayer-gbrg"])
@pytest.mark.parametrize("padding", [1, 0])
def test_fold_equals_demosaic_then_conv_for_an_even_stride(fmt, padding):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 5, 3, stride=2, padding=padding).double()
    mosaic = sensor.from_rgb(_rgb(3, 1, 16, 16), fmt)[0, :, :, 0]
    expected = conv(torch.from_numpy(_demosaic(mosaic, fmt))[None])
    folded = sensor.fold_first_conv(conv, fmt)
    assert folded.in_channels == 1 and folded.kernel_size == (5, 5)
    got = folded.double()(torch.from_numpy(mosaic.astype(np.float64))[None, None])
    assert got.shape == expected.shape
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))  # the border differs
    assert torch.allclose(got[inner], expected[inner], atol=1e-3)


def test_gray_fold_equals_the_rgb_conv_on_a_gray_image():
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    gray = torch.rand(1, 1, 9, 9)
    expected = conv(gray.repeat(1, 3, 1, 1))
    assert torch.allclose(sensor.fold_first_conv(conv, "gray")(gray), expected, atol=1e-5)


def test_adapt_model_replaces_only_the_first_conv():
    model = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, 2, 1)),
                                torch.nn.ReLU(), torch.nn.Conv2d(4, 3, 1))
    sensor.adapt_model(model, "bayer-grbg")
    assert model[0][0].in_channels == 1 and model[2].in_channels == 4
    assert model(torch.zeros(1, 1, 8, 8)).shape == (1, 3, 4, 4)
    with pytest.raises(RnnedgeError, match="reads 1 channels, not RGB"):
        sensor.adapt_model(model, "gray")


def test_read_raw_pgm_and_npy(tmp_path):
    frame = np.arange(35, dtype=np.uint8).reshape(5, 7)
    (tmp_path / "a.pgm").write_bytes(b"P5\n# a comment\n7 5\n255\n" + frame.tobytes())
    assert np.array_equal(sensor.read_raw(tmp_path / "a.pgm")[:, :, 0], frame)
    (tmp_path / "b.pgm").write_bytes(sensor.pgm_bytes(frame))
    assert np.array_equal(sensor.read_raw(tmp_path / "b.pgm")[:, :, 0], frame)
    np.save(tmp_path / "c.npy", frame[:, :, None])
    assert sensor.read_raw(tmp_path / "c.npy").shape == (5, 7, 1)
    bad = {"ascii.pgm": b"P2\n2 2\n255\n1 2 3 4\n", "deep.pgm": b"P5\n2 2\n65535\n" + b"\0" * 8,
           "short.pgm": b"P5\n4 4\n255\n" + b"\0" * 3}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(RnnedgeError, match=name):
            sensor.read_raw(tmp_path / name)
    np.save(tmp_path / "wide.npy", frame.astype(np.uint16))
    with pytest.raises(RnnedgeError, match="one byte per pixel"):
        sensor.read_raw(tmp_path / "wide.npy")


def test_open_dataset_mosaics_the_rgb_split():
    rgb = open_dataset("synthetic:n=6", "train", (3, 32, 32))
    bayer = open_dataset("synthetic:n=6", "train", (1, 32, 32), "bayer-bggr")
    assert np.array_equal(bayer.images, sensor.from_rgb(rgb.images, "bayer-bggr"))
    assert np.array_equal(bayer.labels, rgb.labels)
    assert bayer.augmentation.period == 2 and rgb.augmentation.period == 1
    with pytest.raises(RnnedgeError, match="takes 1 input channel"):
        open_dataset("synthetic:n=6", "train", (3, 32, 32), "bayer-bggr")


def _noise_ratio(noisy, clean, noise):
    """Residual variance over the Poisson-Gaussian model's noise**2 + noise / 4 * value, on
    pixels far enough from 0 and 255 that clipping cannot bias it."""
    clean = clean.astype(np.float64)
    keep = (clean > 5 * noise) & (clean < 255 - 5 * noise)
    residual = noisy.astype(np.float64)[keep] - clean[keep]
    return residual.var() / (noise ** 2 + noise / 4 * clean[keep]).mean(), keep.sum()


def test_rgb_and_bayer_data_get_the_same_sensor_noise():
    # a fair RGB-vs-Bayer comparison: --sensor-noise reaches the RGB baseline too (it was
    # silently dropped for rgb), with the same per-sample model as the mosaic's
    spec, noise = "synthetic:n=8,noise=0", 8.0
    clean = open_dataset(spec, "train", (3, 32, 32))
    rgb = open_dataset(spec, "train", (3, 32, 32), "rgb", noise)
    bayer = open_dataset(spec, "train", (1, 32, 32), "bayer-rggb", noise)
    mosaic = np.empty(bayer.images.shape[:3], np.uint8)  # RGGB from the pattern's letters
    mosaic[:, 0::2, 0::2] = clean.images[:, 0::2, 0::2, 0]
    mosaic[:, 0::2, 1::2] = clean.images[:, 0::2, 1::2, 1]
    mosaic[:, 1::2, 0::2] = clean.images[:, 1::2, 0::2, 1]
    mosaic[:, 1::2, 1::2] = clean.images[:, 1::2, 1::2, 2]
    for noisy, base in ((rgb.images, clean.images), (bayer.images[..., 0], mosaic)):
        ratio, samples = _noise_ratio(noisy, base, noise)
        assert samples > 5000 and 0.9 < ratio < 1.1
    assert np.array_equal(rgb.labels, clean.labels)
    assert np.array_equal(open_dataset(spec, "train", (3, 32, 32), "rgb", noise).images,
                          rgb.images)  # deterministic per split
    assert np.array_equal(open_dataset(spec, "train", (3, 32, 32), "rgb").images, clean.images)
    with pytest.raises(RnnedgeError, match="takes 3 input channel"):
        open_dataset(spec, "train", (1, 32, 32), "rgb", noise)


def test_period_two_augmentation_keeps_every_pixel_on_its_phase():
    phase = np.zeros((1, 8, 8, 1), np.uint8)
    phase[0, :, :, 0] = 1 + (np.arange(8)[:, None] % 2) * 2 + np.arange(8)[None, :] % 2
    dataset = make_dataset(np.repeat(phase, 64, axis=0), np.arange(64) % 2, ["a", "b"], "t",
                           Augmentation(crop_pad=3, flip=True, period=2))
    torch_set = TorchImageDataset(dataset, Normalization((0.0,), (1 / 255,)),
                                  dataset.augmentation, seed=0)
    expected = phase[0, :, :, 0].astype(np.float32)
    moved = 0
    for i in range(64):
        image = torch_set[i][0].numpy()[0]
        kept = image != 0
        assert np.array_equal(image[kept], expected[kept])  # no pixel changes phase
        moved += not kept.all()
    assert moved > 10  # the augmentation did crop/flip
