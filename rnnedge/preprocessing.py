"""How to feed an exported model, stored inside the .tflite as metadata.

The exporter writes one metadata entry, `METADATA_NAME`, holding JSON
`{"input_shape": [C, H, W], "normalization": {"mean": [...], "std": [...]},
"class_names": [...] | null, "input_format": "rgb" | "gray" | "bayer-rggb" | ...}` (the
camera format, rnnedge.sensor; absent means rgb), so `rnnedge check model.tflite` can prepare images without the
float checkpoint. TFLM and TFLite ignore metadata they do not know.

`quantize_input` is the one float -> int8 input quantisation every stage uses (the export's
verification, `rnnedge check`): TFLite's QUANTIZE arithmetic exactly. `pixel_lut` applies it
to the 256 values of a uint8 pixel once per channel, normalised like training ((p / 255 -
mean) / std in float32), so `quantize_pixels` prepares a batch of uint8 images with one table
lookup per value and the same bytes (the firmware's camera input holds the same table).
Imports: json, math, numpy, errors.
"""

import json
import math

import numpy as np

from rnnedge.errors import RnnedgeError

METADATA_NAME = "rnnedge_preprocessing"


def encode(input_shape, normalization, class_names=None, input_format="rgb"):
    """The metadata bytes (deterministic: sorted keys, no whitespace; `input_format` written
    only when it is not rgb, so RGB exports keep their bytes)."""
    payload = {"input_shape": [int(d) for d in input_shape],
               "normalization": {"mean": [float(v) for v in normalization["mean"]],
                                 "std": [float(v) for v in normalization["std"]]},
               "class_names": None if class_names is None else [str(c) for c in class_names]}
    if input_format != "rgb":
        payload["input_format"] = input_format
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
        input_format = payload.get("input_format", "rgb")
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
    from rnnedge.sensor import FORMATS, channels
    if input_format not in FORMATS or channels(input_format) != shape[0]:
        _bad("input_format", f"one of {', '.join(FORMATS)} matching input_shape's channels")
    return {"input_shape": shape, "normalization": {"mean": mean, "std": std}, "class_names": names,
            "input_format": input_format}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _bad(field, expected):
    raise RnnedgeError(f"the model's {METADATA_NAME!r} metadata field {field} must be {expected}")


def pixel_lut(mean, std, channels, scale, zero_point) -> np.ndarray:
    """(channels, 256) int8: `quantize_input((p / 255 - mean[c]) / std[c])` for every pixel
    value p of every channel c, computed in float32 as training normalises (`mean`, `std`:
    one value or one per channel)."""
    mean = np.broadcast_to(np.asarray(mean, np.float32), (channels,))[:, None]
    std = np.broadcast_to(np.asarray(std, np.float32), (channels,))[:, None]
    pixels = np.arange(256, dtype=np.float32)[None, :] / np.float32(255.0)
    return quantize_input((pixels - mean) / std, scale, zero_point)


def quantize_pixels(images, lut) -> np.ndarray:
    """uint8 images (..., C) -> the model's int8 input through `lut` (pixel_lut)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape[-1] != lut.shape[0]:
        raise RnnedgeError(f"expected uint8 images with {lut.shape[0]} channels, got "
                           f"{images.dtype} {images.shape}")
    return lut[np.arange(lut.shape[0]), images]


def quantize_input(x, scale, zero_point):
    """float -> int8 as TFLite's QUANTIZE (reference_ops::AffineQuantize): the float32
    quotient x / scale rounded half away from zero (TfLiteRound, i.e. std::round), plus the
    zero point, clamped to [-128, 127]."""
    v = np.asarray(x, dtype=np.float32) / np.float32(scale)
    q = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
    return np.clip(q.astype(np.float64) + int(zero_point), -128, 127).astype(np.int8)
