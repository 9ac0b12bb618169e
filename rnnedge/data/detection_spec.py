"""`open_detection_dataset(spec, split, image_shape)`: a data spec -> DetectionDataset.

Specs: `synthetic-detect[:classes=1,seed=0,n=N,noise=8,clutter=3]` (the embedded default;
plain `synthetic` means it too where a detector asks), a COCO folder (`annotations/
instances_*.json`) or a YOLO folder / data.yaml, optionally `:n=N` (first N images of the
split). `classes` keeps only the named categories (COCO names, YOLO `names`).

May import: rnnedge.data.{coco, yolo, synthetic_detect, detection, spec}, rnnedge.errors.
"""

from pathlib import Path

from rnnedge.data import coco, synthetic_detect, yolo
from rnnedge.data.base import canonical_split
from rnnedge.data.detection import subset
from rnnedge.errors import RnnedgeError

_SYNTHETIC_OPTIONS = {"classes": int, "seed": int, "n": int, "noise": float, "clutter": int}


def is_detection_data(spec):
    """True when `spec` names detection data (synthetic-detect, a COCO or YOLO folder)."""
    if str(spec).split(":")[0] == synthetic_detect.NAME:
        return True
    path = Path(_path_part(spec)).expanduser()
    return path.exists() and (coco.is_coco(path) or yolo.find_yaml(path) is not None)


def _path_part(spec):
    from rnnedge.data.spec import parse_spec

    return parse_spec(spec)[0]


def open_detection_dataset(spec, split, image_shape=(3, 128, 128), classes=None):
    """Open `split` of detection data `spec` letterboxed to `image_shape` (C, H, W)."""
    from rnnedge.data.spec import _parse_options, parse_spec

    split = canonical_split(split)
    channels, height, width = image_shape
    spec = str(spec)
    if spec == "synthetic" or spec.startswith("synthetic:"):
        spec = synthetic_detect.NAME + spec[len("synthetic"):]
    if spec == synthetic_detect.NAME or spec.startswith(synthetic_detect.NAME + ":"):
        options = _parse_options(spec.partition(":")[2], _SYNTHETIC_OPTIONS, spec)
        dataset = synthetic_detect.generate(synthetic_detect.SyntheticDetectConfig(**options),
                                            split, (height, width), channels)
        if classes is not None and tuple(classes) != dataset.class_names:
            raise RnnedgeError(f"{synthetic_detect.NAME} has classes "
                               f"{', '.join(dataset.class_names)}; the model expects "
                               f"{', '.join(classes)}")
        return dataset
    name, options = parse_spec(spec)
    unknown = set(options) - {"n"}
    if unknown:
        raise RnnedgeError(f"detection data takes only the option n=, got {sorted(unknown)}")
    path = Path(name).expanduser()
    if not path.exists():
        raise RnnedgeError(f"data {name!r} not found: give synthetic-detect, a COCO folder "
                           "(annotations/instances_*.json) or a YOLO folder (data.yaml)")
    try:
        if path.is_dir() and coco.is_coco(path):
            dataset = coco.load_coco(path, split, (height, width), channels, classes)
        elif yolo.find_yaml(path) is not None:
            dataset = yolo.load_yolo(path, split, (height, width), channels, classes)
        else:
            raise RnnedgeError(f"{path}: neither a COCO folder (annotations/instances_*.json) "
                               "nor a YOLO folder (data.yaml)")
    except OSError as exc:
        raise RnnedgeError(f"cannot read {exc.filename or name}: {exc.strerror or exc}") from None
    return subset(dataset, options.get("n"))
