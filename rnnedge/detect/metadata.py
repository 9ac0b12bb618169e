"""What a detector carries in its checkpoint and its .tflite: anchors, strides, classes.

One dict, `{"task": "detect", "anchors": [[[w, h] x 3] x heads] (input pixels), "strides":
[...], "class_names": [...], "input_hw": [H, W], "anchor_source": "kmeans"|"default"|"given"}`,
stored in the checkpoint's `extra["detection"]` (plain data) and in the .tflite as the
metadata entry METADATA_NAME (JSON), so `rnnedge check`, `rnnedge firmware` and the C
decoder know how to decode the raw maps without the checkpoint. The .tflite's outputs are
the heads' raw maps, finest first (`output_order` sorts them by their map size).

May import: json, numpy, rnnedge.errors, rnnedge.tflite.
"""

import json

import numpy as np

from rnnedge.errors import RnnedgeError

METADATA_NAME = "rnnedge_detection"


def make(anchors, strides, class_names, input_hw, anchor_source):
    """The plain-data description of a detector."""
    return {"task": "detect", "anchors": np.asarray(anchors, float).round(3).tolist(),
            "strides": [int(s) for s in strides], "class_names": [str(c) for c in class_names],
            "input_hw": [int(v) for v in input_hw], "anchor_source": str(anchor_source)}


def validate(info, where):
    """`info` checked (RnnedgeError naming `where` otherwise) and returned."""
    try:
        anchors = np.asarray(info["anchors"], np.float64)
        strides = [int(s) for s in info["strides"]]
        names = [str(c) for c in info["class_names"]]
        hw = [int(v) for v in info["input_hw"]]
    except (KeyError, TypeError, ValueError):
        raise RnnedgeError(f"{where}: detection metadata lacks anchors, strides, class_names "
                           "or input_hw") from None
    if anchors.ndim != 3 or anchors.shape[1:] != (3, 2) or len(anchors) != len(strides) \
            or not names or len(hw) != 2 or not np.all(anchors > 0):
        raise RnnedgeError(f"{where}: detection metadata has inconsistent anchors/strides")
    return {**info, "anchors": anchors.tolist(), "strides": strides, "class_names": names,
            "input_hw": hw}


def encode(info):
    """Metadata bytes (deterministic JSON)."""
    return json.dumps(info, sort_keys=True, separators=(",", ":")).encode("utf-8")


def decode(model):
    """The detection dict of a .tflite read with rnnedge.tflite.read_model, or None."""
    raw = model.metadata_dict().get(METADATA_NAME)
    if raw is None:
        return None
    try:
        info = json.loads(bytes(raw).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise RnnedgeError(f"the model's {METADATA_NAME!r} metadata is not valid JSON") from None
    if not isinstance(info, dict):
        raise RnnedgeError(f"the model's {METADATA_NAME!r} metadata is not a JSON object")
    return validate(info, "the model")


def output_order(shapes):
    """Indices of output shapes (N, H, W, C) finest map first (the heads' order)."""
    return sorted(range(len(shapes)), key=lambda i: (-shapes[i][1] * shapes[i][2], i))


def is_detector(tflite_path) -> bool:
    """True when the .tflite carries rnnedge detection metadata (no torch import: `rnnedge
    check` asks this of every model before it picks the classification or detection path)."""
    from rnnedge.tflite import read_model

    return decode(read_model(tflite_path)) is not None
