"""COCO-layout detection data: `annotations/instances_<split>.json` + `images/<split>/`.

The layout COCO and most exporters (CVAT, Roboflow, FiftyOne) write:

    DIR/annotations/instances_train.json   DIR/images/train/*.jpg
    DIR/annotations/instances_val.json     DIR/images/val/*.jpg
    (instances_test.json + images/test/ optional)

`train2017`-style names are accepted too. Split `check` reads `test` when it exists, else
`val` (COCO's test annotations are not public). Every image listed in the json is loaded,
annotated or not (an image without objects is a negative, as COCO evaluates it). `classes`
keeps only the named categories, in that order (e.g. ("person",)); by default every
category, in id order. Boxes are COCO's [x, y, w, h] in pixels; `iscrowd` boxes are kept as
crowd (never training targets, ignored by the evaluation as COCO does). Boxes reaching
outside the image are clipped, boxes with w or h <= 0 dropped; both counted in `skipped`.
A malformed json, an unknown category name or id, an annotation of an unlisted image, a
missing or unreadable image file: one RnnedgeError naming the file.

May import: json, numpy, rnnedge.data.detection, rnnedge.errors.
"""

import json
from pathlib import Path

import numpy as np

from rnnedge.data.detection import letterbox, make_detection_dataset, read_image
from rnnedge.errors import RnnedgeError

SPLIT_NAMES = {"train": ("train",), "val": ("val",), "check": ("test", "val")}


def _annotation_file(root, name):
    """(json path, images folder) of split folder name `name`, or None."""
    for suffix in ("", "2017"):
        found = root / "annotations" / f"instances_{name}{suffix}.json"
        if found.is_file():
            for images in (root / "images" / f"{name}{suffix}", root / f"{name}{suffix}",
                           root / "images"):
                if images.is_dir():
                    return found, images
            raise RnnedgeError(f"{found}: no image folder images/{name}{suffix}/ beside it")
    return None


def is_coco(path):
    """True when `path` has annotations/instances_*.json."""
    folder = Path(path) / "annotations"
    return folder.is_dir() and any(folder.glob("instances_*.json"))


def _load_json(path):
    try:
        with open(path, "rb") as f:
            data = json.load(f)
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise RnnedgeError(f"{path}: not readable COCO json ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ("images", "annotations", "categories")):
        raise RnnedgeError(f"{path}: COCO json needs lists 'images', 'annotations' and "
                           "'categories'")
    return data


def _categories(data, path, classes):
    """({category id: class index}, class names)."""
    names = {}
    for cat in data["categories"]:
        if not isinstance(cat, dict) or not isinstance(cat.get("id"), int) \
                or not isinstance(cat.get("name"), str):
            raise RnnedgeError(f"{path}: every category needs an integer 'id' and a 'name'")
        names[cat["id"]] = cat["name"]
    if classes is None:
        ordered = sorted(names)
        return {cid: i for i, cid in enumerate(ordered)}, [names[c] for c in ordered]
    by_name = {}
    for cid, name in names.items():
        by_name.setdefault(name, cid)
    unknown = [c for c in classes if c not in by_name]
    if unknown:
        raise RnnedgeError(f"{path}: unknown category {unknown[0]!r}; the file has "
                           f"{', '.join(sorted(by_name)[:20])}")
    return {by_name[c]: i for i, c in enumerate(classes)}, list(classes)


def _number_box(ann, path):
    """The [x, y, w, h] floats of one annotation."""
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
            for v in bbox):
        raise RnnedgeError(f"{path}: annotation {ann.get('id')} has no valid bbox "
                           "[x, y, w, h]")
    return [float(v) for v in bbox]


def load_coco(root, split, size, channels=3, classes=None):
    """Load `split` of the COCO folder `root`, letterboxed to `size` (H, W)."""
    root = Path(root)
    found = None
    for name in SPLIT_NAMES[split]:
        found = _annotation_file(root, name)
        if found:
            break
    if found is None:
        raise RnnedgeError(f"{root}: no annotations/instances_{SPLIT_NAMES[split][0]}.json for "
                           f"split {split!r}")
    path, image_dir = found
    data = _load_json(path)
    category_index, class_names = _categories(data, path, classes)
    all_categories = {c["id"] for c in data["categories"]}
    images, order = {}, []
    for info in data["images"]:
        if not isinstance(info, dict) or not isinstance(info.get("id"), int) \
                or not isinstance(info.get("file_name"), str):
            raise RnnedgeError(f"{path}: every image needs an integer 'id' and a 'file_name'")
        if info["id"] in images:
            raise RnnedgeError(f"{path}: image id {info['id']} is listed twice")
        images[info["id"]] = info["file_name"]
        order.append(info["id"])
    per_image = {i: [] for i in order}
    skipped = {}
    for ann in data["annotations"]:
        if not isinstance(ann, dict):
            raise RnnedgeError(f"{path}: an annotation is not an object")
        if ann.get("image_id") not in per_image:
            raise RnnedgeError(f"{path}: annotation {ann.get('id')} refers to image "
                               f"{ann.get('image_id')!r}, which 'images' does not list")
        if ann.get("category_id") not in all_categories:
            raise RnnedgeError(f"{path}: annotation {ann.get('id')} has category "
                               f"{ann.get('category_id')!r}, which 'categories' does not list")
        x, y, w, h = _number_box(ann, path)
        if ann["category_id"] not in category_index:
            continue
        if w <= 0 or h <= 0:
            skipped["degenerate_boxes"] = skipped.get("degenerate_boxes", 0) + 1
            continue
        per_image[ann["image_id"]].append(
            (x, y, x + w, y + h, category_index[ann["category_id"]], bool(ann.get("iscrowd", 0))))
    out_images, boxes, labels, crowd, sizes, boxes_lb = [], [], [], [], [], []
    for image_id in order:
        file = image_dir / images[image_id]
        if not file.resolve().is_relative_to(image_dir.resolve()):
            raise RnnedgeError(f"{path}: image file_name {images[image_id]!r} leaves {image_dir}")
        raw = read_image(file, channels)
        fitted, lb = letterbox(raw, size)
        objects = np.array([o[:4] for o in per_image[image_id]], np.float32).reshape(-1, 4)
        outside = ((objects[:, 0] < 0) | (objects[:, 1] < 0) | (objects[:, 2] > raw.shape[1])
                   | (objects[:, 3] > raw.shape[0]))
        if outside.any():
            skipped["boxes_clipped"] = skipped.get("boxes_clipped", 0) + int(outside.sum())
        objects[:, [0, 2]] = objects[:, [0, 2]].clip(0, raw.shape[1])
        objects[:, [1, 3]] = objects[:, [1, 3]].clip(0, raw.shape[0])
        out_images.append(fitted)
        boxes.append(objects * lb.scale + np.array([lb.pad_x, lb.pad_y] * 2, np.float32))
        labels.append([o[4] for o in per_image[image_id]])
        crowd.append([o[5] for o in per_image[image_id]])
        sizes.append(raw.shape[:2])
        boxes_lb.append(lb)
    stacked = np.stack(out_images) if out_images else np.zeros((0, *size, channels), np.uint8)
    return make_detection_dataset(stacked, boxes, labels, crowd, class_names,
                                  f"COCO {split} {path}", original_sizes=sizes,
                                  letterboxes=boxes_lb, image_ids=order, skipped=skipped)
