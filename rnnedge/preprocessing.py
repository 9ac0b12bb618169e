"""How to feed an exported model, stored inside the .tflite as metadata.

The exporter writes one metadata entry, `METADATA_NAME`, holding JSON
`{"input_shape": [C, H, W], "normalization": {"mean": [...], "std": [...]},
"class_names": [...] | null}`, so `rnnedge check model.tflite` can prepare images without the
float checkpoint. TFLM and TFLite ignore metadata they do not know.

`quantize_input` is the one float -> int8 input quantisation every stage uses (the export's
verification, `rnnedge check`): TFLite's QUANTIZE arithmetic exactly. Imports: json, numpy,
errors.
"""

import json

import numpy as np

from rnnedge.errors import RnnedgeError

METADATA_NAME = "rnnedge_preprocessing"


def encode(input_shape, normalization, class_names=None):
    """The metadata bytes (deterministic: sorted keys, no whitespace)."""
    payload = {"input_shape": [int(d) for d in input_shape],
               "normalization": {"mean": [float(v) for v in normalization["mean"]],
                                 "std": [float(v) for v in normalization["std"]]},
               "class_names": None if class_names is None else [str(c) for c in class_names]}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def decode(model):
    """The preprocessing dict of a model read with `rnnedge.tflite.read_model`, or None when
    the model carries none."""
    raw = model.metadata_dict().get(METADATA_NAME)
    if raw is None:
        return None
    try:
        payload = json.loads(bytes(raw).decode("utf-8"))
        norm = payload["normalization"]
        return {"input_shape": payload["input_shape"], "normalization": {"mean": norm["mean"], "std": norm["std"]},
                "class_names": payload.get("class_names")}
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise RnnedgeError(f"the model's {METADATA_NAME!r} metadata is not valid preprocessing JSON") from None


def quantize_input(x, scale, zero_point):
    """float -> int8 as TFLite's QUANTIZE (reference_ops::AffineQuantize): the float32
    quotient x / scale rounded half away from zero (TfLiteRound, i.e. std::round), plus the
    zero point, clamped to [-128, 127]."""
    v = np.asarray(x, dtype=np.float32) / np.float32(scale)
    q = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
    return np.clip(q.astype(np.float64) + int(zero_point), -128, 127).astype(np.int8)
