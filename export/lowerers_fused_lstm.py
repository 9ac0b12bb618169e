"""`--lstm fused`: an ONNX LSTM node as TFLM's UNIDIRECTIONAL_SEQUENCE_LSTM, one op a direction.

Why an option: the unrolled form (lowerers_recurrent.py) is the default because every op of
it is an ordinary builtin that Vela places on the NPU and the in-place planner lays out; the
fused op is one TFLM kernel a layer, far fewer ops (a smaller TFLM tail), its state kept in
VARIABLE tensors, and it runs on the CPU.

The op is written in the form TF's converter gives a Keras LSTM (TFLM's integer LSTM,
int8 x int8 -> int16 cell): 24 inputs, four input and four recurrent int8 weight matrices
(per tensor, TFLite's gate order i, f, c, o; ONNX's is i, o, f, c), four int32 gate biases
(Wb + Rb, at input scale x input weight scale), no peephole / projection / layer norm, an
int8 output-state VARIABLE (the output's quantisation) and an int16 cell-state VARIABLE with
a power-of-two scale, and the five intermediates TFLite's kernel reads (four int16 gate
tensors at 2^-12, the hidden state at the output's quantisation; TFLM does not read them);
fused activation TANH, no clip, time_major as the input is laid out.
The ranges come from the unrolled graph the calibration runs (the states of every step).

Directions: reverse is the input flipped along time (SPLIT + CONCATENATION), the op, and the
output flipped back; bidirectional is both, concatenated on the channel axis. Y_h is the
last step of each direction (STRIDED_SLICE). Not fused (one-line error naming the node and
saying to drop --lstm fused): non-default activations, initial states other than zero (the
op's state starts at zero), and a used Y_c (the op does not output its cell state).

May import: numpy, onnx, rnnedge.errors, rnnedge.export.graph_ir,
rnnedge.export.{lowerers_recurrent, recurrent_cells}; rnnedge.export.lowerers (LOWERERS, at
call time).
"""

import numpy as np
from onnx import helper

from rnnedge.errors import RnnedgeError
from rnnedge.export.graph_ir import Tensor
from rnnedge.export.lowerers_recurrent import (expand_node, read_through_batch_transpose,
                                               state_gather, y_views)
from rnnedge.export.recurrent_cells import DIRECTIONS, attributes

ONNX_TO_TFLITE_GATES = (0, 2, 3, 1)   # ONNX i, o, f, c -> TFLite i, f, c, o
TFLITE_GATES = ("input", "forget", "cell", "output")


def _refuse(node, why):
    """The one-line error for an LSTM the fused op cannot take."""
    where = node.name or node.output[0]
    raise RnnedgeError(f"LSTM {where}: {why}; the fused UNIDIRECTIONAL_SEQUENCE_LSTM cannot "
                       "take it, export without --lstm fused (unrolled)")


def _check_fusable(low, node, attrs, dirs):
    """Refuse what UNIDIRECTIONAL_SEQUENCE_LSTM cannot express."""
    acts = [a.lower() for a in attrs.get("activations", [])]
    if acts and acts != ["sigmoid", "tanh", "tanh"] * dirs:
        _refuse(node, f"activations {attrs['activations']} are not the defaults")
    for index in (5, 6):
        name = node.input[index] if len(node.input) > index else ""
        if name and (name not in low.consts or np.any(low.consts[name])):
            _refuse(node, "a non-zero initial state is given")
    if len(node.output) > 2 and node.output[2] and (
            node.output[2] in low.out_names or low.consumers.get(node.output[2])):
        _refuse(node, "its cell state Y_c is used")


class _Nodes:
    """ONNX movement nodes (Split, Concat, Slice, Reshape) lowered at once by the op table."""

    def __init__(self, low, base, lowerers, attrs_of):
        self.low, self.base, self.lowerers, self.attrs_of = low, base, lowerers, attrs_of

    def emit(self, op_type, inputs, outputs, shapes, **attrs):
        """Lower one node whose outputs have the given (ONNX = held, rank <= 3) shapes."""
        for name, shape in zip(outputs, shapes):
            self.low.shapes[name] = tuple(int(d) for d in shape)
        node = helper.make_node(op_type, inputs, outputs, name=f"{self.base}/{outputs[0]}", **attrs)
        self.lowerers[op_type](self.low, node, self.attrs_of(node))
        return outputs[0] if len(outputs) == 1 else outputs

    def const(self, name, values):
        """An int64 constant input (sizes, starts, shapes)."""
        self.low.consts[name] = np.asarray(values, np.int64)
        return name

    def flip(self, x, axis, name):
        """x reversed along `axis` (the paper's eq. 10: SPLIT + CONCATENATION, no GATHER)."""
        shape = list(self.low.shapes[x])
        steps = shape[axis]
        if steps == 1:
            return x
        piece = list(shape)
        piece[axis] = 1
        parts = self.emit("Split", [x, self.const(f"{name}/sizes", [1] * steps)],
                          [f"{name}/step{t}" for t in range(steps)], [piece] * steps, axis=axis)
        return self.emit("Concat", parts[::-1], [name], [shape], axis=axis)


def _fused_op(low, src, time_major, w, r, bias, names, dims):
    """Emit one UNIDIRECTIONAL_SEQUENCE_LSTM over `src`; returns its output tensor."""
    steps, batch, hidden = dims
    base, h_names, c_names = names
    wb, rb = bias[:4 * hidden], bias[4 * hidden:]
    inputs = [src]
    for kind, matrix in (("input", w), ("recurrent", r)):
        for gate, g in zip(TFLITE_GATES, ONNX_TO_TFLITE_GATES):
            inputs.append(low.const(f"{base}/{kind}_to_{gate}_weights",
                                    np.ascontiguousarray(matrix[g * hidden:(g + 1) * hidden]),
                                    "weight"))
    inputs += [None] * 3                                        # no peepholes
    for gate, g in zip(TFLITE_GATES, ONNX_TO_TFLITE_GATES):
        inputs.append(low.const(f"{base}/{gate}_gate_bias",
                                (wb + rb)[g * hidden:(g + 1) * hidden].astype(np.float32), "bias"))
    inputs += [None] * 2                                        # no projection
    state, cell = f"{base}/output_state", f"{base}/cell_state"
    low.tensors[state] = Tensor(state, (batch, hidden), variable=True)
    low.tensors[cell] = Tensor(cell, (batch, hidden), "state16", variable=True,
                               range_of=tuple(c_names))
    inputs += [state, cell] + [None] * 4                        # no layer norm
    out = f"{base}/output"
    shape = (steps, batch, hidden) if time_major else (batch, steps, hidden)
    low.tensors[out] = Tensor(out, shape, range_of=tuple(h_names))
    low.shapes[out] = shape
    intermediates = [f"{base}/{gate}_gate_intermediate" for gate in TFLITE_GATES]
    for name in intermediates:                                  # TFLite's fixed Q3.12
        low.tensors[name] = Tensor(name, (0,), "gate16")        # TFLM: no bytes
    intermediates.append(f"{base}/hidden_intermediate")         # = the output state's
    low.tensors[intermediates[-1]] = Tensor(intermediates[-1], (0,))
    low.emit("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [out], base, activation="TANH",
             time_major=time_major, intermediates=intermediates)
    return out


def lower_fused_lstm(low, node):
    """Lower an ONNX LSTM node as one UNIDIRECTIONAL_SEQUENCE_LSTM per direction."""
    from rnnedge.export.lowerers import LOWERERS, onnx_attrs
    attrs = attributes(node)
    expansion = expand_node(low, node)          # validates; names the states' ranges
    dirs = len(DIRECTIONS[attrs.get("direction", "forward")])
    _check_fusable(low, node, attrs, dirs)
    hidden = int(attrs["hidden_size"])
    x = node.input[0]
    steps, batch, features = low.shape(x)
    if attrs.get("layout", 0):
        steps, batch = batch, steps
    read_through_batch_transpose(low, x)
    src = low.name(x)
    time_major = low.tensors[src].shape[:2] == (steps, batch)
    low.shapes.setdefault(src, low.tensors[src].shape)
    time_axis = 0 if time_major else 1
    w = np.asarray(low.consts[node.input[1]], np.float32).reshape(dirs, 4 * hidden, features)
    r = np.asarray(low.consts[node.input[2]], np.float32).reshape(dirs, 4 * hidden, hidden)
    b = (np.asarray(low.consts[node.input[3]], np.float32).reshape(dirs, 8 * hidden)
         if len(node.input) > 3 and node.input[3] else np.zeros((dirs, 8 * hidden), np.float32))
    base = node.output[0] or node.name
    nodes = _Nodes(low, base, LOWERERS, onnx_attrs)
    outs = []
    for d, reverse in enumerate(DIRECTIONS[attrs.get("direction", "forward")]):
        names = (f"{base}/fused{d}", expansion.states[(d, "h")], expansion.states[(d, "c")])
        source = nodes.flip(src, time_axis, f"{base}/fused{d}/input_flipped") if reverse else src
        out = _fused_op(low, source, time_major, w[d], r[d], b[d], names, (steps, batch, hidden))
        outs.append(nodes.flip(out, time_axis, f"{out}_flipped") if reverse else out)
    _outputs(low, node, nodes, outs, time_axis, (steps, batch, hidden))


def _outputs(low, node, nodes, outs, time_axis, dims):
    """Y (through the views torch puts after it) and Y_h from the directions' outputs (in
    time order; a reverse direction's last state is at time 0)."""
    steps, batch, hidden = dims
    dirs, base = len(outs), node.output[0] or node.name
    y = node.output[0]
    y_used = y and (y in low.out_names or low.consumers.get(y))
    if y_used:
        shape = list(low.shapes[outs[0]])
        shape[2] = dirs * hidden
        both = outs[0] if dirs == 1 else nodes.emit("Concat", outs, [f"{base}/fused_y"],
                                                    [shape], axis=2)
        views = y_views(low, y, dirs, steps, batch) if time_axis == 0 or batch == 1 else None
        target, target_shape = y, low.shape(y)
        if views is not None and views[2] is not None:
            for n in views[0]:
                low.skip.add(n.output[0])
            target, target_shape = views[1], views[2]
        elif dirs > 1 and batch > 1:
            _refuse(node, "its output Y is used in the (T, D, N, H) layout")
        nodes.emit("Reshape", [both, nodes.const(f"{target}/fused_shape", target_shape)],
                   [target], [target_shape])
    y_h = node.output[1] if len(node.output) > 1 else ""
    users = low.consumers.get(y_h, []) if y_h else []
    if not y_h or not (users or y_h in low.out_names):
        return
    last = []
    reverse = DIRECTIONS[attributes(node).get("direction", "forward")]
    for d, out in enumerate(outs):
        begin, end = [0, 0, 0], list(low.shapes[out])
        begin[time_axis] = 0 if reverse[d] else steps - 1
        end[time_axis] = begin[time_axis] + 1
        shape = list(low.shapes[out])
        shape[time_axis] = 1
        last.append(nodes.emit("Slice", [out, nodes.const(f"{out}/last_begin", begin),
                                         nodes.const(f"{out}/last_end", end)],
                               [f"{out}/last"], [shape]))
    taken = [g for g in users if state_gather(low, g) is not None]
    for g in taken:                               # h_n[d]: that direction's last step
        low.skip.add(g.output[0])
        nodes.emit("Reshape", [last[state_gather(low, g) % dirs],
                               nodes.const(f"{g.output[0]}/fused_shape", (batch, hidden))],
                   [g.output[0]], [(batch, hidden)])
    if len(taken) < len(users) or y_h in low.out_names:
        stacked = last[0] if dirs == 1 else nodes.emit(
            "Concat", last, [f"{base}/fused_last"], [(dirs, 1, hidden) if time_axis else
                                                     (dirs, batch, hidden)], axis=0)
        nodes.emit("Reshape", [stacked, nodes.const(f"{y_h}/fused_shape", (dirs, batch, hidden))],
                   [y_h], [(dirs, batch, hidden)])
