"""Which zoo model an exported .tflite was built from, stored in the file as metadata.

The exporter writes one metadata entry, `METADATA_NAME`, holding JSON
`{"zoo_name": NAME, "config": {build keyword arguments}}` when the model came from
`rnnedge.zoo` (a checkpoint that names its zoo model, or `export --zoo NAME`), so a report
on the .tflite alone can put the paper's figures for that model beside the measured ones.
TFLM and TFLite ignore metadata they do not know. Imports: json, rnnedge.errors.
"""

import json

from rnnedge.errors import RnnedgeError

METADATA_NAME = "rnnedge_model"


def encode(zoo_name: str, config: dict | None = None) -> bytes:
    """The metadata bytes (deterministic: sorted keys, no whitespace)."""
    return json.dumps({"zoo_name": str(zoo_name), "config": dict(config or {})},
                      sort_keys=True, separators=(",", ":")).encode("utf-8")


def decode(model) -> dict | None:
    """{"zoo_name", "config"} of a model read with `rnnedge.tflite.read_model`, or None when
    the file carries no such entry."""
    raw = model.metadata_dict().get(METADATA_NAME)
    if raw is None:
        return None
    try:
        payload = json.loads(bytes(raw).decode("utf-8"))
        name, config = payload["zoo_name"], payload.get("config") or {}
        if not isinstance(name, str) or not isinstance(config, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
        raise RnnedgeError(f"the model's {METADATA_NAME!r} metadata is not valid JSON "
                           "{zoo_name, config}") from None
    return {"zoo_name": name, "config": config}
