"""COCO and YOLO loaders, letterbox, synthetic detection set, and the AP metrics against
pycocotools run directly on the fixture's own json."""

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from detect_fixtures import scenes, write_coco, write_yolo
from rnnedge.data import open_dataset
from rnnedge.data.detection_spec import open_detection_dataset
from rnnedge.data.detection import BoxAugmentation
from rnnedge.detect.augment import DetectionTorchDataset, collate
from rnnedge.detect.evaluate import best_f1, coco_metrics, run_cocoeval
from rnnedge.data.torch_adapter import Normalization
from rnnedge.errors import RnnedgeError

SHAPE = (3, 32, 32)


@pytest.fixture
def same_data(tmp_path):
    splits = {"train": scenes(6, seed=1), "val": scenes(5, seed=2)}
    return write_coco(tmp_path / "coco", splits), write_yolo(tmp_path / "yolo", splits), splits


def test_coco_letterbox_maps_boxes(same_data):
    coco_root, _, splits = same_data
    val = open_detection_dataset(coco_root, "val", SHAPE)
    assert val.class_names == ("person", "car") and len(val) == 5
    # 40x64 -> 32x32: scale 0.5, 20 rows centred with 6 rows of padding above
    lb = val.letterboxes[0]
    assert (lb.scale, lb.pad_x, lb.pad_y) == (0.5, 0.0, 6.0)
    _, objects = splits["val"][0]
    cat, x, y, w, h, _ = objects[0]
    assert val.boxes[0][0].tolist() == pytest.approx([x / 2, y / 2 + 6, (x + w) / 2, (y + h) / 2 + 6])
    assert val.images[0, 0, 0].tolist() == [114, 114, 114]  # the letterbox padding
    assert val.original_sizes[0] == (40, 64) and val.image_ids[0] == 100


def test_class_filter_and_check_split(same_data):
    coco_root, yolo_root, _ = same_data
    person = open_detection_dataset(coco_root, "check", SHAPE, classes=["person"])
    assert person.class_names == ("person",)
    assert all((lab == 0).all() for lab in person.labels)
    assert len(person) == 5  # no test json: check reads val
    with pytest.raises(RnnedgeError, match="unknown category 'dog'"):
        open_detection_dataset(coco_root, "val", SHAPE, classes=["dog"])
    with pytest.raises(RnnedgeError, match="unknown class 'dog'"):
        open_detection_dataset(yolo_root, "val", SHAPE, classes=["dog"])


def _fake_detections(dataset, seed=0):
    """Perturbed true boxes plus false positives, scored at random."""
    rng = np.random.default_rng(seed)
    out = []
    for boxes, labels in zip(dataset.boxes, dataset.labels):
        noisy = boxes + rng.normal(0, 1.5, boxes.shape)
        fp = rng.uniform(0, 20, (2, 2))
        fp = np.concatenate([fp, fp + rng.uniform(4, 12, (2, 2))], 1)
        all_boxes = np.concatenate([noisy, fp])
        classes = np.concatenate([labels, rng.integers(0, 2, 2)])
        out.append((all_boxes, rng.uniform(0.05, 1, len(all_boxes)), classes))
    return out


def test_ap_equals_pycocotools_on_the_original_json(same_data, tmp_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    coco_root, _, _ = same_data
    val = open_detection_dataset(coco_root, "val", SHAPE)
    detections = _fake_detections(val)
    ours = coco_metrics(detections, val)
    # independently: undo the letterbox by hand, evaluate against the fixture's own json
    records = []
    for i, (boxes, scores, classes) in enumerate(detections):
        x1, y1 = boxes[:, 0] / 0.5, (boxes[:, 1] - 6) / 0.5
        x2, y2 = boxes[:, 2] / 0.5, (boxes[:, 3] - 6) / 0.5
        x1, x2 = x1.clip(0, 64), x2.clip(0, 64)
        y1, y2 = y1.clip(0, 40), y2.clip(0, 40)
        category = {0: 1, 1: 3}
        records += [{"image_id": 100 + i, "category_id": category[int(c)],
                     "bbox": [float(a), float(b), float(c_ - a), float(d - b)], "score": float(s)}
                    for a, b, c_, d, s, c in zip(x1, y1, x2, y2, scores, classes)]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(coco_root / "annotations" / "instances_val.json"))
        ev = COCOeval(gt, gt.loadRes(records), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ours["ap50"] == pytest.approx(100 * ev.stats[1], abs=1e-9)
    assert ours["ap"] == pytest.approx(100 * ev.stats[0], abs=1e-9)
    assert 0 < ours["ap"] < ours["ap50"] < 100


def test_yolo_and_coco_layouts_give_the_same_ap(same_data):
    coco_root, yolo_root, _ = same_data
    coco_val = open_detection_dataset(coco_root, "val", SHAPE)
    yolo_val = open_detection_dataset(yolo_root, "val", SHAPE)
    assert yolo_val.class_names == coco_val.class_names
    for a, b in zip(coco_val.boxes, yolo_val.boxes):
        assert np.allclose(a, b, atol=1e-4)
    detections = _fake_detections(coco_val, seed=3)
    a, b = coco_metrics(detections, coco_val), coco_metrics(detections, yolo_val)
    assert a["ap50"] == pytest.approx(b["ap50"]) and a["ap"] == pytest.approx(b["ap"])
    assert a["f1"] == pytest.approx(b["f1"])


def test_f1_at_best_threshold_hand_computed():
    """3 true boxes in 2 images; detections TP .9, FP .8, TP .7, FP .3: F1 is 2/3 at .7."""
    gt = {"images": [{"id": 1, "width": 100, "height": 100}, {"id": 2, "width": 100, "height": 100}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0},
                          {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 50, 10, 10], "area": 100, "iscrowd": 0},
                          {"id": 3, "image_id": 2, "category_id": 1, "bbox": [20, 20, 20, 20], "area": 400, "iscrowd": 0}],
          "categories": [{"id": 1, "name": "person"}]}
    records = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
               {"image_id": 1, "category_id": 1, "bbox": [80, 80, 10, 10], "score": 0.8},
               {"image_id": 2, "category_id": 1, "bbox": [21, 21, 20, 20], "score": 0.7},
               {"image_id": 2, "category_id": 1, "bbox": [70, 0, 10, 10], "score": 0.3}]
    f1, threshold, precision, recall = best_f1(run_cocoeval(gt, records))
    assert f1 == pytest.approx(100 * 2 / 3) and threshold == pytest.approx(0.7)
    assert precision == pytest.approx(100 * 2 / 3) and recall == pytest.approx(100 * 2 / 3)


def test_crowd_boxes_are_ignored_as_coco_does(tmp_path):
    items = scenes(4, seed=5)
    root = write_coco(tmp_path, {"train": items, "val": items}, crowd_first=True)
    val = open_detection_dataset(root, "val", SHAPE)
    assert all(c[0] for c in val.crowd)
    data = DetectionTorchDataset(val, Normalization((0.5,) * 3, (0.25,) * 3))
    _, targets = data[0]
    assert len(targets) == len(val.boxes[0]) - 1  # the crowd box is no target
    # a detection exactly on a crowd box is neither a TP nor an FP
    only_crowd = [(b[:1], np.array([0.9]), lab[:1]) for b, lab in zip(val.boxes, val.labels)]
    assert coco_metrics(only_crowd, val)["f1"] == 0.0
    assert coco_metrics(only_crowd, val)["detections"] == len(val)


def test_augmentation_moves_boxes_with_pixels():
    val = open_detection_dataset("synthetic-detect:n=4", "val", (3, 64, 64))
    data = DetectionTorchDataset(val, Normalization((0.0,) * 3, (1.0,) * 3),
                                 BoxAugmentation(brightness=0.0), seed=0)
    plain = DetectionTorchDataset(val, Normalization((0.0,) * 3, (1.0,) * 3))
    for epoch in range(3):
        data.set_epoch(epoch)
        for i in range(len(val)):
            image, boxes, _ = data.sample(i)
            original, boxes0, _ = plain.sample(i)
            # the mean colour inside a moved box is the object's colour region's, far from grey
            for box in boxes:
                x1, y1, x2, y2 = np.round(box).astype(int)
                assert image[y1:y2, x1:x2].size
            assert len(boxes) <= len(boxes0)
    images, targets = collate([data[0], data[1]])
    assert images.shape == (2, 3, 64, 64) and targets.shape[1] == 6
    assert set(targets[:, 0].tolist()) <= {0.0, 1.0}


def test_flip_mirrors_boxes():
    from rnnedge.detect.augment import affine_boxes

    moved, clipped = affine_boxes(np.array([[10.0, 5, 20, 15]]), 1.0, (0, 0), True, 64, 32)
    assert moved.tolist() == [[44.0, 5, 54, 15]]


def test_synthetic_detect_is_deterministic_and_disjoint():
    a = open_dataset("synthetic-detect:n=6", "train", (3, 64, 64))
    b = open_dataset("synthetic-detect:n=6", "train", (3, 64, 64))
    c = open_dataset("synthetic-detect:n=6", "val", (3, 64, 64))
    assert np.array_equal(a.images, b.images) and not np.array_equal(a.images, c.images)
    assert a.objects() >= 6 and a.class_names == ("person",)
    three = open_detection_dataset("synthetic-detect:classes=3,n=20", "train", (3, 64, 64))
    assert set(np.concatenate(three.labels).tolist()) == {0, 1, 2}


def test_boxes_outside_are_clipped_and_counted(tmp_path):
    items = scenes(3, seed=7)
    items[0][1].append((1, 60, 30, 30, 30, 0))  # reaches outside the 64x40 image
    items[1][1].append((1, 100, 100, 5, 5, 0))  # entirely outside
    root = write_coco(tmp_path, {"train": items, "val": items})
    val = open_detection_dataset(root, "val", SHAPE)
    assert val.skipped["boxes_clipped"] == 2 and val.skipped["boxes_outside"] == 1
    assert all(b.max() <= 32 for b in val.boxes)


BAD_JSON = [
    ("not json", "not readable COCO json"),
    (json.dumps({"images": []}), "needs lists"),
    (json.dumps({"images": [{"id": 1, "file_name": "0.png"}], "categories": [{"id": 1, "name": "p"}],
                 "annotations": [{"id": 1, "image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]}]}),
     "refers to image 9"),
    (json.dumps({"images": [{"id": 1, "file_name": "0.png"}], "categories": [{"id": 1, "name": "p"}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [0, 0, 1, 1]}]}),
     "category 5"),
    (json.dumps({"images": [{"id": 1, "file_name": "0.png"}], "categories": [{"id": 1, "name": "p"}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, "a", 1, 1]}]}),
     "no valid bbox"),
    (json.dumps({"images": [{"id": 1, "file_name": "../x.png"}], "categories": [{"id": 1, "name": "p"}],
                 "annotations": []}), "leaves"),
]


@pytest.mark.parametrize("text,message", BAD_JSON)
def test_bad_coco_json_is_one_error(tmp_path, text, message):
    root = write_coco(tmp_path, {"val": scenes(1)})
    (root / "annotations" / "instances_val.json").write_text(text)
    with pytest.raises(RnnedgeError, match=message):
        open_detection_dataset(root, "val", SHAPE)


def test_corrupt_image_and_bad_label_line(tmp_path):
    coco_root = write_coco(tmp_path / "c", {"val": scenes(2)})
    (coco_root / "images" / "val" / "1.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(RnnedgeError, match="1.png: not a readable image"):
        open_detection_dataset(coco_root, "val", SHAPE)
    yolo_root = write_yolo(tmp_path / "y", {"val": scenes(2)})
    (yolo_root / "labels" / "val" / "0.txt").write_text("0 0.5 0.5 0.1\n")
    with pytest.raises(RnnedgeError, match=r"0.txt:1: expected 'class cx cy w h'"):
        open_detection_dataset(yolo_root, "val", SHAPE)
    (yolo_root / "labels" / "val" / "0.txt").write_text("7 0.5 0.5 0.1 0.1\n")
    with pytest.raises(RnnedgeError, match="class 7 outside"):
        open_detection_dataset(yolo_root, "val", SHAPE)


def test_empty_yolo_label_file_is_a_counted_negative(tmp_path):
    root = write_yolo(tmp_path, {"val": scenes(3)})
    (root / "labels" / "val" / "2.txt").write_text("")
    val = open_detection_dataset(root, "val", SHAPE)
    assert len(val) == 3 and len(val.boxes[2]) == 0
    assert val.skipped["images_without_labels"] == 1


def test_open_dataset_still_reads_classification_folders(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(10):
            Image.new("RGB", (8, 8), (i, 0, 0)).save(tmp_path / name / f"{i}.png")
    assert open_dataset(str(tmp_path), "train", (3, 16, 16)).num_classes == 2


def test_benchmark_writes_synthetic_detect_as_a_coco_folder(tmp_path):
    """benchmarks/detection.py --write-coco: pycocotools reads the json it writes, and
    rnnedge's COCO loader gives back the generator's own boxes (same size: no letterbox) and
    its images up to JPEG's loss."""
    from pycocotools.coco import COCO

    from helpers import load_benchmark
    from rnnedge.data.synthetic_detect import SyntheticDetectConfig, generate

    folder = tmp_path / "coco"
    load_benchmark("detection").main(["--write-coco", str(folder), "--train-images", "3",
                                      "--val-images", "2", "--image-size", "48x64"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coco"]  # nothing left beside it
    truth = generate(SyntheticDetectConfig(n=2, noise=14, clutter=6), "val", (48, 64))
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(folder / "annotations" / "instances_val.json"))
    assert len(gt.getImgIds()) == 2 and len(gt.getAnnIds()) == sum(len(b) for b in truth.boxes)
    loaded = open_detection_dataset(folder, "val", (3, 48, 64))
    assert loaded.class_names == ("person",)
    for got, want in zip(loaded.boxes, truth.boxes):
        np.testing.assert_allclose(got, want, atol=1e-4)
    got, want = loaded.images.astype(float), truth.images.astype(float)
    # JPEG (4:2:0, quality 92) keeps each image's mean colour and its content, not the noise
    assert np.abs(got.mean((1, 2)) - want.mean((1, 2))).max() < 1.5
    assert np.corrcoef(got.ravel(), want.ravel())[0, 1] > 0.9
