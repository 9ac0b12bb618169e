"""rnnedge checkpoints: what a model is, its weights, and how to feed it, without pickled code.

A checkpoint is a dict of plain data saved with torch.save and read back with
`torch.load(weights_only=True)`, so loading one never runs code from the file:
  format "rnnedge-checkpoint", version 1,
  zoo_name      a name from rnnedge.zoo, or None
  config        zoo_name set: keyword arguments of rnnedge.zoo.build (e.g. {"cell": "gru"});
                otherwise {"class": "rnnedge.layers.<Class>", "kwargs": {...}} naming one of
                rnnedge's image-RNN layers
  state_dict    the weights
  input_shape   (C, H, W)
  normalization {"mean": [...], "std": [...]} applied to [0, 1] images before the model
  class_names   list of str, or None
  extra         any further plain data (training metadata)
The file is untrusted data: every field is validated before use (a one-line error names the
field), and the model is built only from the allow-list in `rnnedge.rebuild` (zoo names
and layer classes with typed, range-checked arguments), never from a name looked up in a
module; files over MAX_CHECKPOINT_BYTES are refused before they are read.
A whole pickled nn.Module loads only with trust_pickle=True (CLI `--trust-pickle`): unpickling
runs arbitrary code from the file, so that is for files you made yourself.

May import: torch, rnnedge.errors, rnnedge.files, rnnedge.rebuild.
"""

import math
import os
import pickle
import zipfile

import torch

from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_output
from rnnedge.rebuild import (MAX_CHANNELS, MAX_CLASSES, MAX_PARAMETERS, build_checked,
                             layer_arguments, zoo_arguments)

FORMAT = "rnnedge-checkpoint"
VERSION = 1
FIELDS = {"format", "version", "zoo_name", "config", "state_dict", "input_shape", "normalization",
          "class_names", "extra"}
MAX_SIDE = 8192
MAX_INPUT_ELEMENTS = 16 << 20
MAX_CHECKPOINT_BYTES = 4 * MAX_PARAMETERS + (16 << 20)  # the weights plus their pickle


def _plain_normalization(normalization, channels):
    """(mean, std) -> {"mean": [...], "std": [...]} with one value per channel."""
    try:
        mean, std = normalization
        mean = [float(v) for v in (mean if hasattr(mean, "__len__") else [mean] * channels)]
        std = [float(v) for v in (std if hasattr(std, "__len__") else [std] * channels)]
    except (TypeError, ValueError):
        raise RnnedgeError("normalization must be (mean, std), each a number or one per "
                           "channel") from None
    if any(s <= 0 for s in std):
        raise RnnedgeError("normalization std values must be positive")
    return {"mean": mean, "std": std}


def save(model, path, *, zoo_name=None, config=None, input_shape, normalization=((0.0,), (1.0,)),
         class_names=None, extra=None):
    """Save `model` as an rnnedge checkpoint at `path` (written atomically).

    zoo_name: the rnnedge.zoo name the model was built from (config = its build kwargs), or
    None with config={"class": "rnnedge.x.Class", "kwargs": {...}}.
    """
    if zoo_name is None and not (isinstance(config, dict) and "class" in config):
        raise RnnedgeError("rnnedge.save needs zoo_name=NAME or config={'class': "
                           "'rnnedge.layers.<Class>', 'kwargs': {...}} to rebuild the model")
    if zoo_name is not None:  # refuse now what load would refuse later
        zoo_arguments(zoo_name, dict(config or {}))
    else:
        layer_arguments(config)
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) != 3:
        raise RnnedgeError(f"input_shape must be (C, H, W), got {input_shape}")
    payload = {
        "format": FORMAT, "version": VERSION, "zoo_name": zoo_name,
        "config": dict(config or {}),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "input_shape": list(input_shape),
        "normalization": _plain_normalization(normalization, input_shape[0]),
        "class_names": None if class_names is None else [str(c) for c in class_names],
        "extra": extra,
    }
    path = os.fspath(path)
    with atomic_output(path) as tmp:
        torch.save(payload, tmp)
    return path


def _from_pickle(path):
    """Unpickle a trusted file: a whole nn.Module or a checkpoint dict."""
    obj = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(obj, torch.nn.Module):
        shape = getattr(obj, "input_shape", None)
        return obj, {"zoo_name": None, "config": {}, "input_shape": list(shape) if shape else None,
                     "normalization": {"mean": [0.0], "std": [1.0]}, "class_names": None,
                     "extra": None}
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        return _from_payload(obj, path)
    raise RnnedgeError(f"{path} holds a pickled {type(obj).__name__}, not an nn.Module or an "
                       "rnnedge checkpoint")


def _field_error(field, expected, value):
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return RnnedgeError(f"checkpoint field {field}: expected {expected}, got {shown}")


def _input_shape(value):
    """input_shape: three positive integers, bounded."""
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or any(isinstance(d, bool) or not isinstance(d, int) for d in value)
            or not 1 <= value[0] <= MAX_CHANNELS or not all(1 <= d <= MAX_SIDE for d in value[1:])
            or value[0] * value[1] * value[2] > MAX_INPUT_ELEMENTS):
        raise _field_error("input_shape", f"[C, H, W] with C 1..{MAX_CHANNELS}, H and W "
                           f"1..{MAX_SIDE}, at most {MAX_INPUT_ELEMENTS:,} values", value)
    return [int(d) for d in value]


def _normalization(value, channels):
    """normalization: {"mean": [...], "std": [...]}, 1 or C finite numbers each, std > 0."""
    if value is None:
        return {"mean": [0.0], "std": [1.0]}
    if not isinstance(value, dict) or set(value) != {"mean", "std"}:
        raise _field_error("normalization", "{'mean': [...], 'std': [...]}", value)
    out = {}
    for key in ("mean", "std"):
        v = value[key]
        if (not isinstance(v, (list, tuple)) or len(v) not in (1, channels)
                or any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x)
                       for x in v)):
            raise _field_error(f"normalization.{key}", f"1 or {channels} finite numbers", v)
        out[key] = [float(x) for x in v]
    if any(s <= 0 for s in out["std"]):
        raise _field_error("normalization.std", "positive numbers", value["std"])
    return out


def _class_names(value):
    if value is None:
        return None
    if (not isinstance(value, (list, tuple)) or len(value) > MAX_CLASSES
            or not all(isinstance(c, str) for c in value)):
        raise _field_error("class_names", "a list of strings", value)
    return list(value)


def _state_dict(value):
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in value.items()):
        raise _field_error("state_dict", "a dict of weight name -> tensor",
                           type(value).__name__ if not isinstance(value, dict) else value)
    return value


def _from_payload(payload, path):
    """Validate every field of a checkpoint dict, rebuild its model and load its weights."""
    version = payload.get("version")
    if isinstance(version, bool) or version != VERSION:
        raise RnnedgeError(f"{path} is an rnnedge checkpoint of version {str(version)[:20]}; "
                           f"this rnnedge reads version {VERSION}")
    unknown = set(payload) - FIELDS
    if unknown:
        raise RnnedgeError(f"checkpoint field {sorted(map(str, unknown))[0][:40]!r} is not an "
                           "rnnedge checkpoint field")
    zoo_name = payload.get("zoo_name")
    config = payload.get("config")
    config = {} if config is None and zoo_name is not None else config
    state_dict = _state_dict(payload.get("state_dict"))
    input_shape = _input_shape(payload.get("input_shape"))
    meta = {"zoo_name": zoo_name, "config": config, "input_shape": input_shape,
            "normalization": _normalization(payload.get("normalization"), input_shape[0]),
            "class_names": _class_names(payload.get("class_names")),
            "extra": payload.get("extra")}
    model = build_checked(zoo_name, config, state_dict)
    return model.eval(), meta


def _check_size(path):
    """Refuse files (or zip members) whose bytes exceed MAX_CHECKPOINT_BYTES before reading."""
    size = os.path.getsize(path)
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                size = max(size, sum(info.file_size for info in archive.infolist()))
        except (zipfile.BadZipFile, OSError, ValueError):
            raise RnnedgeError(f"{path} is not a PyTorch checkpoint (a damaged zip)") from None
    if size > MAX_CHECKPOINT_BYTES:
        raise RnnedgeError(f"{path} holds {size:,} bytes of data (limit "
                           f"{MAX_CHECKPOINT_BYTES:,} for a checkpoint)")


def load(path, trust_pickle=False):
    """Load a checkpoint: returns (model in eval mode, meta dict). See the module docstring."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise RnnedgeError(f"checkpoint {path} does not exist")
    _check_size(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not zipfile.is_zipfile(path) or "global" not in str(exc).lower():
            raise RnnedgeError(f"{path} is not a PyTorch checkpoint (torch.load cannot read "
                               "it)") from None
        if not trust_pickle:
            raise RnnedgeError(
                f"{path} contains pickled Python objects (e.g. a whole nn.Module), which "
                "weights_only loading refuses because unpickling can run arbitrary code; re-save "
                "it with rnnedge.save(model, path, ...) or, only if you trust the file, pass "
                "--trust-pickle") from None
        try:
            return _from_pickle(path)
        except RnnedgeError:
            raise
        except Exception as exc:  # unpickling can fail in any way the file's code chooses
            raise RnnedgeError(f"could not unpickle {path}: {type(exc).__name__}: {exc}") from None
    except MemoryError:
        raise RnnedgeError(f"{path}: not enough memory to read the checkpoint") from None
    except Exception:  # torch.load on arbitrary bytes raises KeyError, EOFError, RuntimeError...
        raise RnnedgeError(f"{path} is not a PyTorch checkpoint (torch.load cannot read it)") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise RnnedgeError(f"{path} is not an rnnedge checkpoint (no '{FORMAT}' header); save "
                           "models with rnnedge.save(model, path, ...)")
    return _from_payload(payload, path)
