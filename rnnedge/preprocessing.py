"""How to feed an exported model, stored inside the .tflite as metadata.

The exporter writes one metadata entry, `METADATA_NAME`, holding JSON
`{"input_shape": [C, H, W], "normalization": {"mean": [...], "std": [...]},
"class_names": [...] | null}`, so `rnnedge check model.tflite` can prepare images without the
float checkpoint. TFLM and TFLite ignore metadata they do not know. Imports: json, errors.
"""

import json

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
