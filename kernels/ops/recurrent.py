"""UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF: TFLM's recurrent kernels, whose state lives in
VARIABLE tensors that the caller owns and keeps across invocations (the kernel reads and
updates them in place), plus a scratch buffer per call.

`UnidirectionalSequenceLstm` is TFLM's integer LSTM for int8 (or int16: 16x8) activations,
int8 weights and an int16 cell (its Prepare: gate FCs rescaled to Q3.12, the fixed Q0.15 gate outputs, the cell
scale's power of two for tanh, the quantised cell clip); `Svdf` is TFLM's int8-input SVDF with
an int8 or int16 state. Both are called as ``kernel(x, *states, out=None, scratch=None)``;
the firmware compiler reads `state_shapes` / `state_dtypes`, `scratch_nbytes` /
`scratch_dtype` and
`constants` (the flash arrays in C argument order, None for an absent bias).

Prepared kernels (see rnnedge.kernels.ops); tests in kernels/tests/test_recurrent.py.
May import: numpy, ctypes, rnnedge.errors and this package.
"""

import math

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import params, structs
from rnnedge.kernels.ops.base import INT8, Kernel, check_quant
from rnnedge.kernels.params import Quant, f32, quantize_multiplier

INT16, INT32 = np.dtype(np.int16), np.dtype(np.int32)
GATES = ("input", "forget", "cell", "output")
# TFLM's lstm_eval_common.cc constants (float32): the gate FCs' output scale (Q3.12) and the
# gates' output scale, Q0.15: exactly 2^-15 in the inter-gate multipliers. (The source writes
# 0.00003051757, which float32 rounds just below 2^-15; with that value the 16x8 hidden
# state differed from TFLM's by one LSB where tanh(cell) x output gate lands within 5e-7 of
# a rounding tie, 14 of 200 random sequences; with 2^-15 none of 200 int8 and 200 16x8 ones
# differ, kernels/tests/test_recurrent.py.)
NONLINEAR_INPUT_SCALE = f32(0.00024414062)
NONLINEAR_OUTPUT_SCALE = f32(2.0 ** -15)


def inter_gate_mul(scale1, scale2, out_scale) -> tuple[int, int]:
    """TFLM CreateInterGateMulParams: QuantizeMultiplier(double(s1) * double(s2) / double(out))."""
    real = float(f32(scale1)) * float(f32(scale2)) / float(f32(out_scale))
    return quantize_multiplier(real)


def cell_scale_power(scale) -> int:
    """TFLM CheckedLog2 of the cell-state scale (the rounded log2)."""
    return int(params.tflite_round(math.log(float(f32(scale))) / math.log(2.0)))


def _scale(q: Quant, what: str, op: str) -> float:
    """The single (per-tensor) scale of `q`."""
    scales = np.atleast_1d(np.asarray(q.scale, dtype=np.float64))
    if scales.size != 1:
        raise RnnedgeError(f"{op}: {what} must be quantised per tensor (TFLM's kernel takes "
                           "one scale)")
    return float(scales[0])


class UnidirectionalSequenceLstm(Kernel):
    """UNIDIRECTIONAL_SEQUENCE_LSTM, int8 (or, `dtype=np.int16`, int16: TFLM's 16x8)
    activations x int8 weights -> int16 cell. `weights`: the eight int8 matrices
    input_to_{input,forget,cell,output} [state, input] then recurrent_to_* [state, state];
    `weight_q` their per-tensor Quant; `biases`: four int32 (int64 for 16x8) [state];
    `state_q` the output state's (= output's) Quant; `cell_scale` the int16 cell state's
    scale."""

    op, entry = "UNIDIRECTIONAL_SEQUENCE_LSTM", "rn_unidirectional_sequence_lstm"
    ENTRIES = {INT8: "rn_unidirectional_sequence_lstm",
               INT16: "rn_unidirectional_sequence_lstm_int16"}
    BIASES = {INT8: INT32, INT16: np.dtype(np.int64)}

    def __init__(self, input_shape, weights, weight_q, biases, input_q: Quant, state_q: Quant,
                 cell_scale, *, time_major=False, cell_clip=0.0, activation="TANH",
                 dtype=np.int8, lib=None):
        dtype = np.dtype(dtype)
        if dtype not in self.ENTRIES:
            raise RnnedgeError(f"{self.op}: {dtype} activations; TFLM's integer kernel takes "
                               "int8 or int16 (16x8)")
        self.entry, self.dtype = self.ENTRIES[dtype], dtype
        super().__init__(lib)
        op = self.op
        if dtype == INT8:
            check_quant(input_q, "input", op)
            check_quant(state_q, "output state", op)
        elif int(input_q.zero_point) or int(state_q.zero_point):
            raise RnnedgeError(f"{op}: int16 activations must have zero point 0 (TFLM's 16x8 "
                               "quantisation is symmetric)")
        check_quant(Quant(cell_scale, 0), "cell state", op)
        if len(input_shape) != 3:
            raise RnnedgeError(f"{op}: input must be 3-D, got {tuple(input_shape)}")
        if activation != "TANH":
            raise RnnedgeError(f"{op}: cell gate activation {activation} is not one TFLM runs "
                               "(TANH)")
        if len(weights) != 8 or len(weight_q) != 8 or len(biases) != 4:
            raise RnnedgeError(f"{op}: needs 8 weight matrices and 4 gate biases (TFLM's "
                               "standard LSTM: no CIFG, peephole, projection or layer norm)")
        t, b, depth = (int(d) for d in input_shape)
        if not time_major:
            t, b = b, t
        state = int(np.asarray(weights[0]).shape[0]) if np.ndim(weights[0]) == 2 else -1
        mats = []
        for k, (w, q) in enumerate(zip(weights, weight_q)):
            w = np.asarray(w)
            want = (state, depth if k < 4 else state)
            if w.shape != want or w.dtype != INT8:
                raise RnnedgeError(f"{op}: weight matrix {k + 1} is {w.dtype} {w.shape}, "
                                   f"expected int8 {want}")
            check_quant(q, f"weight matrix {k + 1}", op)
            mats.append(w.reshape(-1))
        bias_dtype = self.BIASES[dtype]
        for k, bias in enumerate(biases):
            if np.asarray(bias).shape != (state,) or np.asarray(bias).dtype != bias_dtype:
                raise RnnedgeError(f"{op}: the {GATES[k]} gate bias must be {bias_dtype} "
                                   f"[{state}]")
        self.weights = self._const(np.concatenate(mats), np.int8)
        self.biases = self._const(np.concatenate([np.asarray(x) for x in biases]), bias_dtype)
        in_s, h_s = _scale(input_q, "input", op), _scale(state_q, "output state", op)
        gates = {}
        for k, gate in enumerate(GATES):
            wi, wr = weight_q[k], weight_q[k + 4]
            mi, si = params.fc_per_tensor_multiplier(in_s, _scale(wi, "weights", op),
                                                     NONLINEAR_INPUT_SCALE)
            mr, sr = params.fc_per_tensor_multiplier(h_s, _scale(wr, "weights", op),
                                                     NONLINEAR_INPUT_SCALE)
            gates[f"{gate}_gate"] = structs.LstmGateParams(
                input_multiplier=mi, input_shift=si, recurrent_multiplier=mr,
                recurrent_shift=sr, input_weights_offset=-int(wi.zero_point),
                recurrent_weights_offset=-int(wr.zero_point))
        power = cell_scale_power(cell_scale)
        tanh_shift = 15 + power - 3
        if tanh_shift > 14:
            raise RnnedgeError(f"{op}: cell state scale {cell_scale} is too coarse for TFLM's "
                               "int16 tanh (its input rescale would overflow int32)")
        tanh_mult, tanh_right = (3 << tanh_shift, 0) if tanh_shift >= 0 else (3, -tanh_shift)
        if tanh_right > 30:
            raise RnnedgeError(f"{op}: cell state scale {cell_scale} is too fine for TFLM's "
                               "int16 tanh")
        nos = NONLINEAR_OUTPUT_SCALE
        fm, fs = inter_gate_mul(nos, cell_scale, cell_scale)
        im, is_ = inter_gate_mul(nos, nos, cell_scale)
        hm, hs = inter_gate_mul(nos, nos, h_s)
        clip = 0
        if cell_clip > 0:
            ratio = float(f32(cell_clip)) / float(f32(cell_scale))
            clip = int(math.trunc(min(max(ratio, -32768.0), 32767.0)))
        self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = self.input_shape[:2] + (state,)
        self.state_shapes = ((b, state), (b, state))
        self.state_dtypes = (dtype, INT16)
        self.input_shapes = [self.input_shape, *self.state_shapes]
        self.scratch_nbytes, self.scratch_dtype = 4 * b * state * 2, INT16
        self.constants = (("weights", self.weights), ("biases", self.biases))
        self.params = structs.UnidirectionalSequenceLstmParams(
            batches=b, time_steps=t, input_depth=depth, state_depth=state,
            time_major=int(bool(time_major)), input_offset=-int(input_q.zero_point),
            hidden_offset=-int(state_q.zero_point), **gates,
            forget_cell_multiplier=fm, forget_cell_shift=fs, input_cell_multiplier=im,
            input_cell_shift=is_, hidden_multiplier=hm, hidden_shift=hs,
            hidden_zero_point=int(state_q.zero_point), cell_tanh_multiplier=tanh_mult,
            cell_tanh_shift=tanh_right, use_cell_clip=int(cell_clip > 0), cell_clip=clip)

    def __call__(self, x, output_state, cell_state, out=None, scratch=None):
        x = self._buffer(x, self.dtype, self.input_shape, "input")
        h = self._buffer(output_state, self.dtype, self.state_shapes[0], "output state")
        c = self._buffer(cell_state, INT16, self.state_shapes[1], "cell state")
        out = self._output(out, self.dtype, self.output_shape)
        if scratch is None:
            scratch = np.empty(self.scratch_nbytes // 2, INT16)
        scratch = self._buffer(scratch, INT16, (self.scratch_nbytes // 2,), "scratch")
        act = structs.P_I8 if self.dtype == INT8 else structs.P_I16
        bias = structs.P_I32 if self.dtype == INT8 else structs.P_I64
        self._run(self._ptr(x, act), self._ptr(self.weights), self._ptr(self.biases, bias),
                  self._ptr(h, act), self._ptr(c, structs.P_I16),
                  self._ptr(scratch, structs.P_I16), self._ptr(out, act))
        return out


class Svdf(Kernel):
    """SVDF with int8 input and weights_feature [filters, input], weights_time [filters,
    memory] and state [batches, memory * filters] both int8 or both int16 (`state_q.dtype`
    follows `weights_time`'s dtype), an optional int32 bias [units]."""

    op, entry = "SVDF", "rn_svdf"

    def __init__(self, input_shape, weights_feature, weights_time, bias, input_q: Quant,
                 feature_scale, time_scale, state_q: Quant, output_q: Quant, *, rank,
                 lib=None):
        super().__init__(lib)
        op = self.op
        for q, what in ((input_q, "input"), (output_q, "output"), (state_q, "state")):
            check_quant(q, what, op)
        wf, wt = np.asarray(weights_feature), np.asarray(weights_time)
        if len(input_shape) != 2 or wf.ndim != 2 or wt.ndim != 2 or wf.dtype != INT8:
            raise RnnedgeError(f"{op}: needs a 2-D input, int8 2-D weights_feature and 2-D "
                               "weights_time")
        if wt.dtype not in (INT8, INT16):
            raise RnnedgeError(f"{op}: weights_time is {wt.dtype}; TFLM takes int8 or int16")
        batches, depth = (int(d) for d in input_shape)
        filters, memory = wt.shape
        rank = int(rank)
        if wf.shape != (filters, depth) or rank <= 0 or filters % rank or memory <= 0:
            raise RnnedgeError(f"{op}: weights_feature {wf.shape}, weights_time {wt.shape} "
                               f"and rank {rank} do not fit an input of depth {depth}")
        units = filters // rank
        self.bias = None if bias is None else self._const(bias, np.int32)
        if self.bias is not None and self.bias.size != units:
            raise RnnedgeError(f"{op}: bias has {self.bias.size} entries for {units} units")
        self.weights_feature = self._const(wf, np.int8)
        self.weights_time = self._const(wt, wt.dtype)
        in_s, st_s = _scale(input_q, "input", op), _scale(state_q, "state", op)
        # TFLM PrepareSvdf: both effective scales are float32 products / quotients.
        scale1 = float(f32(f32(in_s) * f32(feature_scale)) / f32(st_s))
        scale2 = float(f32(f32(st_s) * f32(time_scale)) / f32(output_q.scale))
        m1, s1 = quantize_multiplier(scale1)
        m2, s2 = quantize_multiplier(scale2)
        self.input_shape = (batches, depth)
        self.output_shape = (batches, units)
        self.state_shapes = ((batches, memory * filters),)
        self.state_dtypes = (np.dtype(wt.dtype),)
        self.input_shapes = [self.input_shape, *self.state_shapes]
        self.scratch_nbytes, self.scratch_dtype = 4 * batches * filters, INT32
        self.constants = (("weights_feature", self.weights_feature),
                          ("weights_time", self.weights_time), ("bias", self.bias))
        self.params = structs.SvdfParams(
            batches=batches, input_depth=depth, num_filters=filters, num_units=units,
            rank=rank, memory_size=memory, state_int16=int(wt.dtype == INT16),
            input_zero_point=int(input_q.zero_point), state_zero_point=int(state_q.zero_point),
            output_zero_point=int(output_q.zero_point), feature_multiplier=m1,
            feature_shift=s1, time_multiplier=m2, time_shift=s2)

    def __call__(self, x, state, out=None, scratch=None):
        x = self._buffer(x, INT8, self.input_shape, "input")
        state = self._buffer(state, self.state_dtypes[0], self.state_shapes[0], "state")
        out = self._output(out, INT8, self.output_shape)
        if scratch is None:
            scratch = np.empty(self.scratch_nbytes // 4, INT32)
        scratch = self._buffer(scratch, INT32, (self.scratch_nbytes // 4,), "scratch")
        self._run(self._ptr(x), self._ptr(self.weights_feature),
                  self.weights_time.ctypes.data, self._ptr(self.bias, structs.P_I32),
                  state.ctypes.data, self._ptr(scratch, structs.P_I32), self._ptr(out))
        return out
