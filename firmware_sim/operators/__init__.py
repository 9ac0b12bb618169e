"""The supported-operator table: one TFLite operator -> one prepared C kernel.

One module per op family holds its preparers (`PREPARERS`: opcode -> function of a
`context.Context` returning (kernel, data operands)); OPERATORS merges them. A new kernel
family adds a module and one line below.

`prepare(op, subgraph, lib)` looks the opcode up in OPERATORS, reads the operator's options,
constant operands and quantisation from the model, and builds the matching prepared kernel of
`rnnedge.kernels.ops` (whose constructor validates everything the C code relies on and derives
the integer parameters exactly as TFLM's Prepare does). It returns a `Prepared`: the kernel,
the operator's data operands in the kernel's argument order (arena tensors or constants) and
its outputs. It then checks that the kernel's shapes match the tensors the model declares, so
a malformed model can never make a kernel touch bytes outside its tensors. A conv with a fused
PAD (`fused_pad`) is prepared over the PAD's input with explicit padding offsets.

Quantisation scales whose rescale would need a shift outside kernels.ops.SHIFT_RANGE (the
fixed-point helpers would shift by more than 31 bits, which C leaves undefined) are refused
by the kernels themselves when their params are built.
Which ops have a C kernel, and which dtypes it takes, is the op table's `kernel` and
`dtypes` (rnnedge.op_table); OPERATORS holds one preparer per such op (a test holds the two
equal). Every failure is an `RnnedgeError` whose message starts with `op <index> <OPCODE>:`.
Imports numpy, rnnedge.errors, rnnedge.op_table, rnnedge.kernels and this package.
"""

from dataclasses import dataclass

import numpy as np

from rnnedge import op_table
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.operators import conv, elementwise, shape_ops
from rnnedge.firmware_sim.operators.context import Context, tensor_quant
from rnnedge.kernels import ops as kernel_ops

INT8 = np.dtype(np.int8)
FLOAT32 = np.dtype(np.float32)
OPERATORS = {**conv.PREPARERS, **elementwise.PREPARERS, **shape_ops.PREPARERS}

__all__ = ["OPERATORS", "Prepared", "prepare", "tensor_quant"]


@dataclass(frozen=True)
class Prepared:
    """A kernel ready to run: `data` are the operand tensor indices in the kernel's argument
    order (constants among them are passed from flash), `outputs` the written tensors."""

    kernel: kernel_ops.Kernel
    data: tuple
    outputs: tuple


def _dtypes_ok(c: Context, data: tuple) -> None:
    """Activations are int8 (the op table's `dtypes`: QUANTIZE may read float32);
    DEQUANTIZE writes float32."""
    allowed = op_table.info(c.op.opcode).dtypes
    for t in data:
        tensor = c.sg.tensors[t]
        if tensor.type_name not in allowed:
            c.fail(f"input {tensor.name} is {tensor.type_name}; the C kernels take int8 "
                   "activations")
    for t in c.op.outputs:
        tensor = c.sg.tensors[t]
        allowed = FLOAT32 if c.op.opcode == "DEQUANTIZE" else INT8
        if tensor.dtype != allowed:
            c.fail(f"output {tensor.name} is {tensor.type_name}, expected "
                   f"{'FLOAT32' if allowed == FLOAT32 else 'INT8'}")


def _shapes_ok(c: Context, kernel, data: tuple) -> None:
    """The kernel's own shapes must cover exactly the declared tensors' elements."""
    if hasattr(kernel, "input_shapes"):
        ins = kernel.input_shapes
    elif hasattr(kernel, "shape1"):
        ins = [kernel.shape1, kernel.shape2]
    else:
        ins = [kernel.input_shape]
    for t, shape in zip(data, ins):
        if int(np.prod(shape)) != c.sg.tensors[t].num_elements:
            c.fail(f"input {c.sg.tensors[t].name} has shape {c.sg.tensors[t].shape}, the "
                   f"kernel expects {tuple(shape)}")
    outs = getattr(kernel, "output_shapes", None) or [kernel.output_shape]
    if len(outs) != len(c.op.outputs):
        c.fail(f"the kernel writes {len(outs)} outputs, the model declares "
               f"{len(c.op.outputs)}")
    for t, shape in zip(c.op.outputs, outs):
        tensor = c.sg.tensors[t]
        if int(np.prod(shape)) != tensor.num_elements:
            c.fail(f"output {tensor.name} is declared {tensor.shape} but the operator "
                   f"computes {tuple(shape)}")


def prepare(op, subgraph, lib, folded=None, fused_pad=None) -> Prepared:
    """The prepared kernel of operator `op` of `subgraph` (see module docstring); `folded`
    maps tensors evaluated at compile time (see folding.py) to their values; `fused_pad`
    = (tensor, ((top, bottom), (left, right))) makes a CONV_2D / DEPTHWISE_CONV_2D read
    `tensor` (a fused PAD's input) with that explicit padding."""
    c = Context(op, subgraph, lib, folded or {}, fused_pad)
    if fused_pad is not None and op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        c.fail("only a CONV_2D or DEPTHWISE_CONV_2D can take a fused PAD")
    if op_table.info(op.opcode).kernel is None:
        c.fail("no C kernel implements this operator (supported: "
               f"{', '.join(sorted(op_table.names(kernel=True)))})")
    if not op.outputs:
        c.fail("the operator has no output")
    try:
        kernel, data = OPERATORS[op.opcode](c)
    except RnnedgeError as exc:
        message = str(exc)
        prefix = f"op {op.index} {op.opcode}:"
        raise RnnedgeError(message if message.startswith(prefix) else
                           f"{prefix} {message}") from None
    except (ValueError, TypeError, IndexError, KeyError, OverflowError,
            ZeroDivisionError) as exc:
        c.fail(f"malformed operands ({type(exc).__name__}: {exc})")
    _dtypes_ok(c, data)
    _shapes_ok(c, kernel, data)
    return Prepared(kernel, tuple(data), tuple(op.outputs))
