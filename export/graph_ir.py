"""The lowered graph: what the ONNX lowering produces and the quantiser and the flatbuffer
writer consume. Plain dataclasses and the held-layout rule: a rank-4 ONNX tensor (N, C, H, W)
is held as (N, H, W, C), other ranks as they are.

May import: numpy.
"""

from dataclasses import dataclass, field

import numpy as np

NCHW_TO_NHWC_AXIS = {0: 0, 1: 3, 2: 1, 3: 2}


@dataclass
class Tensor:
    """A graph tensor. `data` is set for constants; `role` is 'act', 'weight', 'bias',
    'operand' (int8 constant operand of an elementwise op), 'int32' (shape/axis data) or
    'state16' (an int16 recurrent cell state, power-of-two scale).
    `channel_axis` is the per-channel quantisation axis of a weight, or None (per-tensor).
    `variable`: a state the op keeps across invocations (TFLite's is_variable);
    `range_of`: calibrated tensors whose ranges this one covers (it has none of its own)."""
    name: str
    shape: tuple
    role: str = "act"
    data: np.ndarray = None
    channel_axis: int = None
    variable: bool = False
    range_of: tuple = ()


@dataclass
class Op:
    """A TFLite builtin op: `kind` is the BuiltinOperator name, `options` its option values,
    `source` the ONNX node it came from."""
    kind: str
    inputs: list
    outputs: list
    options: dict = field(default_factory=dict)
    source: str = ""


@dataclass
class Graph:
    """The lowered graph: tensors by name, ops in execution order, graph inputs and outputs."""
    tensors: dict
    ops: list
    inputs: list
    outputs: list
    activation_type: str = "INT8"   # INT16 in TFLite's 16x8 mode (set by the quantiser)


def nhwc(shape):
    """An ONNX shape in the held layout."""
    shape = tuple(int(d) for d in shape)
    return (shape[0], shape[2], shape[3], shape[1]) if len(shape) == 4 else shape
