"""ONNX RNN, GRU and LSTM nodes unrolled into static primitive ONNX nodes, every weight once.

Why a rewrite into ONNX primitives: the unrolled form is then ordinary ONNX (Gemm, Add, Mul,
Sub, Sigmoid, Tanh, Relu, Split, Concat, Reshape), so
- the lowering turns it into TFLite builtins with the per-op lowerers that already exist
  (Gemm -> FULLY_CONNECTED, Split -> SPLIT/SPLIT_V, ...), and nothing about an op is known
  in two places;
- the calibration (onnxruntime on the ONNX graph) sees every per-step tensor under the very
  name the lowering gives it, so each gets a calibrated int8 range (`calibration_model`);
- onnxruntime runs the unrolled graph, which checks it against its own RNN/GRU/LSTM kernels.
`expand_node` is the one home of the recurrent arithmetic; `lower_recurrent` (the LOWERERS
entry of RNN/GRU/LSTM) lowers its nodes in place, `calibration_model` puts them into a copy
of the model for the range collection.

The unrolled form of one direction (T steps, batch N, hidden H; ONNX gate orders):
  P = Gemm(X viewed as (T*N, I), W^T, Wb + Rb)   the input projection of all steps, ONE op
  P_0 .. P_{T-1} = Split(P, axis 0)              one op
  RNN : h_t = f(P_t + Gemm(h_{t-1}, R^T))                        3 ops a step (f = Relu: 2,
        the Relu fused into the ADD)
  GRU : zr = f(P_zr,t + Gemm(h, R_zr^T)); z, r = Split(zr)
        n = g(P_h,t + r * Gemm(h, R_h^T, Rb_h))      (linear_before_reset = 1, torch's)
        n = g(P_h,t + Gemm(r * h, R_h^T))            (linear_before_reset = 0; Rb_h in P)
        h_t = n + z * (h - n)                                    11 ops a step
  LSTM: a = P_t + Gemm(h, R^T); s, c~ = Split(a, [3H, H]); i, o, f = Split(f(s))
        c_t = f * c + i * g(c~); h_t = o * h(c_t)                11 ops a step
W, R and the biases are sliced per direction (and, for GRU, into the z/r and h gates) once:
each slice is one initializer read by every step, so the duplication factor stays 1.00.
Zero initial states (torch's default) remove the first step's recurrent product; a constant
state's products are folded here; a state given as a graph input is used as it is. The
reverse direction walks the same split projection backwards; bidirectional is both
directions, their outputs concatenated once on the channel axis.

Outputs: Y_h / Y_c are the last states (a Gather of one direction's state is that state, no
op). Y is the states concatenated along time; the view ops torch puts after it (Squeeze of the
direction axis, Transpose(0, 2, 1, 3) + Reshape for bidirectional, Transpose(1, 0, 2) for
batch_first with batch 1) are absorbed: they only rename bytes that are already in the
order the concatenation writes, so the result is one RESHAPE. Anything else gets Y as ONNX
defines it (Reshape, Transpose).

Not lowered (one-line RnnedgeError naming node and attribute): LSTM peepholes (P),
input_forget, clip, a sequence_lens other than T everywhere, and activations without an ONNX
op (Affine, ScaledTanh); the others (Sigmoid, Tanh, Relu, LeakyRelu, HardSigmoid, Elu,
Softsign, Softplus, ThresholdedRelu) become their ONNX nodes and are lowered when the op table
lowers them.

May import: numpy, onnx, rnnedge.errors; at call time rnnedge.export.lowerers (LOWERERS),
rnnedge.export.lowerers_fused_lstm (--lstm fused) and rnnedge.export.lowering
(LoweringContext, for `calibration_model`).
"""

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import helper, numpy_helper

from rnnedge.errors import RnnedgeError

RECURRENT_OPS = ("RNN", "GRU", "LSTM")
LSTM_FORMS = ("unrolled", "fused")   # how LSTM nodes are lowered (`export --lstm`); default first
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


class _Builder:
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


def _activations(node, attrs, directions):
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


def _state(view, b, node, index, directions, batch, hidden, what, opset):
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


def _direction(b, cell, d, order, acts, x_flat, w, r, bias, h, c, dims, lbr, opset):
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
                b, "Add", p[t], _matmul(b, h, r, None, f"{what}/rec", batch, f"{tag}/rec"), f"{what}/pre")
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


def _single_user(view, name, op_type):
    """The only consumer of `name` when it has op_type and `name` is not a graph output."""
    users = view.consumers.get(name, [])
    if len(users) == 1 and users[0].op_type == op_type and name not in view.out_names:
        return users[0]
    return None


def _squeeze_axes(view, node):
    """The axes of a Squeeze node (attribute or constant input), or None."""
    if len(node.input) > 1 and node.input[1]:
        return [int(a) for a in np.asarray(view.consts.get(node.input[1], [-99])).reshape(-1)]
    return list(attributes(node).get("axes", [])) or None


def y_views(view, y, directions, steps, batch):
    """The chain of view nodes after Y that only rename the bytes of the time-major
    (T, N, D*H) concatenation: (absorbed nodes, final tensor name, its shape) or None."""
    chain = []
    if directions == 1:
        sq = _single_user(view, y, "Squeeze")
        if sq is None or _squeeze_axes(view, sq) not in ([1], [-3]):
            return None
        chain, last = [sq], sq.output[0]
    else:
        tr = _single_user(view, y, "Transpose")
        if tr is None or list(attributes(tr).get("perm", [])) != [0, 2, 1, 3]:
            return None
        rs = _single_user(view, tr.output[0], "Reshape")
        if rs is None or rs.output[0] not in view.shapes:
            return None
        chain, last = [tr, rs], rs.output[0]
    after = _single_user(view, last, "Transpose")
    if (batch == 1 and after is not None and last in view.shapes and len(view.shapes[last]) == 3
            and list(attributes(after).get("perm", [])) == [1, 0, 2]):
        chain, last = chain + [after], after.output[0]
    return chain, last, view.shapes.get(last)


def expand_node(view, node, opset=17):
    """The Expansion of one RNN/GRU/LSTM node. `view` exposes the ONNX graph as the lowering
    context does: `consts` {name: array}, `shapes` {name: static shape}, `consumers`
    {name: [nodes]}, `out_names` (graph outputs) and `name(onnx_name)` is not used: the
    expansion reads the node's inputs under their ONNX names."""
    attrs = attributes(node)
    where = f"{node.op_type} {node.name or node.output[0]}"
    cell = node.op_type
    if node.input[0] not in view.shapes and node.input[0] not in view.consts:
        raise RnnedgeError(f"{where}: the input {node.input[0]} has no static shape; export "
                           "with a fixed input shape (--input-shape)")
    x_shape = tuple(view.shapes.get(node.input[0], ()))
    layout = attrs.get("layout", 0)
    if len(x_shape) != 3:
        raise RnnedgeError(f"{where}: input of rank {len(x_shape)}, expected (T, N, I)")
    steps, batch, features = x_shape if layout == 0 else (x_shape[1], x_shape[0], x_shape[2])
    if layout == 1 and batch != 1:
        raise RnnedgeError(f"{where}: layout=1 (batch-major) with batch {batch} is not "
                           "supported; export with batch 1 or layout 0")
    check_supported(view, node, attrs, steps)
    for i in (1, 2):
        if node.input[i] not in view.consts:
            raise RnnedgeError(f"{where}: the weights ({node.input[i]}) must be constants")
    hidden = int(attrs["hidden_size"])
    gates = GATES[cell]
    reverse = DIRECTIONS[attrs.get("direction", "forward")]
    dirs = len(reverse)
    w_all = np.asarray(view.consts[node.input[1]], np.float32).reshape(dirs, gates * hidden,
                                                                          features)
    r_all = np.asarray(view.consts[node.input[2]], np.float32).reshape(dirs, gates * hidden, hidden)
    if len(node.input) > 3 and node.input[3]:
        if node.input[3] not in view.consts:
            raise RnnedgeError(f"{where}: the bias ({node.input[3]}) must be a constant")
        b_all = np.asarray(view.consts[node.input[3]], np.float32).reshape(dirs, 2 * gates * hidden)
    else:
        b_all = np.zeros((dirs, 2 * gates * hidden), np.float32)
    acts = _activations(node, attrs, dirs)
    b = _Builder(node.output[0] if node.output and node.output[0] else node.name, node.name)
    x = node.input[0]
    x_flat = b.reshape(x, (steps * batch, features), "x_flat")
    b.out.views[x_flat] = x
    h0 = _state(view, b, node, 5, dirs, batch, hidden, "h0", opset)
    c0 = (_state(view, b, node, 6, dirs, batch, hidden, "c0", opset) if cell == "LSTM"
          else [None] * dirs)
    lbr = int(attrs.get("linear_before_reset", 0))
    results = []
    for d, rev in enumerate(reverse):
        order = range(steps - 1, -1, -1) if rev else range(steps)
        results.append(_direction(b, cell, d, order, acts[d], x_flat, w_all[d], r_all[d],
                                  b_all[d], h0[d], c0[d], (steps, batch, hidden), lbr, opset))
    _outputs(view, b, node, results, (steps, batch, hidden), layout)
    return b.out


def _outputs(view, b, node, results, dims, layout):
    """Y, Y_h, Y_c from the per-direction states."""
    steps, batch, hidden = dims
    dirs = len(results)
    outs = list(node.output) + [""] * (3 - len(node.output))
    wanted = [o if o and (o in view.out_names or view.consumers.get(o)) else "" for o in outs]
    if wanted[0]:
        per_dir = [b.concat([states[t] for t in range(steps)], 0, f"y/d{d}")
                   for d, (states, _, _) in enumerate(results)]
        y_flat = b.concat(per_dir, 1, "y_flat")       # (T*N, D*H), time-major
        views = y_views(view, wanted[0], dirs, steps, batch) if layout == 0 else None
        if views is not None and views[2] is not None:
            absorbed, last, shape = views
            b.out.absorbed.extend(absorbed)
            b.reshape(y_flat, shape, "y", name=last)
        else:
            _y_generic(b, y_flat, wanted[0], dims, dirs, layout)
    for k in (1, 2):
        if not wanted[k]:
            continue
        finals = [r[k] for r in results]
        users = view.consumers.get(wanted[k], [])
        taken = [g for g in users if layout == 0 and state_gather(view, g) is not None]
        for g in taken:                           # Y_h[d] is direction d's last state: no op
            b.out.absorbed.append(g)
            b.named("Identity", [finals[state_gather(view, g) % dirs]], [g.output[0]],
                    [(batch, hidden)])
        if len(taken) == len(users) and wanted[k] not in view.out_names:
            continue
        stacked = b.concat(finals, 0, f"last{k}") if dirs > 1 else finals[0]
        shape = (dirs, batch, hidden) if layout == 0 else (batch, dirs, hidden)
        b.reshape(stacked, shape, f"last{k}", name=wanted[k])


def state_gather(view, node):
    """The index of a Gather that picks one direction of Y_h / Y_c (axis 0, constant scalar
    index), or None."""
    if node.op_type != "Gather" or attributes(node).get("axis", 0) not in (0, -3):
        return None
    index = view.consts.get(node.input[1])
    if index is None or np.asarray(index).ndim != 0:
        return None
    return int(index)


def _y_generic(b, y_flat, name, dims, dirs, layout):
    """Y as ONNX defines it: (T, D, N, H) (layout 0) or (N, T, D, H) (layout 1, batch 1)."""
    steps, batch, hidden = dims
    if layout == 1 or dirs == 1 or batch == 1:    # the same bytes: a reshape
        shape = (steps, dirs, batch, hidden) if layout == 0 else (batch, steps, dirs, hidden)
        b.reshape(y_flat, shape, "y", name=name)
        return
    tnd = b.reshape(y_flat, (steps, batch, dirs, hidden), "y_tnd")
    b.named("Transpose", [tnd], [name], [(steps, dirs, batch, hidden)], perm=[0, 2, 1, 3])


def lower_recurrent(low, node, attrs):
    """The LOWERERS entry of RNN, GRU and LSTM: expand the node and lower its nodes in place
    with the op table's own lowerers (attrs: unused, the expansion reads the node); an LSTM
    under `--lstm fused` (low.lstm) goes to lowerers_fused_lstm instead."""
    from rnnedge.export.lowerers import LOWERERS, onnx_attrs
    if node.op_type == "LSTM" and low.lstm == "fused":
        from rnnedge.export.lowerers_fused_lstm import lower_fused_lstm
        lower_fused_lstm(low, node)
        return
    read_through_batch_transpose(low, node.input[0])
    expansion = expand_node(low, node)
    low.consts.update(expansion.consts)
    low.shapes.update(expansion.shapes)
    for n in expansion.nodes:
        for name in n.input:
            low.consumers.setdefault(name, []).append(n)
    for flat, x in expansion.views.items():
        low.alias[flat] = low.name(x)
    for n in expansion.nodes:
        if n.output[0] in low.skip or n.output[0] in expansion.views:   # fused Relu, view
            continue
        handler = LOWERERS.get(n.op_type)
        if handler is None:
            raise RnnedgeError(f"{node.op_type} {node.name or node.output[0]}: its unrolled form "
                               f"needs ONNX op {n.op_type}, which the int8 exporter cannot "
                               "lower; use Sigmoid, Tanh or Relu activations")
        handler(low, n, onnx_attrs(n))
    for n in expansion.absorbed:                  # views of Y, Gathers of Y_h: done above
        low.skip.add(n.output[0])


def read_through_batch_transpose(low, x):
    """When x is a batch-first input turned time-major (TRANSPOSE (1, 0, 2) of a (1, T, I)
    tensor, torch's batch_first) read only by this node, drop the TRANSPOSE: with batch 1 both
    hold the same bytes, and the input projection reads either."""
    held = low.name(x)
    shape = low.shapes.get(x)
    if (shape is None or len(shape) != 3 or shape[1] != 1 or x in low.out_names
            or len(low.consumers.get(x, [])) != 1):
        return
    for index, op in enumerate(low.ops):
        if op.outputs == [held] and op.kind == "TRANSPOSE":
            perm = low.tensors[op.inputs[1]].data
            if perm is not None and list(perm) == [1, 0, 2]:
                del low.ops[index]
                low.alias[x] = op.inputs[0]
            return


def calibration_model(model):
    """A copy of `model` with every recurrent node replaced by its expansion (the graph the
    calibration runs, so every unrolled tensor gets a range under its lowered name); the
    model itself when it has none."""
    if not any(n.op_type in RECURRENT_OPS for n in model.graph.node):
        return model
    from rnnedge.export.lowering import LoweringContext
    view = LoweringContext(model)
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                default=17)
    expansions = {i: expand_node(view, n, opset) for i, n in enumerate(model.graph.node)
                  if n.op_type in RECURRENT_OPS}
    absorbed = {a.output[0] for e in expansions.values() for a in e.absorbed}
    nodes, consts = [], {}
    for i, node in enumerate(model.graph.node):
        if i in expansions:
            nodes.extend(expansions[i].nodes)
            consts.update(expansions[i].consts)
        elif node.output[0] not in absorbed:
            nodes.append(node)
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    del copy.graph.node[:]
    copy.graph.node.extend(nodes)
    copy.graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items())
    return copy
