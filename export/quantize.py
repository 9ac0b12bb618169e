"""Post-training int8 quantisation of a lowered graph (TFLite's int8 scheme, done in-house).

Why in-house: TFLiteConverter's quantiser gives each Concat its own calibrated scale and then
inserts a QUANTIZE op in front of it (122 extra ops on a small SWS-BiRNN model), and its
optimiser merges Concat trees back into >10-input CONCATENATIONs. Here scales are chosen per
*same-scale group* instead: the inputs and outputs of ops that move bytes without rescaling in
TFLM (the op table's `same_scale` ops: CONCATENATION, SPLIT, SPLIT_V, STRIDED_SLICE, PAD,
RESHAPE, TRANSPOSE, pools, nearest resize) share one scale covering all members' calibrated
ranges, so none of those ops needs a requantise.

The scheme (what TFLM's int8 kernels expect):
- activations: per-tensor asymmetric int8 from the calibrated [min, max] (0 included);
  TANH output fixed at scale 1/128, zero point 0; LOGISTIC output at 1/256, -128 (the op
  table's `fixed_output`).
- conv, depthwise and FULLY_CONNECTED weights: per-channel (per output channel) symmetric int8,
  which TFLM, TFLite and Vela all take.
- biases: int32, scale = input scale * weight scale, zero point 0. A bias too large for
  int32 at that scale (a channel whose weights decayed to almost 0 under a large bias, such
  as a one-class detector's class logit) widens its channel's weight scale until it fits,
  as TFLite's quantiser does, instead of saturating.
- elementwise constant operands: per-tensor asymmetric int8.
- UNIDIRECTIONAL_SEQUENCE_LSTM (`--lstm fused`): per-tensor weights, gate biases at input
  scale x input weight scale, the int8 hidden state in its output's group, the int16 cell
  state at the power-of-two scale covering its calibrated range (as TFLM requires).
Ops that share a weight and a bias (a recurrent W_hh with a bias) get their inputs unified
into one scale, so the int32 bias is also stored once.

May import: numpy, rnnedge.errors, rnnedge.op_table, rnnedge.export.graph_ir.
"""

from dataclasses import dataclass

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.export.graph_ir import Op, Tensor
from rnnedge.op_table import info

# UNIDIRECTIONAL_SEQUENCE_LSTM input positions (TFLite's): the first gate bias, the output state
LSTM_GATE_BIAS, LSTM_OUTPUT_STATE = 12, 18
LSTM_GATE_SCALE = 2.0 ** -12   # TFLite's integer LSTM: gate pre-activations in Q3.12
#: the largest |bias / scale| an int32 bias is given: int32's limit less room for the float32
#: rounding of the weight scale it is divided by
INT32_BIAS_LIMIT = 2.0 ** 31 - 2.0 ** 10


@dataclass
class QParams:
    """Quantisation of one tensor: scale and zero point arrays (length 1 unless per-channel)
    and the quantised dimension."""
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 0


def _per_tensor(scale, zero_point):
    """QParams of one scale and zero point."""
    return QParams(np.array([scale], np.float32), np.array([zero_point], np.int64))


# --int16x8 (TFLite's 16x8 mode): int16 activations, symmetric (zero point 0), int8 weights,
# int64 biases; TFLM's int16 kernels' fixed outputs (tanh, logistic, softmax: 1/32768, 0).
INT16_FIXED_OUTPUT = {"TANH": (1.0 / 32768.0, 0), "LOGISTIC": (1.0 / 32768.0, 0),
                      "SOFTMAX": (1.0 / 32768.0, 0)}
INT16_UNSUPPORTED = ("LOG_SOFTMAX", "HARD_SWISH", "RESIZE_BILINEAR")  # no int16 TFLM/TFLite kernel


def activation_qparams16(lo, hi):
    """Symmetric int16 parameters covering [lo, hi] (TFLite's 16x8 activations)."""
    amax = max(abs(float(lo)), abs(float(hi)), 1e-8)
    return _per_tensor(amax / 32767.0, 0)


def activation_qparams(lo, hi):
    """Asymmetric int8 parameters covering [lo, hi] (0 always representable)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    scale = (hi - lo) / 255.0
    zero_point = int(np.clip(np.round(-128.0 - lo / scale), -128, 127))
    return _per_tensor(scale, zero_point)


class _Groups:
    """Union-find over tensor names."""

    def __init__(self):
        self.parent = {}

    def find(self, a):
        """The root of a's group."""
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a, b):
        """Merge the groups of a and b."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


QUANTIZED_ROLES = ("act", "operand", "lowest")


def _int8_members(graph, op):
    """The int8 tensors (activations, constant operands) an op reads or writes."""
    return [n for n in op.inputs + op.outputs
            if n is not None and graph.tensors[n].role in QUANTIZED_ROLES]


def weighted_io(graph, op):
    """(activation input, weight, bias position or None) of a weighted op (the op table's
    bias position: CONV_2D 2, TRANSPOSE_CONV 3); None for other ops and for the recurrent
    ones (a fused LSTM's biases are _lstm_biases')."""
    if info(op.kind).category == "recurrent":
        return None
    roles = [graph.tensors[n].role if n is not None else None for n in op.inputs]
    if "weight" not in roles or "act" not in roles:
        return None
    position = info(op.kind).bias
    if position is None or position >= len(op.inputs) or roles[position] != "bias":
        position = None
    return op.inputs[roles.index("act")], op.inputs[roles.index("weight")], position


def _group(graph):
    """Union-find of tensors that must share one scale (same-scale ops, shared weight+bias readers)."""
    groups = _Groups()
    shared = {}
    for op in graph.ops:
        for n in op.inputs + op.outputs:
            if n is not None and graph.tensors[n].role in QUANTIZED_ROLES:
                groups.find(n)
        if op.kind == "UNIDIRECTIONAL_SEQUENCE_LSTM":   # its hidden state is its output
            for state in (op.inputs[LSTM_OUTPUT_STATE], op.options["intermediates"][-1]):
                groups.union(state, op.outputs[0])
        if info(op.kind).same_scale:
            members = _int8_members(graph, op)
            for m in members[1:]:
                groups.union(members[0], m)
        io = weighted_io(graph, op)
        if io is not None and io[2] is not None:
            shared.setdefault((io[1], op.inputs[io[2]]), []).append(io[0])
    for inputs in shared.values():
        for other in inputs[1:]:
            groups.union(inputs[0], other)
    return groups


def _fixed(graph, int16=False):
    """{tensor: (scale, zero point)} for the outputs of ops with a fixed output."""
    if int16:
        bad = [op.kind for op in graph.ops if op.kind in INT16_UNSUPPORTED]
        if bad:
            raise RnnedgeError(f"--int16x8: TFLM has no int16 {bad[0]} kernel; export with --int8")
        return {op.outputs[0]: INT16_FIXED_OUTPUT[op.kind] for op in graph.ops
                if op.kind in INT16_FIXED_OUTPUT}
    return {op.outputs[0]: info(op.kind).fixed_output for op in graph.ops
            if info(op.kind).fixed_output}


def _detach_fixed(graph, names):
    """Give the TANH/LOGISTIC ops writing `names` a private output, requantised by a QUANTIZE
    op into the original tensor (used only when a group cannot take the fixed scale)."""
    ops = []
    for op in graph.ops:
        ops.append(op)
        if info(op.kind).fixed_output and op.outputs[0] in names:
            orig = op.outputs[0]
            private = f"{orig}/{op.kind.lower()}"
            graph.tensors[private] = Tensor(private, graph.tensors[orig].shape)
            op.outputs = [private]
            ops.append(Op("QUANTIZE", [private], [orig], {}, op.source))
    graph.ops = ops


def _group_params(graph, ranges, int16=False):
    """Assign QParams to every int8 activation/operand tensor; returns {name: QParams} or the
    set of fixed-output tensors that must be detached."""
    groups = _group(graph)
    fixed = _fixed(graph, int16)
    qmin, qmax = (-32768, 32767) if int16 else (-128, 127)
    members = {}
    for name in groups.parent:
        members.setdefault(groups.find(name), []).append(name)
    params, detach = {}, set()
    for root, names in members.items():
        lo, hi = np.inf, -np.inf
        for n in names:
            t = graph.tensors[n]
            r = (float(t.data.min()), float(t.data.max())) if t.role == "operand" else \
                _range(t, ranges)
            if r is not None and n not in fixed:
                lo, hi = min(lo, r[0]), max(hi, r[1])
        fixed_here = {fixed[n] for n in names if n in fixed}
        if fixed_here:
            scale, zp = min(fixed_here)
            covered = not np.isfinite(lo) or ((qmin - zp) * scale - scale <= lo
                                              and hi <= (qmax - zp) * scale + scale)
            if len(fixed_here) > 1 or not covered:
                detach.update(n for n in names if n in fixed)
                continue
            q = _per_tensor(scale, zp)
        elif np.isfinite(lo):
            q = activation_qparams16(lo, hi) if int16 else activation_qparams(lo, hi)
        else:
            raise RnnedgeError(f"no calibration range for tensor {root}: the calibration run "
                               "did not reach it")
        for n in names:
            params[n] = q
    return params, detach


def _range(tensor, ranges):
    """The calibrated (min, max) of a tensor: its own, or the union over `range_of`."""
    if not tensor.range_of:
        return ranges.get(tensor.name)
    found = [ranges[n] for n in tensor.range_of if n in ranges]
    if not found:
        return None
    return min(r[0] for r in found), max(r[1] for r in found)


def _state16_params(graph, ranges):
    """int16 cell states: zero point 0, the power-of-two scale covering the calibrated range
    (TFLM's integer LSTM requires a power of two); int16 gate intermediates: Q3.12."""
    params = {}
    for name, t in graph.tensors.items():
        if t.role == "gate16":                    # TFLite's gate intermediates: Q3.12
            params[name] = _per_tensor(LSTM_GATE_SCALE, 0)
        if t.role != "state16":
            continue
        r = _range(t, ranges)
        if r is None:
            raise RnnedgeError(f"no calibration range for the cell state {name}")
        amax = max(abs(r[0]), abs(r[1]), 1e-6)
        params[name] = _per_tensor(2.0 ** np.ceil(np.log2(amax / 32767.0)), 0)
    return params


def _lstm_biases(graph, params, weight_q):
    """The four int32 gate biases of each UNIDIRECTIONAL_SEQUENCE_LSTM, at input scale x that
    gate's input weight scale (TFLM adds them in the input FC)."""
    for op in graph.ops:
        if op.kind != "UNIDIRECTIONAL_SEQUENCE_LSTM":
            continue
        for gate in range(4):
            bias = graph.tensors[op.inputs[LSTM_GATE_BIAS + gate]]
            scale = (params[op.inputs[0]].scale[0].astype(np.float64)
                     * weight_q[op.inputs[1 + gate]].scale.astype(np.float64))
            q = np.round(bias.data.astype(np.float64) / scale)
            bias.data = np.clip(q, -2**31, 2**31 - 1).astype(np.int32)
            params[bias.name] = QParams(scale.astype(np.float32), np.zeros(1, np.int64), 0)


def _quantize_weight(data, axis, min_scale=0.0):
    """Symmetric int8 weights, per channel along `axis` (or per tensor when axis is None),
    each scale at least `min_scale` (per channel, or a scalar)."""
    if axis is None:
        amax = np.array([np.abs(data).max()], np.float64)
        scale = np.maximum(np.where(amax > 0, amax / 127.0, 1.0), np.max(min_scale))
        q = np.round(data / scale[0])
        qp = QParams(scale.astype(np.float32), np.zeros(1, np.int64), 0)
    else:
        moved = np.moveaxis(data, axis, 0).reshape(data.shape[axis], -1)
        amax = np.abs(moved).max(axis=1).astype(np.float64)
        scale = np.maximum(np.where(amax > 0, amax / 127.0, 1.0), min_scale)
        shape = [1] * data.ndim
        shape[axis] = -1
        q = np.round(data / scale.reshape(shape))
        qp = QParams(scale.astype(np.float32), np.zeros(len(scale), np.int64), axis)
    return np.clip(q, -127, 127).astype(np.int8), qp


def _bias_weight_scale_floors(graph, params):
    """{weight name: per-channel minimum scale} so that every int32 bias the weight serves
    fits: |bias| / (input scale * weight scale) <= INT32_BIAS_LIMIT. Only weights that need
    it are listed (most biases fit by orders of magnitude)."""
    floors = {}
    for op in graph.ops:
        io = weighted_io(graph, op)
        if io is None or io[2] is None:
            continue
        act, weight, position = io
        bias = np.abs(graph.tensors[op.inputs[position]].data.astype(np.float64))
        need = bias / (float(params[act].scale[0]) * INT32_BIAS_LIMIT)
        w = graph.tensors[weight]
        if w.channel_axis is None:
            need = np.full(1, need.max(initial=0.0))
        amax = np.abs(w.data).max(axis=tuple(i for i in range(w.data.ndim) if i != w.channel_axis)
                                  if w.channel_axis is not None else None) / 127.0
        if np.any(need > amax):
            floors[weight] = np.maximum(floors.get(weight, 0.0), need)
    return floors


def _quantize_with(data, qp, int16=False):
    """Quantise a float constant with per-tensor QParams (int8, or int16 in 16x8 mode)."""
    q = np.round(data / qp.scale[0]) + qp.zero_point[0]
    if int16:
        return np.clip(q, -32768, 32767).astype(np.int16)
    return np.clip(q, -128, 127).astype(np.int8)


def quantize(graph, ranges, int16=False):
    """Quantise the lowered graph in place (int16=True: TFLite's 16x8 mode, graph marked
    so the writer types its activations INT16).

    ranges: {tensor name: (min, max)} from calibration for activation tensors.
    Returns {tensor name: QParams} for every int8/int32-quantised tensor; constant tensors'
    `data` is replaced by its int8/int32 values.
    """
    graph.activation_type = "INT16" if int16 else "INT8"
    params, detach = _group_params(graph, ranges, int16)
    if detach:
        _detach_fixed(graph, detach)
        params, detach = _group_params(graph, ranges, int16)
    weight_q = {}
    floors = {} if int16 else _bias_weight_scale_floors(graph, params)
    for name, t in graph.tensors.items():
        if t.role == "weight":
            t.data, weight_q[name] = _quantize_weight(t.data, t.channel_axis,
                                                      floors.get(name, 0.0))
            params[name] = weight_q[name]
        elif t.role == "operand":
            t.data = _quantize_with(t.data, params[name], int16)
        elif t.role == "lowest":   # PADV2's pad value for a max pool: the lowest value
            t.data = np.full(t.shape, -32768, np.int16) if int16 else np.full(t.shape, -128, np.int8)
    params.update(_state16_params(graph, ranges))
    _lstm_biases(graph, params, weight_q)
    bias_scale, float_bias = {}, {}
    for op in graph.ops:
        io = weighted_io(graph, op)
        if io is None or io[2] is None:
            continue
        act, weight, position = io
        bias = graph.tensors[op.inputs[position]]
        scale = (params[act].scale[0].astype(np.float64)
                 * weight_q[weight].scale.astype(np.float64))
        if bias.name in bias_scale and not np.array_equal(bias_scale[bias.name], scale):
            clone = f"{bias.name}/for_{op.outputs[0]}"
            graph.tensors[clone] = Tensor(clone, bias.shape, "bias", float_bias[bias.name])
            op.inputs[position] = clone
            bias = graph.tensors[clone]
        if bias.name not in bias_scale:
            bias_scale[bias.name] = scale
            float_bias[bias.name] = bias.data
            q = np.round(bias.data.astype(np.float64) / scale)
            bias.data = (q.astype(np.int64) if int16
                         else np.clip(q, -2**31, 2**31 - 1).astype(np.int32))
            params[bias.name] = QParams(scale.astype(np.float32), np.zeros(len(scale), np.int64), 0)
    return params
