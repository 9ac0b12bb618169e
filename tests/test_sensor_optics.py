"""The camera-realistic synthetic set (`synthetic:optics=SIGMA`, rnnedge/data/synthetic.py):
its RGB images are the default set's scene convolved with the Gaussian PSF (checked against
scipy.ndimage.gaussian_filter), the noise comes after the lens, the blur comes before every
format conversion (its mosaic and luma equal numpy's of the blurred RGB), and the default set
is byte for byte what it was before the option existed."""

import hashlib

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from rnnedge.data import open_dataset
from rnnedge.data.synthetic import SyntheticConfig, generate
from rnnedge.errors import RnnedgeError

DEFAULT_DIGESTS = {  # sha256 of SyntheticConfig(n=300)'s images, recorded at commit a957578
    "train": "99b9ef9500b24e87238d919fa1030ccfc9b425598066e027b6012c41d9397ece",
    "check": "5c30991a689cb1beed8131482e8b9cffef2cd3fb1f7d42f1ffd6ee6d36c45273",
}


@pytest.mark.parametrize("split", sorted(DEFAULT_DIGESTS))
def test_default_set_is_unchanged(split):
    for config in (SyntheticConfig(n=300), SyntheticConfig(n=300, optics=0.0)):
        images = generate(config, split).images
        assert hashlib.sha256(images.tobytes()).hexdigest() == DEFAULT_DIGESTS[split]


@pytest.mark.parametrize("sigma", [0.5, 0.7, 2.0])
def test_rgb_images_are_the_default_scene_through_the_psf(sigma):
    scene = open_dataset("synthetic:n=100,noise=0", "val").images
    camera = open_dataset(f"synthetic:n=100,noise=0,optics={sigma}", "val")
    reference = gaussian_filter(scene.astype(np.float64), sigma=(0, sigma, sigma, 0),
                                mode="reflect", truncate=4.0)
    assert np.array_equal(camera.images, np.clip(np.rint(reference), 0, 255).astype(np.uint8))
    assert not np.array_equal(camera.images, scene)
    assert np.array_equal(camera.labels, open_dataset("synthetic:n=100", "val").labels)
    assert "optics=" in camera.source and "noise=0" in camera.source
    assert "noise=" not in open_dataset("synthetic:n=2", "val").source  # the default's name


def test_noise_is_added_after_the_lens():
    """The same noise samples in both sets: blurred scene + noise, not a blurred noisy image."""
    clean = open_dataset("synthetic:n=100,noise=0", "train").images.astype(int)
    noisy = open_dataset("synthetic:n=100", "train").images.astype(int)
    blurred = open_dataset("synthetic:n=100,noise=0,optics=0.7", "train").images.astype(int)
    camera = open_dataset("synthetic:n=100,optics=0.7", "train").images.astype(int)
    inside = (clean > 0) & (clean < 255) & (noisy > 0) & (noisy < 255) \
        & (blurred > 0) & (blurred < 255) & (camera > 0) & (camera < 255)  # no clipping
    residual = (camera - blurred) - (noisy - clean)
    assert inside.mean() > 0.9 and np.abs(residual[inside]).max() <= 2
    assert 10 < np.std((camera - blurred)[inside]) < 14  # unblurred noise, sigma 12
    quiet = open_dataset("synthetic:n=100,optics=0.7,noise=6", "train").images.astype(int)
    inside &= (quiet > 0) & (quiet < 255)
    half = (quiet - blurred) - (camera - blurred) / 2  # noise=6: the same samples, halved
    assert np.abs(half[inside]).max() <= 1.5


@pytest.mark.parametrize("pattern,grid", [("bayer-rggb", [[0, 1], [1, 2]]),
                                          ("bayer-gbrg", [[1, 2], [0, 1]])])
def test_the_mosaic_samples_the_blurred_scene(pattern, grid):
    spec = "synthetic:n=64,optics=0.7"
    rgb = open_dataset(spec, "check").images
    bayer = open_dataset(spec, "check", (1, 32, 32), pattern).images
    channel = np.tile(np.array(grid), (16, 16))
    expected = np.take_along_axis(rgb, channel[None, :, :, None], axis=3)
    assert bayer.shape == (64, 32, 32, 1) and np.array_equal(bayer, expected)
    gray = open_dataset(spec, "check", (1, 32, 32), "gray").images[..., 0].astype(float)
    luma = rgb.astype(float) @ np.array([0.299, 0.587, 0.114])
    assert np.abs(gray - luma).max() <= 0.5 + 1e-6


def test_deterministic_per_seed():
    a = open_dataset("synthetic:n=50,optics=0.7,seed=4", "train").images
    assert np.array_equal(a, open_dataset("synthetic:n=50,optics=0.7,seed=4", "train").images)
    assert not np.array_equal(a, open_dataset("synthetic:n=50,optics=0.7,seed=5", "train").images)


@pytest.mark.parametrize("value", ["-0.5", "4.5", "nan", "blur"])
def test_bad_optics_is_refused(value):
    with pytest.raises(RnnedgeError, match="optics"):
        open_dataset(f"synthetic:n=10,optics={value}", "train")
