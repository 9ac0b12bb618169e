"""`rnnedge check` for a detector: AP50, AP50:95 and best-threshold F1 of float and int8.

The .tflite's detection metadata (`rnnedge.detect.metadata`) gives the anchors, strides and
classes; its preprocessing metadata (or the float checkpoint) the normalisation. Images of
the data's `check` split are letterboxed to the input, normalised, quantised with the input
tensor's parameters, run on the chosen backend (`tflite`, `c`, `tflm`), and every head's raw
int8 map is dequantised and decoded with the same decoder and NMS as the float model
(`rnnedge.detect.decode`); both are scored by pycocotools (`rnnedge.detect.evaluate`).

May import: numpy, rnnedge.{tflite, preprocessing (quantize_input), checkpoint, check,
firmware_sim.backends, data.detection_spec}, rnnedge.detect.{decode, evaluate, metadata,
task}.
"""

from dataclasses import dataclass

import numpy as np

from rnnedge import preprocessing
from rnnedge.detect import decode, metadata
from rnnedge.detect.evaluate import coco_metrics
from rnnedge.errors import RnnedgeError

BATCH = 32
REPORTED = ("ap50", "ap", "f1", "threshold")


@dataclass
class DetectCheckResult:
    """What `rnnedge check` reports for a detector (see `to_json`)."""

    images: int
    backend: str
    int8: dict
    float: dict | None
    class_names: list
    dataset: object
    int8_detections: list

    @property
    def drop_pp(self):
        if self.float is None:
            return None
        return {k: self.float[k] - self.int8[k] for k in ("ap50", "f1")}

    def to_json(self):
        pick = lambda m: None if m is None else {k: m[k] for k in REPORTED}  # noqa: E731
        return {"task": "detect", "float": pick(self.float), "int8": pick(self.int8),
                "drop_pp": self.drop_pp, "images": self.images, "backend": self.backend,
                "objects": self.int8["objects"]}


def _int8_ports(model):
    sg = model.main
    tin = sg.tensors[sg.inputs[0]]
    outs = [sg.tensors[i] for i in sg.outputs]
    if len(sg.inputs) != 1 or np.dtype(tin.dtype) != np.int8 or len(tin.shape) != 4:
        raise RnnedgeError("rnnedge check takes a detector with one int8 (1, H, W, C) input")
    if any(np.dtype(t.dtype) != np.int8 or len(t.shape) != 4 or not t.quantization.scales
           for t in outs):
        raise RnnedgeError("the detector's outputs must be quantised int8 (1, H, W, C) maps")
    return tin, outs


def int8_detections(run, tin, outs, info, x_nhwc, progress=None):
    """Per-image detections of the int8 model: quantise, run, dequantise, decode."""
    from rnnedge.preprocessing import quantize_input

    order = metadata.output_order([t.shape for t in outs])
    if len(order) != len(info["strides"]):
        raise RnnedgeError(f"the detector has {len(order)} outputs but its metadata "
                           f"{len(info['strides'])} heads")
    q_in = quantize_input(x_nhwc, tin.quantization.scales[0], tin.quantization.zero_points[0])
    results = []
    for start in range(0, len(q_in), BATCH):
        raw = run(q_in[start:start + BATCH])
        maps = [(raw[i].astype(np.float64) - outs[i].quantization.zero_points[0])
                * outs[i].quantization.scales[0] for i in order]
        results += decode.postprocess(maps, info["anchors"], info["strides"],
                                      len(info["class_names"]), layout="nhwc")
        if progress:
            progress(min(start + BATCH, len(q_in)), len(q_in))
    return results


def run_detect_check(tflite_path, data, float_checkpoint=None, backend="tflite", samples=None,
                     trust_pickle=False, progress=None, input_format=None, **engine):
    """Check a detector .tflite on `split` check of `data` (delivered in the model's camera
    format, rnnedge.sensor; a different `input_format` is an error); returns a
    DetectCheckResult. `engine`: the c backend's options as `make_backend` takes them
    (planner, kernels, max_arena, stream_input, max_recompute)."""
    from rnnedge import sensor
    from rnnedge.data.spec import as_sensor
    from rnnedge.data.detection_spec import open_detection_dataset
    from rnnedge.data.detection import subset
    from rnnedge.data.torch_adapter import Normalization
    from rnnedge.detect.augment import normalized_images
    from rnnedge.detect.task import DetectionTask
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.tflite import read_model

    model = read_model(tflite_path)
    info = metadata.decode(model)
    if info is None:
        raise RnnedgeError(f"{tflite_path} carries no rnnedge detection metadata")
    tin, outs = _int8_ports(model)
    _, height, width, channels = tin.shape
    torch_model = None
    if float_checkpoint is not None:
        from rnnedge.checkpoint import load

        torch_model, meta = load(float_checkpoint, trust_pickle=trust_pickle)
        norm = meta.get("normalization") or {"mean": [0.0], "std": [1.0]}
        stored = (meta.get("config") or {}).get("input_format")
    else:
        found = preprocessing.decode(model)
        if found is None:
            raise RnnedgeError("the model has no rnnedge preprocessing metadata: pass --float")
        norm = found["normalization"]
        stored = found["input_format"]
    fmt = sensor.resolve_format(stored, input_format, tflite_path)
    normalization = Normalization(tuple(norm["mean"]), tuple(norm["std"]))
    dataset = subset(as_sensor(open_detection_dataset(data, "check", (3, height, width),
                                                      info["class_names"]), "check", fmt),
                     samples)
    if len(dataset) == 0:
        raise RnnedgeError(f"detection data {data}: the check split has no images")
    x = normalized_images(dataset, normalization)
    run = make_backend(backend, tflite_path, **engine)
    detections = int8_detections(run, tin, outs, info, x.transpose(0, 2, 3, 1), progress)
    int8 = coco_metrics(detections, dataset)
    float_part = None
    if torch_model is not None:
        task = DetectionTask.from_metadata(info)
        float_part = coco_metrics(task.predict(torch_model, dataset, normalization), dataset)
    return DetectCheckResult(len(dataset), backend, int8, float_part, info["class_names"],
                             dataset, detections)


def format_result(result, model):
    """The human-readable report."""
    lines = [f"{model}: detector, {result.images} images ({result.int8['objects']} objects), "
             f"backend {result.backend}",
             f"{'':<8} {'AP50':>7} {'AP50:95':>8} {'F1':>7} {'at conf':>8}"]
    for name, m in (("float", result.float), ("int8", result.int8)):
        if m is not None:
            threshold = "-" if m["threshold"] is None else f"{m['threshold']:.3f}"
            lines.append(f"{name:<8} {m['ap50']:>7.2f} {m['ap']:>8.2f} {m['f1']:>7.2f} "
                         f"{threshold:>8}")
    if result.drop_pp is not None:
        lines.append(f"drop AP50 {result.drop_pp['ap50']:+.2f} pp, F1 {result.drop_pp['f1']:+.2f} pp")
    return "\n".join(lines)
