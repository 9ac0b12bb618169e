"""Image-folder loader on tiny PNG/JPEG folders written with Pillow at test time."""

import numpy as np
import pytest
from PIL import Image

from rnnedge.data import open_dataset
from rnnedge.data.folder import load_image_folder
from rnnedge.errors import RnnedgeError

COLOURS = {"blue": (0, 0, 255), "green": (0, 255, 0), "red": (255, 0, 0)}


def write_class_folder(root, per_class=10, size=(32, 32), fmt="png"):
    """root/<colour>/<i>.<fmt>: flat images of the class colour."""
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", size, colour).save(root / name / f"{i}.{fmt}")


def test_flat_layout_hash_split_is_disjoint_and_complete(tmp_path):
    write_class_folder(tmp_path, per_class=20)
    splits = {s: load_image_folder(tmp_path, s, (32, 32), 3) for s in ("train", "val", "check")}
    assert sum(len(d) for d in splits.values()) == 60
    assert splits["train"].class_names == ("blue", "green", "red")
    for dataset in splits.values():
        for image, label in zip(dataset.images, dataset.labels):
            assert tuple(image[0, 0]) == COLOURS[dataset.class_names[label]]
    assert len(splits["train"]) > len(splits["val"])
    again = load_image_folder(tmp_path, "val", (32, 32), 3)
    assert np.array_equal(again.labels, splits["val"].labels)


def test_split_layout_and_resize_jpeg(tmp_path):
    write_class_folder(tmp_path / "train", per_class=3, size=(40, 48), fmt="jpg")
    write_class_folder(tmp_path / "test", per_class=2, size=(40, 48), fmt="jpeg")
    (tmp_path / "train" / "red" / "notes.txt").write_text("ignored")
    train = open_dataset(str(tmp_path), "train", image_shape=(3, 32, 32))
    check = open_dataset(str(tmp_path), "check", image_shape=(3, 32, 32))
    val = open_dataset(str(tmp_path), "val", image_shape=(3, 32, 32))  # no val/: uses test/
    assert train.images.shape == (9, 32, 32, 3) and len(check) == 6 and len(val) == 6
    # JPEG is lossy: colours within a few levels.
    assert np.abs(check.images[check.labels == 2].astype(int) - (255, 0, 0)).max() < 8


def test_grayscale_model_input(tmp_path):
    write_class_folder(tmp_path, per_class=5)
    train = open_dataset(str(tmp_path), "train", image_shape=(1, 16, 16))
    assert train.images.shape[1:] == (16, 16, 1)
    green = train.images[train.labels == 1]
    assert np.all(green == round(0.587 * 255))


def test_corrupt_image_rejected_with_its_name(tmp_path):
    write_class_folder(tmp_path, per_class=2)
    (tmp_path / "red" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(RnnedgeError, match="broken.png: not a readable PNG/JPEG"):
        for split in ("train", "val", "check"):
            open_dataset(str(tmp_path), split)


def test_truncated_png_rejected(tmp_path):
    write_class_folder(tmp_path / "train", per_class=1)
    write_class_folder(tmp_path / "val", per_class=1)
    path = tmp_path / "val" / "green" / "0.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(RnnedgeError, match="0.png: not a readable"):
        open_dataset(str(tmp_path), "val")


def test_folder_errors(tmp_path):
    (tmp_path / "only").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "only" / "a.png")
    with pytest.raises(RnnedgeError, match="at least 2 class sub-folders"):
        load_image_folder(tmp_path, "train", (32, 32), 3)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RnnedgeError, match="no PNG or JPEG images in class folder 'empty'"):
        load_image_folder(tmp_path, "train", (32, 32), 3)


def test_split_layout_with_unknown_class(tmp_path):
    write_class_folder(tmp_path / "train", per_class=1)
    write_class_folder(tmp_path / "val", per_class=1)
    (tmp_path / "val" / "purple").mkdir()
    with pytest.raises(RnnedgeError, match=r"\['purple'\] are not in"):
        open_dataset(str(tmp_path), "val")
