"""rnnedge checkpoints: what a model is, its weights, and how to feed it, without pickled code.

A checkpoint is a dict of plain data saved with torch.save and read back with
`torch.load(weights_only=True)`, so loading one never runs code from the file:
  format "rnnedge-checkpoint", version 1,
  zoo_name      a name from rnnedge.zoo, or None
  config        zoo_name set: keyword arguments of rnnedge.zoo.build (e.g. {"cell": "gru"});
                otherwise {"class": "rnnedge.<module>.<Class>", "kwargs": {...}} naming an
                rnnedge model/layer class (only classes inside the rnnedge package load)
  state_dict    the weights
  input_shape   (C, H, W)
  normalization {"mean": [...], "std": [...]} applied to [0, 1] images before the model
  class_names   list of str, or None
  extra         any further plain data (training metadata)
A whole pickled nn.Module loads only with trust_pickle=True (CLI `--trust-pickle`): unpickling
runs arbitrary code from the file, so that is for files you made yourself.

May import: torch, rnnedge.errors, rnnedge.files, rnnedge.zoo (at load time, by name).
"""

import importlib
import os
import pickle
import zipfile

import torch

from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_output

FORMAT = "rnnedge-checkpoint"
VERSION = 1


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
                           "'rnnedge.<module>.<Class>', 'kwargs': {...}} to rebuild the model")
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


def _build(zoo_name, config):
    """A fresh model from the zoo name or the rnnedge class named in config."""
    if zoo_name is not None:
        from rnnedge import zoo
        return zoo.build(zoo_name, **config)
    target = str(config.get("class", ""))
    module_name, _, class_name = target.rpartition(".")
    if not module_name.startswith("rnnedge.") and module_name != "rnnedge":
        raise RnnedgeError(f"checkpoint names class {target!r}; only rnnedge classes load "
                           "from a checkpoint")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise RnnedgeError(f"checkpoint names class {target!r}, which rnnedge does not have") from None
    return cls(**config.get("kwargs", {}))


def _meta(payload):
    """The checkpoint fields other than the weights."""
    return {k: payload.get(k) for k in ("zoo_name", "config", "input_shape", "normalization",
                                         "class_names", "extra")}


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


def _from_payload(payload, path):
    """Rebuild the model of a checkpoint dict and load its weights."""
    if payload.get("version") != VERSION:
        raise RnnedgeError(f"{path} is an rnnedge checkpoint of version {payload.get('version')}; "
                           f"this rnnedge reads version {VERSION}")
    model = _build(payload.get("zoo_name"), payload.get("config") or {})
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise RnnedgeError(f"{path}: weights do not fit the model they name: {first}") from None
    return model.eval(), _meta(payload)


def load(path, trust_pickle=False):
    """Load a checkpoint: returns (model in eval mode, meta dict). See the module docstring."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise RnnedgeError(f"checkpoint {path} does not exist")
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
    except Exception:  # torch.load on arbitrary bytes raises KeyError, EOFError, RuntimeError...
        raise RnnedgeError(f"{path} is not a PyTorch checkpoint (torch.load cannot read it)") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise RnnedgeError(f"{path} is not an rnnedge checkpoint (no '{FORMAT}' header); save "
                           "models with rnnedge.save(model, path, ...)")
    return _from_payload(payload, path)
