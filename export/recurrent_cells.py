"""The arithmetic of an unrolled ONNX RNN / GRU / LSTM node, as primitive ONNX nodes.

The pieces `lowerers_recurrent.expand_node` assembles (see that module for the unrolled form
and why it is ONNX): `Expansion` (what a node becomes), `Builder` (emits nodes, names every
tensor `<node output>/<what>`), the node's attributes and activations, the checks of what
is not unrolled, and the per-direction step loop (`run_direction`) for each cell with ONNX's
gate orders (GRU z, r, h; LSTM i, o, f, c). Every weight slice is one constant named per
direction, so all steps read the same tensor.

May import: numpy, onnx, rnnedge.errors.
"""

from dataclasses import dataclass, field

import numpy as np
from onnx import helper

from rnnedge.errors import RnnedgeError

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
DEFAULT_ACTIVATIONS = {"RNN": ("Tanh",), "GRU": ("Sigmoid", "Tanh"),
                       "LSTM": ("Sigmoid", "Tanh", "Tanh")}
# ONNX activation name -> (ONNX op, its attribute names fed by activation_alpha / _beta, defaults)
ACTIVATIONS = {
    "sigmoid": ("Sigmoid", (), ()), "tanh": ("Tanh", (), ()), "relu": ("Relu", (), ()),
    "leakyrelu": ("LeakyRelu", ("alpha",), (0.01,)),
    "hardsigmoid": ("HardSigmoid", ("alpha", "beta"), (0.2, 0.5)),
    "elu": ("Elu", ("alpha",), (1.0,)), "softsign": ("Softsign", (), ()),
    "softplus": ("Softplus", (), ()), "thresholdedrelu": ("ThresholdedRelu", ("alpha",), (1.0,)),
}
DIRECTIONS = {"forward": (False,), "reverse": (True,), "bidirectional": (False, True)}


@dataclass
class Expansion:
    """What one recurrent node becomes: primitive nodes in execution order, the constants
    they read ({name: array}), the static shape of every tensor they write, the nodes
    after it whose work they absorbed (views of Y, Gathers of Y_h), and `views`: {tensor:
    the tensor it re-shapes} for the input flattened to (T*N, I), which only ONNX's 2-D Gemm
    needs (FULLY_CONNECTED reads the (T, N, I) input as T*N rows as it is); `states`:
    {(direction, "h" or "c"): the state tensors of its steps}, whose ranges a fused LSTM's
    states take."""
    nodes: list = field(default_factory=list)
    consts: dict = field(default_factory=dict)
    shapes: dict = field(default_factory=dict)
    absorbed: list = field(default_factory=list)
    views: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)


class Builder:
    """Emits the nodes of one expansion; names every tensor `<base>/<what>`."""

    def __init__(self, base, source):
        self.base, self.source = base, source
        self.out = Expansion()

    def const(self, what, value):
        """A float32 constant (initializer) named after the node; returns its name."""
        name = f"{self.base}/{what}"
        self.out.consts[name] = np.ascontiguousarray(value, dtype=np.float32)
        return name

    def node(self, op_type, inputs, shapes, what, **attrs):
        """Append a node writing len(shapes) tensors; returns their names (one: the name)."""
        outputs = [f"{self.base}/{what}" if len(shapes) == 1 else f"{self.base}/{what}_{i}"
                   for i in range(len(shapes))]
        return self.named(op_type, inputs, outputs, shapes, **attrs)

    def named(self, op_type, inputs, outputs, shapes, **attrs):
        """Append a node with given output names; returns them (one: the name)."""
        self.out.nodes.append(helper.make_node(op_type, list(inputs), list(outputs),
                                               name=f"{self.source}/{outputs[0]}", **attrs))
        for name, shape in zip(outputs, shapes):
            self.out.shapes[name] = tuple(int(d) for d in shape)
        return outputs[0] if len(outputs) == 1 else outputs

    def int64(self, what, values):
        """An int64 constant (shapes, split sizes)."""
        name = f"{self.base}/{what}"
        self.out.consts[name] = np.asarray(values, dtype=np.int64)
        return name

    def reshape(self, x, shape, what, name=None):
        """Reshape x to `shape` (a given output name, or a new one)."""
        shape_name = self.int64(f"{what}/shape", shape)
        if name is None:
            return self.node("Reshape", [x, shape_name], [shape], what)
        return self.named("Reshape", [x, shape_name], [name], [shape])

    def split(self, x, axis, sizes, what, opset):
        """Split x along `axis` into pieces of `sizes` (one piece: x itself)."""
        if len(sizes) == 1:
            return [x]
        shape = self.out.shapes[x]
        shapes = []
        for s in sizes:
            piece = list(shape)
            piece[axis] = s
            shapes.append(piece)
        if opset >= 13:
            return self.node("Split", [x, self.int64(f"{what}/sizes", sizes)], shapes, what,
                             axis=axis)
        return self.node("Split", [x], shapes, what, axis=axis, split=list(sizes))

    def concat(self, parts, axis, what, name=None):
        """Concat parts along `axis` (one part: itself, unless a name is required)."""
        shape = list(self.out.shapes[parts[0]])
        shape[axis] = sum(self.out.shapes[p][axis] for p in parts)
        if len(parts) == 1 and name is None:
            return parts[0]
        if name is None:
            return self.node("Concat", parts, [shape], what, axis=axis)
        return self.named("Concat", parts, [name], [shape], axis=axis)


def attributes(node):
    """The node's attributes (strings and string lists decoded)."""
    out = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode() for v in value]
        out[a.name] = value
    return out


def node_activations(node, attrs, directions):
    """[(op type, {attribute: value})] per direction: the node's activations."""
    where = f"{node.op_type} {node.name or node.output[0]}"
    names = list(attrs.get("activations") or DEFAULT_ACTIVATIONS[node.op_type] * directions)
    per = len(DEFAULT_ACTIVATIONS[node.op_type])
    if len(names) != per * directions:
        raise RnnedgeError(f"{where}: {len(names)} activations given, {per * directions} "
                           "expected (one set per direction)")
    alphas = list(attrs.get("activation_alpha", []))
    betas = list(attrs.get("activation_beta", []))
    result = []
    for name in names:
        key = name.lower()
        if key not in ACTIVATIONS:
            raise RnnedgeError(f"{where}: activation {name} has no TFLite form; use Sigmoid, "
                               "Tanh, Relu, LeakyRelu, HardSigmoid, Elu, Softsign, Softplus or "
                               "ThresholdedRelu")
        op_type, keys, defaults = ACTIVATIONS[key]
        values = {}
        for attr_name, default in zip(keys, defaults):
            source = alphas if attr_name == "alpha" else betas
            values[attr_name] = float(source.pop(0)) if source else default
        result.append((op_type, values))
    return [result[i * per:(i + 1) * per] for i in range(directions)]


def check_supported(view, node, attrs, steps):
    """RnnedgeError for what the unrolled form does not implement."""
    where = f"{node.op_type} {node.name or node.output[0]}"
    if "clip" in attrs:
        raise RnnedgeError(f"{where}: cell clipping (clip) has no int8 TFLite form; export "
                           "without it")
    if attrs.get("input_forget", 0):
        raise RnnedgeError(f"{where}: input_forget (coupled gates) is not supported; export "
                           "a plain LSTM")
    if attrs.get("direction", "forward") not in DIRECTIONS:
        raise RnnedgeError(f"{where}: unknown direction {attrs['direction']}")
    if len(node.input) > 4 and node.input[4]:
        if node.input[4] not in view.consts:
            raise RnnedgeError(f"{where}: sequence_lens must be a constant equal to the "
                               f"sequence length {steps}; export with fixed-length sequences")
        lens = np.asarray(view.consts[node.input[4]])
        if lens.size and not np.all(lens == steps):
            raise RnnedgeError(f"{where}: sequence_lens {lens.tolist()} differ from the sequence "
                               f"length {steps}; only full-length sequences are unrolled")
    if node.op_type == "LSTM" and len(node.input) > 7 and node.input[7]:
        peep = view.consts.get(node.input[7])
        if peep is None or np.any(peep != 0):
            raise RnnedgeError(f"{where}: peephole weights (input P) are not supported; export "
                               "an LSTM without peepholes")


def initial_state(view, b, node, index, directions, batch, hidden, what, opset):
    """The initial state input `index` per direction: None (absent or all zero), a constant
    name, or an activation name of shape (N, H)."""
    if len(node.input) <= index or not node.input[index]:
        return [None] * directions
    name = node.input[index]
    if name in view.consts:
        value = np.asarray(view.consts[name], np.float32).reshape(directions, batch, hidden)
        return [None if not np.any(v) else b.const(f"{what}{d}", v)
                for d, v in enumerate(value)]
    flat = b.reshape(name, (directions * batch, hidden), f"{what}/flat")
    return b.split(flat, 0, [batch] * directions, f"{what}/split", opset)


def _matmul(b, state, weight, bias, what, batch, param):
    """state @ weight^T (+ bias): a Gemm, or a constant when the state is constant. `param`
    names the weight (and bias) once for all steps, so every step reads the same tensor."""
    if state in b.out.consts:
        value = b.out.consts[state] @ weight.T + (0.0 if bias is None else bias)
        return b.const(what, value)
    inputs = [state, b.const(f"{param}/weight", weight)]
    if bias is not None and np.any(bias):
        inputs.append(b.const(f"{param}/bias", bias))
    return b.node("Gemm", inputs, [(batch, weight.shape[0])], what, transB=1)


def _apply(b, activation, x, what):
    """An activation node on x."""
    op_type, values = activation
    return b.node(op_type, [x], [b.out.shapes.get(x) or b.out.consts[x].shape], what, **values)


def _binary(b, op_type, x, y, what):
    """A binary elementwise node (the shape of its activation operand)."""
    shape = b.out.shapes.get(x) or b.out.shapes.get(y) or b.out.consts[x].shape
    return b.node(op_type, [x, y], [shape], what)


def _projection(b, x_flat, weight, bias, steps, batch, what, opset):
    """The input projection of all steps in one Gemm, split into the steps."""
    p = b.node("Gemm", [x_flat, b.const(f"{what}/weight", weight), b.const(f"{what}/bias", bias)],
               [(steps * batch, weight.shape[0])], what, transB=1)
    return b.split(p, 0, [batch] * steps, f"{what}/steps", opset)


def run_direction(b, cell, d, order, acts, x_flat, w, r, bias, h, c, dims, lbr, opset):
    """Run one direction; returns ({position t: h_t}, last h, last c)."""
    steps, batch, hidden = dims
    wb, rb = bias[:bias.size // 2], bias[bias.size // 2:]
    states, tag = {}, f"d{d}"
    cells = b.out.states.setdefault((d, "c"), [])
    b.out.states[(d, "h")] = [f"{b.base}/{tag}/t{t}/h" for t in order]
    if cell in ("RNN", "LSTM"):
        p = _projection(b, x_flat, w, wb + rb, steps, batch, f"{tag}/proj", opset)
        for t in order:
            what = f"{tag}/t{t}"
            pre = p[t] if h is None else _binary(
                b, "Add", p[t], _matmul(b, h, r, None, f"{what}/rec", batch, f"{tag}/rec"),
                f"{what}/pre")
            if cell == "RNN":
                h = _apply(b, acts[0], pre, f"{what}/h")
            else:
                h, c = _lstm_gates(b, acts, pre, c, hidden, what, opset)
                cells.append(c)
            states[t] = h
        return states, h, c
    two = 2 * hidden
    p_zr = _projection(b, x_flat, w[:two], wb[:two] + rb[:two], steps, batch, f"{tag}/proj_zr",
                       opset)
    p_h = _projection(b, x_flat, w[two:], wb[two:] + (0.0 if lbr else rb[two:]), steps, batch,
                      f"{tag}/proj_h", opset)
    for t in order:
        what = f"{tag}/t{t}"
        pre = p_zr[t] if h is None else _binary(
            b, "Add", p_zr[t], _matmul(b, h, r[:two], None, f"{what}/rec_zr", batch,
                                       f"{tag}/rec_zr"),
            f"{what}/pre_zr")
        z, g_r = b.split(_apply(b, acts[0], pre, f"{what}/zr"), 1, [hidden, hidden],
                         f"{what}/zr_split", opset)
        if lbr:                                   # r * (R_h h + Rb_h)
            rec = (b.const(f"{what}/rb_h", np.broadcast_to(rb[two:], (batch, hidden)))
                   if h is None and np.any(rb[two:]) else
                   None if h is None else _matmul(b, h, r[two:], rb[two:], f"{what}/rec_h", batch,
                                                   f"{tag}/rec_h"))
            gated = None if rec is None else _binary(b, "Mul", g_r, rec, f"{what}/r_rec")
        else:                                     # R_h (r * h)
            gated = None if h is None else _matmul(
                b, _binary(b, "Mul", g_r, h, f"{what}/r_h"), r[two:], None, f"{what}/rec_h", batch,
                f"{tag}/rec_h")
        n_pre = p_h[t] if gated is None else _binary(b, "Add", p_h[t], gated, f"{what}/pre_h")
        n = _apply(b, acts[1], n_pre, f"{what}/n")
        if h is None:                             # h = (1 - z) n
            h = _binary(b, "Sub", n, _binary(b, "Mul", z, n, f"{what}/zn"), f"{what}/h")
        else:                                     # h = n + z (h - n)
            diff = _binary(b, "Sub", h, n, f"{what}/h_n")
            h = _binary(b, "Add", n, _binary(b, "Mul", z, diff, f"{what}/z_h_n"), f"{what}/h")
        states[t] = h
    return states, h, None


def _lstm_gates(b, acts, pre, c, hidden, what, opset):
    """One LSTM step from its gate pre-activations (iofc order); returns (h, c)."""
    s_in, c_in = b.split(pre, 1, [3 * hidden, hidden], f"{what}/gates", opset)
    i, o, f = b.split(_apply(b, acts[0], s_in, f"{what}/iof"), 1, [hidden] * 3,
                      f"{what}/iof_split", opset)
    ig = _binary(b, "Mul", i, _apply(b, acts[1], c_in, f"{what}/g"), f"{what}/ig")
    c = ig if c is None else _binary(b, "Add", _binary(b, "Mul", f, c, f"{what}/fc"), ig,
                                     f"{what}/c")
    return _binary(b, "Mul", o, _apply(b, acts[2], c, f"{what}/c_act"), f"{what}/h"), c
