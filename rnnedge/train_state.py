"""The resumable training state: `<checkpoint>.state`, written after every epoch.

It holds the last weights, the optimizer (and fp16 grad-scaler) state, the epoch, the best
epoch and score so far, the normalisation and the history, as plain data read back with
`torch.load(weights_only=True)`. The state does not depend on the world size (the weights
and optimizer state are the same on every rank), so a run resumes on any number of
processes. Every field is checked on load: a damaged, foreign or hand-edited file gives one
RnnedgeError naming the field, never a traceback.

May import: torch, rnnedge.errors, rnnedge.files.
"""

import math
from pathlib import Path

import torch

from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_output

STATE_FORMAT = "rnnedge-train-state"
STATE_VERSION = 2
RESUME_KEYS = ("zoo_name", "class_names", "optimizer", "batch", "seed")
"""Settings a resumed run must share with the saved one."""


def state_path(checkpoint):
    """Where the training state of checkpoint path `checkpoint` goes."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name + ".state")


def save_state(path, *, epoch, run, model, optimizer, scaler, result):
    """Write the state after `epoch` atomically to `path`."""
    state = {"format": STATE_FORMAT, "version": STATE_VERSION, "epoch": epoch, "run": run,
             "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
             "optimizer": optimizer.state_dict(),
             "scaler": scaler.state_dict() if scaler.is_enabled() else None,
             "best_epoch": result.best_epoch, "best_score": result.best_score,
             "normalization": result.normalization, "history": result.history}
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def load_state(path, run, epochs):
    """The checked state at `path` for a run with settings `run` up to `epochs`."""
    path = Path(path)
    if not path.is_file():
        raise RnnedgeError(f"--resume: no training state at {path}; train without --resume "
                           "first")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged or foreign file
        raise RnnedgeError(f"--resume: {path} is not a readable training state "
                           f"({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise RnnedgeError(f"--resume: {path} is not an rnnedge training state")
    if state.get("version") != STATE_VERSION:
        raise RnnedgeError(f"--resume: {path} is training state version {state.get('version')!r}"
                           f"; this rnnedge reads version {STATE_VERSION}")
    _check_fields(state, path)
    saved = state["run"]
    for key in RESUME_KEYS:
        if saved.get(key) != run[key]:
            raise RnnedgeError(f"--resume: {key} was {saved.get(key)!r} in the saved run, now "
                               f"{run[key]!r}; resume with the same settings")
    if state["epoch"] > epochs:
        raise RnnedgeError(f"--resume: {path} is already at epoch {state['epoch']}, past "
                           f"--epochs {epochs}; give --epochs {state['epoch'] + 1} or more to "
                           "train on")
    return state


def _check_fields(state, path):
    """RnnedgeError naming the first missing or mistyped field of `state`."""
    def bad(field, expected):
        raise RnnedgeError(f"--resume: {path}: field {field!r} is missing or not {expected}")

    epoch = state.get("epoch")
    if not _is_int(epoch) or epoch < 1:
        bad("epoch", "a positive integer")
    if not isinstance(state.get("run"), dict) or not all(k in state["run"] for k in RESUME_KEYS):
        bad("run", f"a dict with {', '.join(RESUME_KEYS)}")
    model = state.get("model")
    if not isinstance(model, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in model.items()):
        bad("model", "a dict of tensors")
    optimizer = state.get("optimizer")
    if not isinstance(optimizer, dict) or not {"state", "param_groups"} <= optimizer.keys():
        bad("optimizer", "an optimizer state dict")
    if state.get("scaler") is not None and not isinstance(state["scaler"], dict):
        bad("scaler", "a grad-scaler state dict")
    best_epoch, best_score = state.get("best_epoch"), state.get("best_score")
    if not _is_int(best_epoch) or not 1 <= best_epoch <= epoch:
        bad("best_epoch", f"an epoch in [1, {epoch}]")
    if not _is_number(best_score):
        bad("best_score", "a finite number")
    history = state.get("history")
    if not isinstance(history, list) or len(history) != epoch or not all(
            isinstance(r, dict) and r.get("epoch") == i + 1 for i, r in enumerate(history)):
        bad("history", f"a list of {epoch} epoch records")
    _check_normalization(state.get("normalization"), path)


def _check_normalization(normalization, path):
    """RnnedgeError unless `normalization` is {"mean": [...], "std": [...]}, std > 0."""
    if not isinstance(normalization, dict):
        raise RnnedgeError(f"--resume: {path}: field 'normalization' is missing or not a dict")
    mean, std = normalization.get("mean"), normalization.get("std")
    if not (isinstance(mean, list) and isinstance(std, list) and mean and len(mean) == len(std)
            and all(_is_number(v) for v in mean + std)):
        raise RnnedgeError(f"--resume: {path}: normalization mean and std must be lists of "
                           "finite numbers, one per channel")
    if min(std) <= 0:
        raise RnnedgeError(f"--resume: {path}: normalization std must be positive, got {std}")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))
