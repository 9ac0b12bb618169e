"""`open_dataset(spec, split)`: one entry point from a command-line data spec to a Dataset.

A spec is `synthetic` or a path, optionally followed by `:key=value,...` options:
  synthetic[:classes=10,seed=0,n=N,noise=12,clutter=6]   the embedded default
  synthetic:optics=0.7                                   ... seen through a lens (PSF sigma px)
  PATH[:n=N]                                             CIFAR-10/100 or an image folder
  PATH[:labels=coarse]                                   CIFAR-100's 20 superclasses
  synthetic-detect[:...], a COCO or YOLO folder          detection data: a DetectionDataset
                                                         (rnnedge.data.detection_spec)
The format of a path is detected: a `cifar-100-python` or `cifar-10-batches-py` folder (or
one holding it), else an image folder. `n` keeps the first N samples of a real split and
sets the size of a synthetic one.

May import: rnnedge.data.base, rnnedge.data.cifar, rnnedge.data.folder,
rnnedge.data.synthetic, rnnedge.data.detection_spec, rnnedge.sensor, rnnedge.errors.
"""

from pathlib import Path

from rnnedge.data import cifar, folder, synthetic
from rnnedge.data.base import canonical_split, fit_images, make_dataset, subset
from rnnedge.errors import RnnedgeError

SYNTHETIC = "synthetic"
_SYNTHETIC_OPTIONS = {"classes": int, "seed": int, "n": int, "noise": float, "clutter": int,
                      "optics": float}
_PATH_OPTIONS = {"n": int, "labels": str}


def open_dataset(spec, split, image_shape=(3, 32, 32), input_format="rgb", sensor_noise=0.0):
    """Open `split` ("train", "val", "check"; "test" means "check") of the dataset named by
    `spec`, with images fitted to the model input `image_shape` (C, H, W) and delivered as the
    sensor of `input_format` gives them (rnnedge.sensor: an RGB set is mosaiced on the fly,
    deterministically, and `sensor_noise` is added in every format, RGB included, so an RGB
    baseline and a Bayer model compared at the same setting see the same noise)."""
    from rnnedge import sensor

    if sensor.check_format(input_format) != sensor.RGB or sensor_noise:
        return _sensor_dataset(spec, split, image_shape, input_format, sensor_noise)
    from rnnedge.data.detection_spec import is_detection_data, open_detection_dataset

    if is_detection_data(spec):  # letterboxed images with boxes (e.g. a detector's calibration)
        return open_detection_dataset(spec, split, image_shape)
    split = canonical_split(split)
    channels, height, width = image_shape
    name, options = parse_spec(spec)
    if name == SYNTHETIC:
        config = synthetic.SyntheticConfig(**options)
        return synthetic.generate(config, split, (height, width), channels)
    path = Path(name).expanduser()
    if not path.exists():
        raise RnnedgeError(f"data {name!r} not found: give 'synthetic', a CIFAR python folder "
                           "or an image folder")
    if not path.is_dir():
        raise RnnedgeError(f"data {name!r} is a file: extract CIFAR archives first, or give a "
                           "folder with one sub-folder per class")
    try:
        dataset = _open_folder(path, split, (height, width), channels, options)
    except OSError as exc:
        raise RnnedgeError(f"cannot read {exc.filename or name}: {exc.strerror or exc}") from None
    images = fit_images(dataset.images, (height, width), channels, dataset.source)
    return make_dataset(images, dataset.labels, dataset.class_names, dataset.source,
                        dataset.augmentation)


def _sensor_dataset(spec, split, image_shape, input_format, noise):
    """`spec`'s split opened as RGB at the model's size, then `as_sensor`."""
    from rnnedge import sensor

    channels, height, width = image_shape
    if channels != sensor.channels(input_format):
        raise RnnedgeError(f"a {input_format} model takes {sensor.channels(input_format)} "
                           f"input channel(s), not {channels}")
    return as_sensor(open_dataset(spec, split, (3, height, width)), split, input_format, noise)


def as_sensor(dataset, split, input_format, noise=0.0):
    """An RGB classification or detection dataset as the sensor of `input_format` delivers
    it (rnnedge.sensor.from_rgb, seeded per split), with `noise` in every format (an RGB set
    unchanged only without noise). Crops and flips keep a Bayer pattern
    (Augmentation.period); a detection set's affine jitter would not, so Bayer detection
    sets train without it."""
    from dataclasses import replace

    from rnnedge import sensor
    from rnnedge.data.detection import NO_BOX_AUGMENTATION

    if sensor.check_format(input_format) == sensor.RGB and not noise:
        return dataset
    seed = {"train": 1, "val": 2, "check": 3}[canonical_split(split)]
    images = sensor.from_rgb(dataset.images, input_format, noise, seed)
    source = f"{dataset.source} as {input_format}"
    if getattr(dataset, "task", None) == "detect":
        augmentation = (NO_BOX_AUGMENTATION if sensor.is_bayer(input_format)
                        else dataset.augmentation)
        return replace(dataset, images=images, source=source, augmentation=augmentation)
    augmentation = dataset.augmentation
    if augmentation.crop_pad or augmentation.flip:
        augmentation = replace(augmentation, period=sensor.pixel_period(input_format))
    return make_dataset(images, dataset.labels, dataset.class_names, source, augmentation)


def _open_folder(path, split, size, channels, options):
    """Detect the format of folder `path` and load `split` of it (first `n` samples)."""
    found = cifar.find_cifar_root(path)
    labels = options.get("labels")
    if found and found[0] == "cifar100":
        dataset = cifar.load_cifar100(found[1], split, labels or "fine")
    elif labels is not None:
        raise RnnedgeError("option labels= applies to CIFAR-100 only")
    elif found:
        dataset = cifar.load_cifar10(found[1], split)
    elif folder.is_image_folder(path):
        dataset = folder.load_image_folder(path, split, size, channels)
    else:
        raise RnnedgeError(f"{path}: not a CIFAR python folder and no class sub-folders with "
                           "images found")
    return subset(dataset, options.get("n"))


def parse_spec(spec):
    """Split a data spec into (name, options dict with typed values)."""
    spec = str(spec)
    name, options = spec, {}
    if spec == SYNTHETIC or spec.startswith(SYNTHETIC + ":"):
        name, _, text = spec.partition(":")
        return name, _parse_options(text, _SYNTHETIC_OPTIONS, spec)
    head, sep, text = spec.rpartition(":")
    if sep and "=" in text and not Path(spec).exists():
        name, options = head, _parse_options(text, _PATH_OPTIONS, spec)
    return name, options


def _parse_options(text, allowed, spec):
    """Parse `key=value,...` with the types in `allowed`."""
    options = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in allowed:
            raise RnnedgeError(f"bad data option {item!r} in {spec!r}: allowed are "
                               f"{', '.join(k + '=' for k in allowed)}")
        try:
            options[key] = allowed[key](value.strip())
        except ValueError:
            raise RnnedgeError(f"bad value for {key} in {spec!r}: {value!r}") from None
    return options
