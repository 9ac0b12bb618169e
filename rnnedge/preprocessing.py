"""How to feed an exported model, stored inside the .tflite as metadata.

The exporter writes one metadata entry, `METADATA_NAME`, holding JSON
`{"input_shape": [C, H, W], "normalization": {"mean": [...], "std": [...]},
"class_names": [...] | null}`, so `rnnedge check model.tflite` can prepare images without the
float checkpoint. TFLM and TFLite ignore metadata they do not know. Imports: json, errors.
"""

import json
import math

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
    the model carries none. Every field is checked (the file is untrusted): input_shape three
    positive integers, mean/std 1 or C finite numbers with std > 0, class_names strings."""
    raw = model.metadata_dict().get(METADATA_NAME)
    if raw is None:
        return None
    try:
        payload = json.loads(bytes(raw).decode("utf-8"))
        norm = payload["normalization"]
        shape, mean, std = payload["input_shape"], norm["mean"], norm["std"]
        names = payload.get("class_names")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        raise RnnedgeError(f"the model's {METADATA_NAME!r} metadata is not valid preprocessing JSON") from None
    if not (isinstance(shape, list) and len(shape) == 3 and all(_is_int(d) and d >= 1 for d in shape)):
        _bad("input_shape", "three positive integers")
    for key, values in (("mean", mean), ("std", std)):
        if not (isinstance(values, list) and len(values) in (1, shape[0])
                and all(_is_number(v) for v in values)):
            _bad(f"normalization.{key}", f"1 or {shape[0]} finite numbers")
    if any(v <= 0 for v in std):
        _bad("normalization.std", "positive numbers")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        _bad("class_names", "a list of strings")
    return {"input_shape": shape, "normalization": {"mean": mean, "std": std}, "class_names": names}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _bad(field, expected):
    raise RnnedgeError(f"the model's {METADATA_NAME!r} metadata field {field} must be {expected}")
