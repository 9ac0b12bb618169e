"""YOLO-layout detection data: `data.yaml` + `images/` + `labels/*.txt` (Ultralytics' format).

    DIR/data.yaml        train: images/train   val: images/val   [test: images/test]
                         names: [person, ...]  (or {0: person, ...}; optional path: root)
    DIR/images/train/a.jpg   DIR/labels/train/a.txt   one line per object:
                         class cx cy w h       (normalised to [0, 1] by the image size)

A split entry may be a folder, a list of folders, or a .txt file listing image paths; the
label of `.../images/.../a.jpg` is `.../labels/.../a.txt` (the last `images` component
replaced). Split `check` reads `test` when data.yaml has it, else `val`. A missing or empty
label file means an image without objects (a negative, as Ultralytics reads it); such
images are counted in `skipped["images_without_labels"]`. Coordinates outside [0, 1] are
clipped (counted). A malformed line, a class index outside `names`, an unreadable image or
yaml: one RnnedgeError naming the file (and line). `classes` keeps the named classes only.

May import: numpy, yaml, rnnedge.data.detection, rnnedge.data.folder, rnnedge.errors.
"""

from pathlib import Path

import numpy as np

from rnnedge.data.detection import letterbox, make_detection_dataset, read_image
from rnnedge.data.folder import IMAGE_SUFFIXES
from rnnedge.errors import RnnedgeError

YAML_NAMES = ("data.yaml", "data.yml", "dataset.yaml")
SPLIT_KEYS = {"train": ("train",), "val": ("val",), "check": ("test", "val")}


def find_yaml(path):
    """The data.yaml of folder `path` (or `path` itself when it is the yaml), or None."""
    path = Path(path)
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        return path
    return next((path / n for n in YAML_NAMES if (path / n).is_file()), None)


def _read_yaml(path):
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RnnedgeError(f"{path}: not readable YAML ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise RnnedgeError(f"{path}: data.yaml must be a mapping with train/val/names")
    names = data.get("names")
    if isinstance(names, dict):
        try:
            names = [str(names[i]) for i in range(len(names))]
        except KeyError:
            raise RnnedgeError(f"{path}: names must be numbered 0..{len(names) - 1}") from None
    if not isinstance(names, list) or not names:
        raise RnnedgeError(f"{path}: data.yaml needs 'names' (a list of class names)")
    return data, [str(n) for n in names]


def _image_files(root, entry, yaml_path):
    """Image files of one split entry (folder, list of folders, or .txt listing)."""
    entries = entry if isinstance(entry, list) else [entry]
    files = []
    for item in entries:
        target = (root / str(item)).resolve()
        if target.is_dir():
            files += sorted(f for f in target.rglob("*") if f.is_file()
                            and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith("."))
        elif target.is_file() and target.suffix == ".txt":
            lines = target.read_text(encoding="utf-8").split()
            files += [(target.parent / line).resolve() if not Path(line).is_absolute()
                      else Path(line) for line in lines]
        else:
            raise RnnedgeError(f"{yaml_path}: split path {item!r} does not exist")
    return files


def label_path(image_file):
    """The YOLO label file of an image: the last `images` folder replaced by `labels`."""
    parts = list(image_file.parts)
    if "images" in parts:
        i = len(parts) - 1 - parts[::-1].index("images")
        parts[i] = "labels"
    return Path(*parts).with_suffix(".txt")


def _read_labels(path, num_classes, skipped):
    """(N, 5) float rows class cx cy w h of a label file (empty when missing)."""
    if not path.is_file():
        return np.zeros((0, 5), np.float64)
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RnnedgeError(f"{path}: not a readable label file ({type(exc).__name__})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            values = [float(v) for v in fields]
        except ValueError:
            values = []
        if len(values) != 5 or not np.all(np.isfinite(values)) or values[0] != int(values[0]):
            raise RnnedgeError(f"{path}:{number}: expected 'class cx cy w h', got {line.strip()!r}")
        if not 0 <= values[0] < num_classes:
            raise RnnedgeError(f"{path}:{number}: class {int(values[0])} outside the "
                               f"{num_classes} names of data.yaml")
        if values[3] <= 0 or values[4] <= 0:
            skipped["degenerate_boxes"] = skipped.get("degenerate_boxes", 0) + 1
            continue
        rows.append(values)
    return np.array(rows, np.float64).reshape(-1, 5)


def load_yolo(path, split, size, channels=3, classes=None):
    """Load `split` of the YOLO dataset at `path` (folder or data.yaml), letterboxed."""
    yaml_path = find_yaml(path)
    if yaml_path is None:
        raise RnnedgeError(f"{path}: no data.yaml")
    data, names = _read_yaml(yaml_path)
    root = yaml_path.parent / str(data.get("path") or ".")
    key = next((k for k in SPLIT_KEYS[split] if data.get(k)), None)
    if key is None:
        raise RnnedgeError(f"{yaml_path}: no '{SPLIT_KEYS[split][0]}' entry for split {split!r}")
    if classes is not None:
        unknown = [c for c in classes if c not in names]
        if unknown:
            raise RnnedgeError(f"{yaml_path}: unknown class {unknown[0]!r}; names are "
                               f"{', '.join(names[:20])}")
        remap = {names.index(c): i for i, c in enumerate(classes)}
        class_names = list(classes)
    else:
        remap, class_names = {i: i for i in range(len(names))}, names
    skipped = {}
    out_images, boxes, labels, crowd, sizes, lbs = [], [], [], [], [], []
    for file in _image_files(root, data[key], yaml_path):
        raw = read_image(file, channels)
        rows = _read_labels(label_path(file), len(names), skipped)
        if not len(rows):
            skipped["images_without_labels"] = skipped.get("images_without_labels", 0) + 1
        rows = rows[[int(c) in remap for c in rows[:, 0]]] if len(rows) else rows
        h0, w0 = raw.shape[:2]
        xyxy = np.stack([rows[:, 1] - rows[:, 3] / 2, rows[:, 2] - rows[:, 4] / 2,
                         rows[:, 1] + rows[:, 3] / 2, rows[:, 2] + rows[:, 4] / 2], 1)
        outside = ((xyxy < 0) | (xyxy > 1)).any(axis=1)
        if outside.any():
            skipped["boxes_clipped"] = skipped.get("boxes_clipped", 0) + int(outside.sum())
        xyxy = xyxy.clip(0, 1) * np.array([w0, h0, w0, h0])
        fitted, lb = letterbox(raw, size)
        out_images.append(fitted)
        boxes.append(xyxy * lb.scale + np.array([lb.pad_x, lb.pad_y] * 2))
        labels.append([remap[int(c)] for c in rows[:, 0]])
        crowd.append([False] * len(rows))
        sizes.append((h0, w0))
        lbs.append(lb)
    stacked = np.stack(out_images) if out_images else np.zeros((0, *size, channels), np.uint8)
    return make_detection_dataset(stacked, boxes, labels, crowd, class_names,
                                  f"YOLO {split} {yaml_path}", original_sizes=sizes,
                                  letterboxes=lbs, skipped=skipped)
