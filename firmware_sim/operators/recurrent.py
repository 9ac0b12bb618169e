"""Preparers of the recurrent category: UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF, whose states
are VARIABLE tensors (the data operands after the input; the compiler keeps them outside the
arena, across invocations, as TFLM does).

Each refuses what TFLM's kernel refuses: an LSTM must be TFLM's standard one (24 inputs, the
eight weight matrices and four biases present; no peephole, projection or layer norm) with
int8 activations and output state (or int16 ones with int64 biases: TFLM's 16x8) and an
int16 cell state, both variables; an SVDF takes
5 inputs, a variable int8 or int16 state and (TFLM reads its scale) a bias.

Imports numpy, rnnedge.kernels and this package's context.
"""

import numpy as np

from rnnedge.firmware_sim.operators.context import Context
from rnnedge.kernels import ops as kernel_ops
from rnnedge.kernels.params import Quant

LSTM_INPUTS = 24
LSTM_OPTIONAL = (9, 10, 11, 16, 17, 20, 21, 22, 23)  # peephole, projection, layer norm
LSTM_OUTPUT_STATE, LSTM_CELL_STATE = 18, 19


def _variable(c: Context, position: int, what: str, dtypes):
    """Input `position`, which must be a variable tensor of one of `dtypes`."""
    t = c.tensor(position, what)
    if not t.is_variable:
        c.fail(f"{what} {t.name} must be a variable tensor (TFLM keeps the state there)")
    if t.type_name not in dtypes:
        c.fail(f"{what} {t.name} is {t.type_name}; TFLM's kernel takes {' or '.join(dtypes)}")
    return t


def _weight_quant(c: Context, t) -> Quant:
    """Per-tensor Quant of a weight tensor (per-channel scales are passed on to be refused)."""
    q = t.quantization
    if q is None or len(q.scales) == 0:
        c.fail(f"weights {t.name} have no quantisation parameters")
    scale = float(q.scales[0]) if len(q.scales) == 1 else np.asarray(q.scales, np.float32)
    return Quant(scale, int(q.zero_points[0]))


def _lstm(c: Context):
    """UNIDIRECTIONAL_SEQUENCE_LSTM, int8 (or int16: 16x8) x int8 -> int16 cell."""
    ins = c.op.inputs
    if len(ins) != LSTM_INPUTS:
        c.fail(f"has {len(ins)} inputs; TFLM's kernel takes {LSTM_INPUTS}")
    used = [i for i in LSTM_OPTIONAL if ins[i] >= 0]
    if used:
        c.fail(f"inputs {used} are set (peephole, projection or layer norm), which TFLM's "
               "kernel does not run")
    x = c.tensor(0)
    if x.type_name not in ("INT8", "INT16"):
        c.fail(f"input {x.name} is {x.type_name}; the C kernel takes int8 or int16 "
               "activations")
    h = _variable(c, LSTM_OUTPUT_STATE, "output state", (x.type_name,))
    cell = _variable(c, LSTM_CELL_STATE, "cell state", ("INT16",))
    weights = [c.const(i, "weights") for i in range(1, 9)]
    kernel = kernel_ops.UnidirectionalSequenceLstm(
        x.shape, weights, [_weight_quant(c, c.tensor(i)) for i in range(1, 9)],
        [c.const(i, "bias") for i in range(12, 16)], c.quant(x), c.quant(h),
        c.quant(cell).scale, time_major=bool(c.opt.get("time_major", False)),
        cell_clip=float(c.opt.get("cell_clip", 0.0)), activation=c.act(), dtype=x.dtype,
        lib=c.lib)
    return kernel, (ins[0], ins[LSTM_OUTPUT_STATE], ins[LSTM_CELL_STATE])


def _svdf(c: Context):
    """SVDF, int8 input, int8 or int16 state."""
    ins = c.op.inputs
    if len(ins) != 5:
        c.fail(f"has {len(ins)} inputs; TFLM's kernel takes 5")
    if ins[3] < 0:
        c.fail("has no bias, which TFLM's kernel requires (it reads the bias scale)")
    x, wf, wt = c.tensor(0), c.tensor(1, "weights_feature"), c.tensor(2, "weights_time")
    state = _variable(c, 4, "activation state", ("INT8", "INT16"))
    if state.type_name != wt.type_name:
        c.fail(f"state {state.name} is {state.type_name} but weights_time is {wt.type_name}")
    kernel = kernel_ops.Svdf(x.shape, c.const(1, "weights_feature"), c.const(2, "weights_time"),
                             c.const(3, "bias"), c.quant(x), _weight_quant(c, wf).scale,
                             _weight_quant(c, wt).scale, c.quant(state), c.quant(c.out()),
                             rank=int(c.opt.get("rank", 0)), lib=c.lib)
    return kernel, (ins[0], ins[4])


PREPARERS = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _lstm,
    "SVDF": _svdf,
}
