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
from rnnedge.firmware_sim.operators import (conv, data_ops, elementwise, elementwise_math, int16,
                                             int32, movement_ops, recurrent, shape_ops,
                                             transpose_conv)
from rnnedge.firmware_sim.operators.context import Context, tensor_quant
from rnnedge.kernels import ops as kernel_ops

INT8 = np.dtype(np.int8)
FLOAT32 = np.dtype(np.float32)
BOOL = np.dtype(np.bool_)
INT32 = np.dtype(np.int32)
INT16 = np.dtype(np.int16)
_OUTPUT_DTYPES = {"DEQUANTIZE": (FLOAT32,), "CAST": (INT8, INT32, FLOAT32, BOOL),
                  "QUANTIZE": (INT8, INT16)}
_DTYPE_NAMES = {INT8: "INT8", FLOAT32: "FLOAT32", BOOL: "BOOL", INT32: "INT32", INT16: "INT16"}
OPERATORS = {**conv.PREPARERS, **elementwise.PREPARERS, **shape_ops.PREPARERS,
             **recurrent.PREPARERS, **elementwise_math.PREPARERS, **data_ops.PREPARERS,
             **movement_ops.PREPARERS}
OPERATORS.update(transpose_conv.PREPARERS)
OPERATORS.update(int16.PREPARERS)  # int16 operands of the ops above; others pass through
OPERATORS.update(int32.wrap(OPERATORS))  # int32 ADD / comparisons (WHILE loop counters)

__all__ = ["OPERATORS", "Prepared", "prepare", "tensor_quant"]


@dataclass(frozen=True)
class Prepared:
    """A kernel ready to run: `data` are the operand tensor indices in the kernel's argument
    order (constants among them are passed from flash), `outputs` the written tensors."""

    kernel: kernel_ops.Kernel
    data: tuple
    outputs: tuple


def _dtypes_ok(c: Context, data: tuple, kernel=None) -> None:
    """Activations have a type of the op table's `dtypes` (int8; int16 where a 16x8 kernel
    exists; QUANTIZE may read float32, the logical ops, SELECT_V2 and CAST bool); outputs are
    int8, or int16 when the activation input is (TFLM's same-type rule); QUANTIZE writes int8
    or int16, DEQUANTIZE float32, CAST int8, int32, float32 or bool, the "compare" category
    bool, a kernel with an `output_dtype` (ARG_MAX, SHAPE) that."""
    allowed = op_table.info(c.op.opcode).dtypes
    if getattr(kernel, "input_dtype", None) == INT32:  # int32 ADD / comparisons (int32.py)
        allowed = (*allowed, "INT32")
    for t in data:
        tensor = c.sg.tensors[t]
        if tensor.type_name not in allowed:
            c.fail(f"input {tensor.name} is {tensor.type_name}; the C kernels take "
                   f"{' or '.join(a for a in allowed if a != 'FLOAT32')} activations for "
                   f"{c.op.opcode}")
    for t in c.op.outputs:
        tensor = c.sg.tensors[t]
        allowed = _OUTPUT_DTYPES.get(c.op.opcode) or (
            (BOOL,) if op_table.info(c.op.opcode).category == "compare" else
            (np.dtype(kernel.output_dtype),) if hasattr(kernel, "output_dtype") else
            (INT16,) if data and c.sg.tensors[data[0]].dtype == INT16 else (INT8,))
        if tensor.dtype not in allowed:
            c.fail(f"output {tensor.name} is {tensor.type_name}, expected "
                   f"{' or '.join(_DTYPE_NAMES.get(d, d.name.upper()) for d in allowed)}")


def _int16_input_ok(c: Context) -> None:
    """Before preparing: an int16 activation input (input 0) of an op whose C kernels take no
    int16 (the op table's `dtypes`) is named as such, before an int8 preparer misreads it."""
    ins = c.op.inputs
    tensor = c.sg.tensors[ins[0]] if ins and ins[0] >= 0 else None
    if (tensor is not None and tensor.data is None and tensor.type_name == "INT16"
            and "INT16" not in op_table.info(c.op.opcode).dtypes):
        c.fail(f"input {tensor.name} is INT16; the C kernels take "
               f"{' or '.join(a for a in op_table.info(c.op.opcode).dtypes if a != 'FLOAT32')} "
               f"activations for {c.op.opcode}")


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
    _int16_input_ok(c)
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
    _dtypes_ok(c, data, kernel)
    _shapes_ok(c, kernel, data)
    return Prepared(kernel, tuple(data), tuple(op.outputs))
