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
   For a model a user brings (an ONNX file, a factory), `load_calibration_file` reads a
   .npy (samples of the one input stacked on axis 0) or .npz (one array per input name),
   `split_calibration` holds its tail apart as the check set, and `synthetic_inputs` stands
   in when no file is given.
2. Ranges. `collect_ranges` runs the float ONNX graph in onnxruntime over the calibration
   samples (one array, or one per graph input) and records every tensor's range: min-max,
   a percentile, or the MSE-optimal clip (`CALIBRATION_METHODS`; the quantiser's input).

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


def _as_samples(array, shape, name):
    """Samples of one input of `shape` (batch included) from an array stacked on axis 0:
    (N,) + shape[1:] for a batch of 1 (each row one sample) or (N,) + shape."""
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.number):
        raise RnnedgeError(f"calibration array for input {name} is not numeric ({array.dtype})")
    shape = tuple(shape)
    if array.shape[1:] == shape:
        rows = [array[i] for i in range(len(array))]
    elif shape[:1] == (1,) and array.shape[1:] == shape[1:]:
        rows = [array[i:i + 1] for i in range(len(array))]
    else:
        raise RnnedgeError(f"calibration array for input {name} has shape {list(array.shape)}; "
                           f"expected samples of {list(shape)} stacked on axis 0")
    if not rows:
        raise RnnedgeError(f"calibration array for input {name} holds no samples")
    return [np.ascontiguousarray(r, np.float32) for r in rows]


def load_calibration_file(path, inputs):
    """Calibration samples from a .npy (one input: samples stacked on axis 0) or a .npz (one
    array per input name) as a list of tuples (one array per input, in `inputs` order).

    inputs: [(name, shape with batch)] of the model. Loaded without pickle."""
    if not os.path.isfile(path):
        raise RnnedgeError(f"calibration file {path} does not exist")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise RnnedgeError(f"cannot read calibration file {path}: {str(exc).splitlines()[0]}") \
            from None
    if isinstance(data, np.ndarray):
        if len(inputs) != 1:
            raise RnnedgeError(f"calibration file {path} holds one array but the model has "
                               f"{len(inputs)} inputs ({', '.join(n for n, _ in inputs)}); "
                               "use a .npz with one array per input name")
        per_input = [_as_samples(data, inputs[0][1], inputs[0][0])]
    else:
        with data:
            keys = list(data.keys())
            if len(inputs) == 1 and len(keys) == 1:
                arrays = [data[keys[0]]]
            else:
                missing = [n for n, _ in inputs if n not in keys]
                if missing:
                    raise RnnedgeError(f"calibration file {path} has no array for input "
                                       f"{missing[0]} (it has {', '.join(keys) or 'none'})")
                arrays = [data[n] for n, _ in inputs]
        per_input = [_as_samples(a, shape, n) for a, (n, shape) in zip(arrays, inputs)]
    counts = {len(p) for p in per_input}
    if len(counts) != 1:
        raise RnnedgeError(f"calibration file {path}: the inputs have different sample counts")
    for samples, (name, _) in zip(per_input, inputs):
        if not all(np.isfinite(s).all() for s in samples):
            raise RnnedgeError(f"calibration array for input {name} holds NaN or infinity")
    return [tuple(s) for s in zip(*per_input)]


def split_calibration(samples, calib_samples, check_samples):
    """(calibration set, check set): the check set is the held-apart tail of the file (a
    fifth of it, at most check_samples), calibration the rest (at most calib_samples); a file
    of one sample calibrates and checks on it (the report says so)."""
    if len(samples) < 2:
        return samples, samples
    held = max(1, min(check_samples, len(samples) // 5))
    return samples[:len(samples) - held][:calib_samples], samples[len(samples) - held:]


def synthetic_inputs(inputs, count, seed):
    """Deterministic stand-in samples for inputs without a calibration file: smooth images
    for (1, C, H, W) inputs, standard normal values for other shapes."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(count):
        sample = []
        for _, shape in inputs:
            if len(shape) == 4 and shape[0] == 1:
                sample.append(synthetic_images(1, shape[1:], seed + i)[0:1] * 2.0 - 1.0)
            else:
                sample.append(rng.standard_normal(shape).astype(np.float32))
        samples.append(tuple(np.ascontiguousarray(a, np.float32) for a in sample))
    return samples


CALIBRATION_METHODS = ("minmax", "percentile", "mse")
PERCENTILE = 99.99     # of |values| beyond which the percentile method clips
HISTOGRAM_BINS = 2048


def _feeds(session, sample):
    """{input name: array} for a sample (an array, or one array per graph input)."""
    names = [i.name for i in session.get_inputs()]
    arrays = list(sample) if isinstance(sample, (tuple, list)) else [sample]
    if len(arrays) != len(names):
        raise RnnedgeError(f"a calibration sample has {len(arrays)} arrays but the model has "
                           f"{len(names)} inputs ({', '.join(names)})")
    return dict(zip(names, arrays))


def _session(onnx_model):
    """An onnxruntime session returning every float activation of the graph."""
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
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def _values(session, samples):
    """Yield {tensor name: array} (graph inputs and every float activation) per sample."""
    names = [o.name for o in session.get_outputs()]
    for sample in samples:
        feeds = _feeds(session, sample)
        values = dict(zip(names, session.run(None, feeds)))
        values.update(feeds)
        yield values


def _mse_range(hist, edges):
    """The [lo, hi] inside the histogram's span whose int8 quantisation has the least
    expected squared error (rounding inside, clipping outside), over shrunk candidates."""
    centres = (edges[:-1] + edges[1:]) / 2
    lo0, hi0 = min(edges[0], 0.0), max(edges[-1], 0.0)
    best, best_err = (lo0, hi0), np.inf
    for f_lo in np.linspace(0.2, 1.0, 17):
        for f_hi in np.linspace(0.2, 1.0, 17):
            lo, hi = lo0 * f_lo, hi0 * f_hi
            step = max(hi - lo, 1e-12) / 255.0
            clipped = np.clip(centres, lo, hi)
            err = np.sum(hist * ((centres - clipped) ** 2 + step * step / 12.0))
            if err < best_err:
                best, best_err = (lo, hi), err
    return best


def collect_ranges(onnx_model, samples, method="minmax"):
    """{tensor name: (min, max)} over the samples for every float tensor of the ONNX graph.

    method: "minmax" (the extremes seen), "percentile" (clip at the PERCENTILE-th percentile
    of each side's magnitudes) or "mse" (the clip range with the least expected int8
    squared error); the last two histogram every tensor in a second pass.
    """
    if method not in CALIBRATION_METHODS:
        raise RnnedgeError(f"unknown calibration method {method}; use one of "
                           f"{', '.join(CALIBRATION_METHODS)}")
    session = _session(onnx_model)
    ranges = {}
    for values in _values(session, samples):
        for name, value in values.items():
            lo, hi = float(np.min(value)), float(np.max(value))
            if name in ranges:
                lo, hi = min(lo, ranges[name][0]), max(hi, ranges[name][1])
            ranges[name] = (lo, hi)
    if method == "minmax":
        return ranges
    hists = {n: np.zeros(HISTOGRAM_BINS) for n in ranges}
    for values in _values(session, samples):
        for name, value in values.items():
            lo, hi = ranges[name]
            width = (hi - lo) if hi > lo else 1.0
            bins = ((np.asarray(value, np.float64).reshape(-1) - lo) / width * HISTOGRAM_BINS)
            hists[name] += np.bincount(np.clip(bins.astype(np.int64), 0, HISTOGRAM_BINS - 1),
                                       minlength=HISTOGRAM_BINS)
    out = {}
    for name, (lo, hi) in ranges.items():
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, HISTOGRAM_BINS + 1)
        if method == "mse":
            out[name] = _mse_range(hists[name], edges)
            continue
        cdf = np.cumsum(hists[name]) / max(hists[name].sum(), 1)
        tail = (100.0 - PERCENTILE) / 100.0
        low_i = int(np.searchsorted(cdf, tail))
        high_i = int(np.searchsorted(cdf, 1.0 - tail))
        out[name] = (min(float(edges[low_i]), 0.0) if lo < 0 else lo,
                     max(float(edges[min(high_i + 1, HISTOGRAM_BINS)]), 0.0) if hi > 0 else hi)
    return out
