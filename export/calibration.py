"""Calibration and check inputs for int8 export, and calibration ranges.

Two jobs:
1. Input sets. `calibration_inputs` gives the samples that set the int8 ranges; `check_inputs`
   gives a *different* set (another seed, or the dataset's `check` split) on which verify.py
   compares int8 with float, so agreement is not measured on the data that calibrated it.
   Samples come from a dataset folder or the embedded synthetic set (`rnnedge.data`; the
   `train` split calibrates, the disjoint `check` split checks), normalised with the
   checkpoint's mean/std; the same request gives the same arrays. `synthetic_images` (smooth
   random maps of any shape) stands in where the synthetic set cannot render the input (a
   standalone layer's 19-channel map, a 12x14 test input) and serves the benchmark's onnx2tf
   calibration file.
2. Ranges. `collect_ranges` runs the float ONNX graph in onnxruntime over the calibration
   samples and records [min, max] of every tensor (the quantiser's input).

May import: numpy, onnx, onnxruntime, rnnedge.errors, rnnedge.data.
"""

import os

import numpy as np

from rnnedge.errors import RnnedgeError


SPLIT_SEEDS = {"train": 20240611, "check": 7_000_001}


def synthetic_images(count, shape, seed):
    """`count` deterministic smooth images of shape (C, H, W) with values in [0, 1]."""
    c, h, w = shape
    rng = np.random.default_rng(seed)
    images = np.empty((count, c, h, w), np.float32)
    for i in range(count):
        cells = int(rng.integers(2, 9))
        coarse = rng.random((c, cells, cells))
        rows = np.minimum((np.arange(h) * cells) // h, cells - 1)
        cols = np.minimum((np.arange(w) * cells) // w, cells - 1)
        blocky = coarse[:, rows][:, :, cols]
        gy, gx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
        tilt = rng.random((c, 1, 1)) * (gy if rng.random() < 0.5 else gx)
        noise = 0.1 * rng.standard_normal((c, h, w))
        images[i] = np.clip(0.6 * blocky + 0.3 * tilt + noise, 0.0, 1.0)
    return images


def _normalise(images, normalization, channels):
    """(images - mean) / std per channel, as float32."""
    mean, std = normalization if normalization is not None else ((0.0,), (1.0,))
    mean = np.broadcast_to(np.asarray(mean, np.float32), (channels,)).reshape(1, -1, 1, 1)
    std = np.broadcast_to(np.asarray(std, np.float32), (channels,)).reshape(1, -1, 1, 1)
    return ((images - mean) / std).astype(np.float32)


def _dataset_images(source, split, count, shape, input_format="rgb"):
    """Up to `count` images (N, C, H, W) in [0, 1] of `split` of a dataset, via rnnedge.data:
    a folder, or the embedded synthetic set ("synthetic[:key=value,...]", generated at the
    model's input size with exactly `count` samples per split unless the spec sets n=)."""
    from rnnedge.data import open_dataset
    from rnnedge.data.spec import parse_spec

    name, options = parse_spec(source)
    synthetic = name in ("synthetic", "synthetic-detect")
    if synthetic and "n" not in options:
        source = f"{source}{',' if ':' in source else ':'}n={count}"
    elif not synthetic and not os.path.isdir(name):
        raise RnnedgeError(f"calibration folder {name} does not exist; pass a dataset folder "
                           "or --calib synthetic")
    try:
        dataset = open_dataset(source, split, tuple(shape), input_format)
    except RnnedgeError as exc:
        raise RnnedgeError(f"cannot read calibration data {name}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise RnnedgeError(f"cannot read calibration data {name}: {exc}") from None
    if len(dataset) == 0:
        raise RnnedgeError(f"calibration data {name} has no {split} images; pass a dataset "
                           "folder with images or --calib synthetic")
    images = np.asarray(dataset.images[:count], np.float32) / 255.0
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2))


def _synthetic_set_fits(shape):
    """True when the embedded synthetic dataset can render images of `shape` (C, H, W)."""
    from rnnedge.data.synthetic import MIN_SIZE

    channels, height, width = shape
    return channels in (1, 3) and min(height, width) >= MIN_SIZE


def _inputs(source, split, count, shape, normalization, option, input_format="rgb"):
    """Samples from `source` as a list of (1, C, H, W) arrays; `option` names the count in errors.

    "synthetic" is the embedded synthetic dataset; for inputs it cannot render (fewer than 16
    pixels a side, or not 1/3 channels: a standalone layer's feature map) it is
    `synthetic_images`, smooth random maps with a seed per split."""
    if count < 1:
        raise RnnedgeError(f"{option} must be at least 1, got {count}")
    source = source or "synthetic"
    if source.split(":")[0] == "synthetic" and not _synthetic_set_fits(shape):
        images = synthetic_images(count, shape, seed=SPLIT_SEEDS[split])
    else:
        images = _dataset_images(source, split, count, shape, input_format)
    batch = _normalise(images, normalization, shape[0])
    return [batch[i:i + 1] for i in range(len(batch))]


def calibration_inputs(source, count, shape, normalization, input_format="rgb"):
    """Calibration samples: a list of (1, C, H, W) float32 arrays, normalised; a dataset is
    delivered as the camera of `input_format` gives it (rnnedge.sensor)."""
    return _inputs(source, "train", count, shape, normalization, "--calib-samples",
                   input_format)


def check_inputs(source, count, shape, normalization, input_format="rgb"):
    """The calibration-independent check set: the dataset's `check` split."""
    return _inputs(source, "check", count, shape, normalization, "--check-samples",
                   input_format)


def collect_ranges(onnx_model, samples):
    """{tensor name: (min, max)} over the samples for every float tensor of the ONNX graph."""
    import onnx
    import onnxruntime as ort

    model = onnx.shape_inference.infer_shapes(onnx_model)
    floats = {vi.name for vi in model.graph.value_info
              if vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT}
    known = {o.name for o in model.graph.output}
    for node in model.graph.node:
        for name in node.output:
            if name in floats and name not in known:   # activations, not shape arithmetic
                model.graph.output.append(onnx.helper.make_tensor_value_info(
                    name, onnx.TensorProto.FLOAT, None))
                known.add(name)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 2
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared cores
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    names = [o.name for o in session.get_outputs()]
    ranges = {}
    for sample in samples:
        values = session.run(None, {input_name: sample})
        for name, value in zip([input_name] + names, [sample] + values):
            lo, hi = float(np.min(value)), float(np.max(value))
            if name in ranges:
                lo, hi = min(lo, ranges[name][0]), max(hi, ranges[name][1])
            ranges[name] = (lo, hi)
    return ranges
