"""What a preparer may read about one operator: `Context` (the operator, its subgraph, the
kernel library, folded constants, a fused PAD) and `tensor_quant`.

Imports numpy, rnnedge.errors and rnnedge.kernels.params.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels.params import Quant


def tensor_quant(tensor, where: str) -> Quant:
    """The per-tensor quantisation of `tensor`; `where` ("op 3 ADD") prefixes the error."""
    q = tensor.quantization
    if q is None or len(q.scales) == 0:
        raise RnnedgeError(f"{where}: tensor {tensor.name} has no quantisation parameters")
    return Quant(float(q.scales[0]), int(q.zero_points[0]))


class Context:
    """What a preparer may read about one operator."""

    def __init__(self, op, subgraph, lib, folded, fused_pad=None):
        """Hold the operator, its subgraph, the kernel library, folded values and the
        (input tensor, explicit padding) of a PAD fused into a conv (or None)."""
        self.op, self.sg, self.lib, self.folded = op, subgraph, lib, folded
        self.opt, self.fused_pad = op.options, fused_pad

    def fail(self, message: str):
        """Raise RnnedgeError prefixed with the operator."""
        raise RnnedgeError(f"op {self.op.index} {self.op.opcode}: {message}")

    def tensor(self, position: int, what: str = "input"):
        """Input tensor at `position` (raises when it is missing)."""
        ins = self.op.inputs
        if position >= len(ins) or ins[position] < 0:
            self.fail(f"{what} {position} is missing")
        return self.sg.tensors[ins[position]]

    def out(self, position: int = 0):
        """Output tensor at `position`."""
        if position >= len(self.op.outputs):
            self.fail(f"output {position} is missing")
        return self.sg.tensors[self.op.outputs[position]]

    def const(self, position: int, what: str) -> np.ndarray:
        """The value of constant (or folded) input `position`."""
        t = self.tensor(position, what)
        if t.index in self.folded:
            return np.asarray(self.folded[t.index])
        if t.data is None:
            self.fail(f"{what} ({t.name}) must be a constant tensor")
        return np.asarray(t.data)

    def quant(self, t) -> Quant:
        """Per-tensor quantisation of `t`."""
        return tensor_quant(t, f"op {self.op.index} {self.op.opcode}")

    def filter_scales(self, t) -> np.ndarray:
        """Per-channel (or single) filter scales of `t`; zero points must be 0."""
        q = t.quantization
        if q is None or len(q.scales) == 0:
            self.fail(f"filter {t.name} has no quantisation parameters")
        if np.any(np.asarray(q.zero_points) != 0) and len(q.scales) > 1:
            self.fail(f"filter {t.name} has non-zero per-channel zero points")
        return np.asarray(q.scales, dtype=np.float32)

    def act(self) -> str:
        """The fused activation name."""
        return self.opt.get("fused_activation_function", "NONE")
