"""PyTorch -> ONNX for the int8 exporter.

The model is copied, put in eval mode and its rnnedge layers switched to the static
(unrolled) form, then exported with the TorchScript-based exporter (`dynamo=False`, opset 17,
constant folding on). Why that exporter: in eval mode it folds each BatchNorm into the Conv
before it (the lowering folds any it leaves), keeps a Parameter used by every time step as ONE
initializer, and emits exactly the Conv/Split/Concat/Add/Tanh nodes the static form writes.
The caller's model is not modified.

May import: torch, onnx, rnnedge.errors, rnnedge.layers.
"""

import copy
import io
import warnings

import onnx
import torch

from rnnedge.errors import RnnedgeError
from rnnedge.layers import set_form

OPSET = 17


def static_copy(model):
    """An eval-mode copy of `model` with every rnnedge layer in its static form."""
    clone = copy.deepcopy(model).eval()
    set_form(clone, "static")
    return clone


def export_onnx(model, input_shape):
    """Export `model` (NCHW input of shape (C, H, W), batch 1) to an ONNX ModelProto."""
    static = static_copy(model)
    example = torch.zeros((1, *input_shape), dtype=torch.float32)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(static, (example,), buffer, opset_version=OPSET, dynamo=False,
                              do_constant_folding=True, input_names=["input"])
    except (RuntimeError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RnnedgeError(f"torch.onnx.export failed: {first}") from None
    return onnx.load_from_string(buffer.getvalue())
