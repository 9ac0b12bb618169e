"""The host-side accuracy check of a quantised model (`rnnedge check`), like ST Edge AI's
`validate`: run the int8 .tflite on a labelled set, on a chosen backend, with the model's own
input quantisation, and compare with the float model.

Preprocessing (input shape, normalisation, class names) comes from the float checkpoint when
one is given, otherwise from the preprocessing metadata the exporter writes into the .tflite
(`rnnedge.preprocessing`). Images are normalised as in training, quantised with the input tensor's scale and
zero point (round half away from zero, as TFLite's QUANTIZE), run, and the int8 logits are
dequantised with the output tensor's parameters for the float-vs-int8 error metrics.

Imports: numpy, torch (for the float model), rnnedge.{tflite, data, checkpoint, metrics,
preprocessing, sensor, budget, rebuild, firmware_sim.backends}.
"""

from dataclasses import dataclass

import numpy as np

from rnnedge import metrics, preprocessing, sensor
from rnnedge.errors import RnnedgeError


@dataclass
class CheckResult:
    """What `rnnedge check` reports (see `to_json`)."""

    samples: int
    backend: str
    int8: dict
    float: dict | None
    errors: dict | None  # float vs dequantised int8 logits
    confusion: np.ndarray
    class_names: list
    predictions: np.ndarray  # each sample's int8 top-1 class

    @property
    def drop_pp(self):
        return None if self.float is None else self.float["top1"] - self.int8["top1"]

    @property
    def agreement(self):
        return None if self.float is None else self.float["agreement"]

    def to_json(self):
        float_part = None if self.float is None else {"top1": self.float["top1"], "top5": self.float["top5"]}
        return {"samples": self.samples, "backend": self.backend, "float": float_part,
                "int8": {"top1": self.int8["top1"], "top5": self.int8["top5"]},
                "drop_pp": self.drop_pp, "agreement": self.agreement, "outputs": self.errors}


def _io_tensors(model):
    """The single int8 (1, H, W, C) image input and the single int8 (1, K) logits output."""
    sg = model.main
    if len(sg.inputs) != 1 or len(sg.outputs) != 1:
        raise RnnedgeError("rnnedge check takes a classifier with one input and one output")
    tin, tout = sg.tensors[sg.inputs[0]], sg.tensors[sg.outputs[0]]
    if np.dtype(tin.dtype) != np.int8 or np.dtype(tout.dtype) != np.int8:
        raise RnnedgeError(f"rnnedge check takes an int8 model; this one has {np.dtype(tin.dtype)} input "
                           f"and {np.dtype(tout.dtype)} output")
    if len(tin.shape) != 4 or tin.shape[0] != 1:
        raise RnnedgeError(f"expected a (1, H, W, C) image input, got {list(tin.shape)}")
    if len(tout.shape) != 2 or tout.shape[0] != 1:
        raise RnnedgeError(f"expected (1, classes) logits, got {list(tout.shape)}")
    if not tin.quantization.scales or not tout.quantization.scales:
        raise RnnedgeError("the model's input or output carries no quantisation parameters")
    return tin, tout


def _normalized_nchw(images, normalization):
    """uint8 (N, H, W, C) -> float32 (N, C, H, W) normalised like training."""
    mean, std = (np.asarray(v, dtype=np.float32).reshape(1, -1, 1, 1) for v in normalization)
    return (images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0 - mean) / std


def _float_logits(torch_model, x, batch=256):
    import torch

    with torch.no_grad():
        return np.concatenate([torch_model(torch.from_numpy(x[i : i + batch])).numpy()
                               for i in range(0, len(x), batch)])


def _feeding(model, tin, tout, tflite_path, float_checkpoint, trust_pickle, input_format):
    """(float model or None, (mean, std), class names, camera format) of the check: from the
    float checkpoint when one is given, else from the export's preprocessing metadata; each
    checked against the model's input and output tensors `tin`, `tout`."""
    _, height, width, channels = tin.shape
    torch_model = None
    if float_checkpoint is not None:
        from rnnedge.checkpoint import load

        torch_model, meta = load(float_checkpoint, trust_pickle=trust_pickle)
        norm = meta.get("normalization") or {"mean": [0.0], "std": [1.0]}
        normalization, class_names = (norm["mean"], norm["std"]), meta.get("class_names")
        stored = (meta.get("config") or {}).get("input_format")
    else:
        found = preprocessing.decode(model)
        if found is None:
            raise RnnedgeError("the model has no rnnedge preprocessing metadata: pass --float model.pt "
                               "so the check knows the input normalisation")
        norm = found["normalization"]
        normalization, class_names = (norm["mean"], norm["std"]), found["class_names"]
        stored = found["input_format"]
    fmt = sensor.resolve_format(stored, input_format, tflite_path)
    for key, values in zip(("mean", "std"), normalization):
        if len(values) not in (1, channels):
            raise RnnedgeError(f"the normalisation has {len(values)} {key} values but the model "
                               f"takes {channels} channels")
    if class_names and len(class_names) != tout.shape[1]:
        raise RnnedgeError(f"{len(class_names)} class names are given for a model with "
                           f"{tout.shape[1]} outputs")
    if torch_model is not None:
        from rnnedge.budget import DATA_BYTES
        from rnnedge.rebuild import check_activation_bytes
        check_activation_bytes(torch_model, (channels, height, width), DATA_BYTES)
    return torch_model, normalization, class_names, fmt


def run_check(tflite_path, data, float_checkpoint=None, backend="tflite", samples=None, trust_pickle=False,
              progress=None, max_arena=None, jobs=None, kernels=None, input_format=None,
              planner="best", stream_input=False, max_recompute=0.0):
    """Run the check and return a `CheckResult`. `data` is a dataset spec ("synthetic", a path);
    `samples` limits the check split to its first N samples; `progress(done, total)` is called
    after each batch; `max_arena` bounds the backend's arena (rnnedge.budget); `jobs` workers run
    the c backend (default: the available cores; results identical to one) on kernel set
    `kernels` with arena plan `planner` (`stream_input`, `max_recompute`: a fused plan's
    options; firmware_sim.parallel). The data is delivered in the model's camera format
    (rnnedge.sensor); an `input_format` that differs from it is an error."""
    from rnnedge.data import open_dataset
    from rnnedge.firmware_sim.parallel import ParallelRunner
    from rnnedge.tflite import read_model

    model = read_model(tflite_path)
    tin, tout = _io_tensors(model)
    _, height, width, channels = tin.shape
    classes = tout.shape[1]
    # started first: with several jobs the engine compiles the model meanwhile (while torch
    # loads the float checkpoint and the data is prepared)
    runner = ParallelRunner(backend, tflite_path, jobs=jobs, kernels=kernels,
                            max_arena=max_arena, planner=planner, stream_input=stream_input,
                            max_recompute=max_recompute)
    try:
        torch_model, normalization, class_names, fmt = _feeding(
            model, tin, tout, tflite_path, float_checkpoint, trust_pickle, input_format)
        dataset = open_dataset(data, "check", (channels, height, width), fmt)
        images, labels = dataset.images, np.asarray(dataset.labels)
        if samples is not None:
            images, labels = images[:samples], labels[:samples]
        if labels.max(initial=0) >= classes:
            raise RnnedgeError(f"the dataset has labels up to {labels.max()} but the model has "
                               f"{classes} outputs")
        lut = preprocessing.pixel_lut(*normalization, channels, tin.quantization.scales[0],
                                      tin.quantization.zero_points[0])
        q_out = runner(preprocessing.quantize_pixels(images, lut), progress)[0]
    finally:
        runner.close()
    q_out = q_out.reshape(-1, classes)
    logits8 = (q_out.astype(np.float64) - tout.quantization.zero_points[0]) * tout.quantization.scales[0]
    int8 = {"top1": metrics.topk_accuracy(q_out, labels, 1), "top5": metrics.topk_accuracy(q_out, labels, 5)}
    float_part = errors = None
    if torch_model is not None:
        logits = _float_logits(torch_model, _normalized_nchw(images, normalization))
        float_part = {"top1": metrics.topk_accuracy(logits, labels, 1), "top5": metrics.topk_accuracy(logits, labels, 5),
                      "agreement": metrics.agreement(logits, q_out)}
        errors = metrics.output_errors(logits, logits8)
    names = list(class_names) if class_names else [str(i) for i in range(classes)]
    predicted = metrics.predictions(q_out)
    confusion = metrics.confusion_matrix(labels, predicted, classes)
    return CheckResult(len(labels), backend, int8, float_part, errors, confusion, names,
                       np.asarray(predicted))
