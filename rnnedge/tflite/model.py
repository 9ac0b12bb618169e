"""The in-memory form of a .tflite model that every later stage works on.

Plain, read-only dataclasses: `Model` -> `Subgraph` -> `Tensor` / `Operator`, plus `Buffer`,
`Quantization` and `Metadata`. They carry no parsing logic (see reader.py) and import only
numpy, so the planner, the reports and the firmware runtime can depend on them freely.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Quantization:
    """Affine quantisation: real = scale * (q - zero_point), per tensor (one scale) or per
    channel along `quantized_dimension`."""

    scales: np.ndarray  # float32, one per channel (or one)
    zero_points: np.ndarray  # int64, same length as scales (or one)
    quantized_dimension: int = 0

    @property
    def per_channel(self) -> bool:
        """True when there is more than one scale."""
        return len(self.scales) > 1


@dataclass(frozen=True)
class Buffer:
    """One entry of the model's buffer table. `data` is a read-only uint8 view of the bytes
    stored in the file (None when the buffer is empty); `file_offset` is where they start."""

    index: int
    data: np.ndarray | None
    file_offset: int | None

    @property
    def size(self) -> int:
        """Number of bytes held."""
        return 0 if self.data is None else int(self.data.size)


@dataclass(frozen=True)
class Tensor:
    """One tensor of a subgraph."""

    index: int
    name: str
    shape: tuple  # ints >= 0
    type_name: str  # schema TensorType name, e.g. "INT8"
    dtype: np.dtype | None  # numpy dtype; None for types numpy lacks (STRING, INT4, ...)
    bits: int  # bits per element
    buffer: int  # index into Model.buffers
    data: np.ndarray | None  # constant contents shaped like the tensor (raw uint8 bytes when
    #                          dtype is None), or None for arena tensors
    quantization: Quantization | None
    is_variable: bool = False
    shape_signature: tuple | None = None  # may hold -1 for dynamic dims

    @property
    def num_elements(self) -> int:
        """Product of the shape (1 for a scalar)."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        """Bytes the tensor occupies (packed sub-byte types rounded up)."""
        return (self.num_elements * self.bits + 7) // 8

    @property
    def is_constant(self) -> bool:
        """True when the tensor's values are stored in the file (weights, biases, shapes)."""
        return self.data is not None


@dataclass(frozen=True)
class Operator:
    """One operator: `opcode` is the TFLite builtin name (e.g. "CONV_2D") or the custom code;
    `inputs` may hold -1 for omitted optional inputs; `options` are the decoded builtin
    options (empty dict for ops without options or with options rnnedge does not decode)."""

    index: int
    opcode: str
    builtin_code: int
    custom_code: str | None
    version: int
    inputs: tuple
    outputs: tuple
    intermediates: tuple
    options: dict
    options_type: str | None  # builtin options table name, e.g. "Conv2DOptions"
    custom_options: bytes = b""  # a custom op's options (usually a flexbuffer), raw


@dataclass(frozen=True)
class Subgraph:
    """One subgraph: tensors, operators in execution order, graph inputs and outputs."""

    index: int
    name: str
    tensors: tuple
    operators: tuple
    inputs: tuple
    outputs: tuple


@dataclass(frozen=True)
class Metadata:
    """One named metadata entry; `data` is the referenced buffer's bytes."""

    name: str
    buffer: int
    data: bytes


@dataclass(frozen=True)
class Model:
    """A parsed .tflite file. `raw` keeps the file bytes (the writer patches them)."""

    version: int
    description: str
    subgraphs: tuple
    buffers: tuple
    metadata: tuple
    raw: bytes = field(repr=False)

    @property
    def main(self) -> Subgraph:
        """Subgraph 0, the one the interpreter invokes."""
        return self.subgraphs[0]

    def metadata_dict(self) -> dict:
        """{name: bytes} of the metadata entries (the last one wins on duplicate names)."""
        return {m.name: m.data for m in self.metadata}
