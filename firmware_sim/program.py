"""The firmware program: what compiler.py builds from a model and a plan, and what the host
runtime (runtime.py) and the C code generator (codegen.py) both execute, so they compute the
same bits. A `Program` is what a microcontroller build would hold: the kernel calls in
execution order (each a C entry point, its params struct, and pointer arguments (`Ref`) into
the arena, into flash constants, into a row scratch, or into the variable buffer), the
constants apart as "flash", the arena size, the tensor placement of the plan, and the
variable tensors (recurrent state kept across invocations outside the arena, as TFLM keeps
them in its persistent memory; resource variables too).

Control flow (WHILE, IF, CALL_ONCE): every other subgraph is a list of steps of its own
(`Program.subgraphs`) over the same arena, and the step of a control-flow operator carries
a `Control`: which subgraphs it runs, the bool that decides, and the byte copies (rn_reshape
calls) TFLM's kernels make between the operator's tensors and the subgraphs' inputs and
outputs, by phase; control.py says what each phase copies.

Imports numpy, ctypes and rnnedge.tflite (the Model type) only.
"""

import ctypes
from dataclasses import dataclass, field

import numpy as np

from rnnedge.tflite import Model

CTYPES = {np.dtype(np.int8): "int8_t", np.dtype(np.float32): "float",
          np.dtype(np.int32): "int32_t", np.dtype(np.int16): "int16_t",
          np.dtype(np.int64): "int64_t",
          np.dtype(np.bool_): "int8_t"}  # a bool tensor: one 0/1 byte per element, as TFLM's


@dataclass(frozen=True)
class Ref:
    """One pointer argument: `space` is "arena" (byte `offset`), "flash" (`offset` indexes
    Program.constants), "scratch" (byte `offset` in the row scratch), "input" (byte `offset`
    of the streamed graph input, outside the arena: the input callback's row) or "null"."""

    space: str
    offset: int = 0
    nbytes: int = 0
    ctype: str = "int8_t"


NULL = Ref("null")


@dataclass(frozen=True)
class Call:
    """One C kernel call: `entry(&params, *args)`; an arg is a Ref or a tuple of Refs (an
    array of pointers, for CONCATENATION and SPLIT)."""

    entry: str
    params: ctypes.Structure
    args: tuple


@dataclass(frozen=True)
class Control:
    """The run of a control-flow operator (see the module docstring and control.py):
    `opcode` WHILE (subgraphs (cond, body)), IF ((then, else)) or CALL_ONCE ((init,));
    `condition` the bool byte (WHILE: the cond subgraph's output, IF: input 0);
    `phases` ((name, calls), ...) the byte copies of each phase; `flag` the CALL_ONCE's index
    among the program's run-once flags."""

    opcode: str
    subgraphs: tuple
    condition: Ref | None = None
    phases: tuple = ()
    flag: int = -1

    def calls(self, phase: str) -> tuple:
        """The copy calls of `phase` (empty when it has none)."""
        return dict(self.phases).get(phase, ())


@dataclass(frozen=True)
class Step:
    """One scheduled step: the TFLite operators it runs (several for a fused PAD + conv and/or
    conv + ADD), its calls, the arena tensors it reads and writes, its MACs and its planner
    scope."""

    name: str
    ops: tuple
    calls: tuple
    reads: tuple
    writes: tuple
    macs: int | None
    scope: int
    control: Control | None = None


@dataclass(frozen=True)
class Constant:
    """A flash array (weights, biases, constant operands)."""

    name: str
    data: np.ndarray


@dataclass(frozen=True)
class Port:
    """A graph input or output: where it lives in the arena (`streamed`: a graph input the
    fused plan pulls row by row from the input source instead; `offset` is then 0)."""

    tensor: int
    name: str
    offset: int
    shape: tuple
    dtype: np.dtype
    streamed: bool = False

    @property
    def nbytes(self) -> int:
        """Bytes of one sample."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


@dataclass(frozen=True)
class Variable:
    """A VARIABLE tensor (an LSTM's or SVDF's state; `tensor` -1 for a resource variable of
    VAR_HANDLE / ASSIGN_VARIABLE / READ_VARIABLE): `nbytes` at byte `offset` of the
    variable buffer, which persists across invocations; a reset sets every byte to `fill`
    (TFLM's ResetVariableTensors: an int8 tensor's zero point, else 0; a resource variable:
    MicroResourceVariables::ResetAll, the int8 zero point of the first assigned value)."""

    tensor: int
    name: str
    offset: int
    nbytes: int
    fill: int


@dataclass(frozen=True)
class Program:
    """A compiled model (see module docstring). `placement` maps each arena tensor the
    program touches to (offset, nbytes); `lifetimes` maps it to its (first, last) scope."""

    model: Model
    plan: object
    arena: int
    scratch: int
    steps: tuple
    constants: tuple
    inputs: tuple
    outputs: tuple
    placement: dict
    lifetimes: dict
    keep: tuple = field(repr=False, default=())
    variables: tuple = ()
    subgraphs: dict = field(default_factory=dict)  # {subgraph index >= 1: its steps}
    once_flags: int = 0  # CALL_ONCE operators (each runs its subgraph on the first invoke)

    @property
    def variable_bytes(self) -> int:
        """Size of the variable-tensor buffer (each variable 16-byte aligned)."""
        return max((v.offset + v.nbytes for v in self.variables), default=0)

    @property
    def flash_bytes(self) -> int:
        """Bytes of constant arrays the kernels read at run time."""
        return sum(c.data.nbytes for c in self.constants)
