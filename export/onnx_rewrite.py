"""ONNX -> ONNX rewrites run before calibration and lowering, so that every tensor the
lowering quantises exists in a graph onnxruntime can run (its calibrated range is measured,
not guessed):

- 1-D Conv / ConvTranspose / MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool on
  (N, C, T) become their 2-D forms on (N, C, 1, T) between an Unsqueeze and a Squeeze;
- BatchNormalization of a non-image tensor folds into the Gemm before it (a constant
  weight, that Gemm its only producer) or becomes Mul + Add by per-channel constants;
- a HardSigmoid that is not torch's HardSwish (x * HardSigmoid(x), alpha 1/6, beta 1/2, fused
  by the lowering) becomes Mul + Add + Clip(0, 1);
- LayerNormalization and InstanceNormalization become ReduceMean, Sub, Mul, Add, Sqrt,
  Reciprocal (lowered to MEAN, SUB, MUL, ADD, RSQRT);
- Gelu, and torch's erf form of it (x / sqrt(2) -> Erf -> + 1 -> * x -> * 0.5), become the
  tanh approximation written as x * Sigmoid(x * (k0 + k1 x^2)) (TFLM has no GELU kernel; the
  tanh form is within 1e-3 of erf GELU, below one int8 step).

A graph without these forms is returned unchanged (the zoo's exports are not touched).

May import: numpy, onnx.
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper


def _attrs(node):
    """The node's attributes as a dict."""
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _opset(model):
    """The model's default-domain opset."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)


class _Rewriter:
    """Collects new nodes and initializers; names are `<original>/rw_<role>`."""

    def __init__(self, model):
        self.model = model
        self.graph = model.graph
        self.opset = _opset(model)
        self.inits = {t.name: t for t in self.graph.initializer}
        for node in self.graph.node:
            if node.op_type == "Constant":
                self.inits.setdefault(node.output[0], numpy_helper.from_array(
                    numpy_helper.to_array(_attrs(node)["value"]), node.output[0]))
        inferred = onnx.shape_inference.infer_shapes(model)
        self.ranks = {vi.name: len(vi.type.tensor_type.shape.dim)
                      for vi in list(inferred.graph.value_info) + list(inferred.graph.input)
                      + list(inferred.graph.output) if vi.type.tensor_type.HasField("shape")}
        self.consumers = {}
        for node in self.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.producer = {o: n for n in self.graph.node for o in n.output}
        self.outputs = {o.name for o in self.graph.output}
        self.new_inits = []
        self.squeezed = {}   # 1-D tensor -> the 2-D tensor holding it (no Squeeze written)

    def const(self, name, value):
        """A new initializer."""
        self.new_inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def value(self, name):
        """A constant's value, or None."""
        return numpy_helper.to_array(self.inits[name]) if name in self.inits else None

    def axes_node(self, op, inputs, output, axes, name, **attrs):
        """A Squeeze/Unsqueeze/Reduce* node with `axes` as the opset wants it."""
        as_input = op in ("Squeeze", "Unsqueeze") or self.opset >= 18
        if as_input:
            return helper.make_node(op, inputs + [self.const(f"{name}/axes",
                                                              np.array(axes, np.int64))],
                                    [output], name=name, **attrs)
        return helper.make_node(op, inputs, [output], name=name, axes=axes, **attrs)


#: ONNX ops that only this module takes (rewritten into ops the lowering has)
REWRITTEN_OPS = ("Gelu", "LayerNormalization", "InstanceNormalization")
SPATIAL = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool",
           "GlobalMaxPool")


def _spatial_1d(rw, node):
    """A 1-D conv/pool on (N, C, T) as its 2-D form between Unsqueeze and Squeeze; the pair
    between two such ops is left out (the 2-D tensor flows on)."""
    a, out, base = _attrs(node), node.output[0], node.name or node.output[0]
    wide = f"{base}/rw_2d_in"
    nodes = []
    if node.input[0] in rw.squeezed:
        wide = rw.squeezed[node.input[0]]
    else:
        nodes.append(rw.axes_node("Unsqueeze", [node.input[0]], wide, [2], f"{base}/rw_unsqueeze"))
    inputs = [wide] + list(node.input[1:])
    if node.op_type in ("Conv", "ConvTranspose") and len(node.input) > 1:
        w = rw.value(node.input[1])
        inputs[1] = rw.const(f"{node.input[1]}/rw_2d", w[:, :, None, :])
    new = {}
    for key, v in a.items():
        if key in ("kernel_shape", "strides", "dilations"):
            new[key] = [1] + list(v)
        elif key == "pads":
            new[key] = [0, v[0], 0, v[1]]
        elif key == "output_padding":
            new[key] = [0] + list(v)
        else:
            new[key] = v
    nodes.append(helper.make_node(node.op_type, inputs, [f"{base}/rw_2d_out"], name=base, **new))
    last, act = f"{base}/rw_2d_out", _only_user(rw, out, "Relu")
    if act is not None and node.op_type in ("Conv", "ConvTranspose"):   # keep ReLU fusable
        nodes.append(helper.make_node("Relu", [last], [f"{base}/rw_2d_relu"], name=act.name))
        last, out = f"{base}/rw_2d_relu", act.output[0]
    users = rw.consumers.get(out, [])
    if users and out not in rw.outputs and all(u.op_type in SPATIAL and rw.ranks.get(out) == 3
                                               for u in users):
        rw.squeezed[out] = last
    else:
        nodes.append(rw.axes_node("Squeeze", [last], out, [2], f"{base}/rw_squeeze"))
    return nodes, act


def _batchnorm_flat(rw, node):
    """BatchNormalization of (N, C[, T]): folded into a constant-weight Gemm before it, or
    Mul + Add by per-channel constants."""
    scale, beta, mean, var = (rw.value(n).astype(np.float64) for n in node.input[1:5])
    mul = scale / np.sqrt(var + _attrs(node).get("epsilon", 1e-5))
    add = beta - mean * mul
    x, base = node.input[0], node.name or node.output[0]
    gemm = rw.producer.get(x)
    if (gemm is not None and gemm.op_type == "Gemm" and len(rw.consumers.get(x, [])) == 1
            and x not in rw.outputs and rw.value(gemm.input[1]) is not None
            and not _attrs(gemm).get("transA", 0)):
        ga = _attrs(gemm)
        w = rw.value(gemm.input[1]).astype(np.float64) * ga.get("alpha", 1.0)
        w = w if ga.get("transB", 0) else w.T                   # (out, in)
        b = (rw.value(gemm.input[2]).astype(np.float64).reshape(-1) * ga.get("beta", 1.0)
             if len(gemm.input) > 2 and gemm.input[2] else np.zeros(w.shape[0]))
        folded = helper.make_node(
            "Gemm", [gemm.input[0], rw.const(f"{gemm.input[1]}/rw_bn", (w * mul[:, None])
                                             .astype(np.float32)),
                     rw.const(f"{base}/rw_bn_bias", (b * mul + add).astype(np.float32))],
            [node.output[0]], name=gemm.name, transB=1)
        return [folded], gemm
    trailing = (1,) * (rw.ranks.get(x, 2) - 2)
    m = rw.const(f"{base}/rw_mul", mul.astype(np.float32).reshape((-1,) + trailing))
    s = rw.const(f"{base}/rw_add", add.astype(np.float32).reshape((-1,) + trailing))
    return [helper.make_node("Mul", [x, m], [f"{base}/rw_scaled"], name=f"{base}/rw_mul"),
            helper.make_node("Add", [f"{base}/rw_scaled", s], [node.output[0]], name=base)], None


def _is_hard_swish(rw, node):
    """True when a HardSigmoid is torch's HardSwish half: alpha 1/6, beta 1/2, read only by a
    Mul with its own input."""
    a = _attrs(node)
    users = rw.consumers.get(node.output[0], [])
    return (abs(a.get("alpha", 0.2) - 1 / 6) < 1e-6 and abs(a.get("beta", 0.5) - 0.5) < 1e-6
            and len(users) == 1 and users[0].op_type == "Mul" and node.output[0] not in rw.outputs
            and node.input[0] in users[0].input)


def _hard_sigmoid(rw, node):
    """HardSigmoid -> Mul(alpha) + Add(beta) + Clip(0, 1)."""
    a, base = _attrs(node), node.name or node.output[0]
    alpha = rw.const(f"{base}/rw_alpha", np.float32(a.get("alpha", 0.2)))
    beta = rw.const(f"{base}/rw_beta", np.float32(a.get("beta", 0.5)))
    lo, hi = rw.const(f"{base}/rw_lo", np.float32(0)), rw.const(f"{base}/rw_hi", np.float32(1))
    return [helper.make_node("Mul", [node.input[0], alpha], [f"{base}/rw_mul"], name=f"{base}/rw_m"),
            helper.make_node("Add", [f"{base}/rw_mul", beta], [f"{base}/rw_add"], name=f"{base}/rw_a"),
            helper.make_node("Clip", [f"{base}/rw_add", lo, hi], [node.output[0]], name=base)]


def _normalization(rw, node):
    """LayerNormalization / InstanceNormalization as mean, variance and Rsqrt steps."""
    a, base, x = _attrs(node), node.name or node.output[0], node.input[0]
    rank = rw.ranks[x]
    if node.op_type == "LayerNormalization":
        axes = list(range(a.get("axis", -1) % rank, rank))
        gamma, beta = node.input[1], node.input[2] if len(node.input) > 2 and node.input[2] else None
    else:
        axes = list(range(2, rank))
        c = rw.value(node.input[1]).shape[0]
        gamma = rw.const(f"{base}/rw_gamma", rw.value(node.input[1]).reshape((c,) + (1,) * (rank - 2)))
        beta = rw.const(f"{base}/rw_beta", rw.value(node.input[2]).reshape((c,) + (1,) * (rank - 2)))
    eps = rw.const(f"{base}/rw_eps", np.float32(a.get("epsilon", 1e-5)))
    n = lambda role: f"{base}/rw_{role}"  # noqa: E731 (names of the steps)
    nodes = [rw.axes_node("ReduceMean", [x], n("mean"), axes, n("mean_op"), keepdims=1),
             helper.make_node("Sub", [x, n("mean")], [n("centred")], name=n("sub")),
             helper.make_node("Mul", [n("centred"), n("centred")], [n("square")], name=n("sq")),
             rw.axes_node("ReduceMean", [n("square")], n("var"), axes, n("var_op"), keepdims=1),
             helper.make_node("Add", [n("var"), eps], [n("var_eps")], name=n("add_eps")),
             helper.make_node("Sqrt", [n("var_eps")], [n("std")], name=n("sqrt")),
             helper.make_node("Reciprocal", [n("std")], [n("rstd")], name=n("recip")),
             helper.make_node("Mul", [n("centred"), n("rstd")], [n("normed")], name=n("norm"))]
    last = n("normed")
    if beta is None:
        nodes.append(helper.make_node("Mul", [last, gamma], [node.output[0]], name=base))
    else:
        nodes += [helper.make_node("Mul", [last, gamma], [n("scaled")], name=n("gamma")),
                  helper.make_node("Add", [n("scaled"), beta], [node.output[0]], name=base)]
    return nodes


SQRT2 = float(np.sqrt(2.0))
GELU_K0 = float(2.0 * np.sqrt(2.0 / np.pi))   # x * sigmoid(2 * sqrt(2/pi) * (x + 0.044715 x^3))
GELU_K1 = GELU_K0 * 0.044715


def _scalar(rw, name):
    """A constant scalar-like value, or None."""
    v = rw.value(name)
    return None if v is None or v.size != 1 else float(v.reshape(-1)[0])


def _only_user(rw, name, op_type):
    """The only consumer of `name` when it has `op_type` and `name` is not a graph output."""
    users = rw.consumers.get(name, [])
    if len(users) == 1 and users[0].op_type == op_type and name not in rw.outputs:
        return users[0]
    return None


def _erf_gelu(rw, node):
    """(x, the nodes of torch's erf GELU) when `node` starts x / sqrt(2) -> Erf -> + 1 -> * x
    -> * 0.5; else None."""
    x = node.input[0]
    if len(node.input) != 2 or _scalar(rw, node.input[1]) is None or \
            abs(_scalar(rw, node.input[1]) - SQRT2) > 1e-3:
        return None
    erf = _only_user(rw, node.output[0], "Erf")
    add = erf and _only_user(rw, erf.output[0], "Add")
    if add is None or _scalar(rw, [n for n in add.input if n != erf.output[0]][0]) != 1.0:
        return None
    mul = _only_user(rw, add.output[0], "Mul")
    if mul is None or x not in mul.input:
        return None
    half = _only_user(rw, mul.output[0], "Mul")
    if half is None or _scalar(rw, [n for n in half.input if n != mul.output[0]][0]) != 0.5:
        return None
    return x, [erf, add, mul, half]


def _gelu(rw, x, out, base):
    """GELU in its tanh form as x * sigmoid(x * (k0 + k1 x^2)): MUL, MUL, ADD, MUL, LOGISTIC,
    MUL (TFLM registers no GELU kernel)."""
    k0 = rw.const(f"{base}/rw_gelu_k0", np.float32(GELU_K0))
    k1 = rw.const(f"{base}/rw_gelu_k1", np.float32(GELU_K1))
    n = lambda role: f"{base}/rw_gelu_{role}"  # noqa: E731 (names of the steps)
    return [helper.make_node("Mul", [x, x], [n("square")], name=n("sq")),
            helper.make_node("Mul", [n("square"), k1], [n("cubic")], name=n("k1")),
            helper.make_node("Add", [n("cubic"), k0], [n("slope")], name=n("k0")),
            helper.make_node("Mul", [x, n("slope")], [n("arg")], name=n("arg_op")),
            helper.make_node("Sigmoid", [n("arg")], [n("gate")], name=n("sigmoid")),
            helper.make_node("Mul", [x, n("gate")], [out], name=base)]


def rewrite(model):
    """The model with the forms above rewritten (the same object when none occurs)."""
    rw = _Rewriter(model)
    nodes, changed, dropped = [], False, set()
    for node in model.graph.node:
        rank = rw.ranks.get(node.input[0]) if node.input else None
        new = None
        if node.op_type in SPATIAL and rank == 3:
            new, act = _spatial_1d(rw, node)
            if act is not None:
                dropped.add(id(act))
        elif node.op_type == "BatchNormalization" and rank is not None and rank != 4:
            new, folded = _batchnorm_flat(rw, node)
            if folded is not None:
                dropped.add(id(folded))
        elif node.op_type == "HardSigmoid" and not _is_hard_swish(rw, node):
            new = _hard_sigmoid(rw, node)
        elif node.op_type in ("LayerNormalization", "InstanceNormalization") and \
                len(node.output) == 1:
            new = _normalization(rw, node)
        elif node.op_type == "Gelu":
            new = _gelu(rw, node.input[0], node.output[0], node.name or node.output[0])
        elif node.op_type == "Div" and _erf_gelu(rw, node) is not None:
            x, chain = _erf_gelu(rw, node)
            dropped.update(id(n) for n in chain)
            new = _gelu(rw, x, chain[-1].output[0], node.name or node.output[0])
        if new is None:
            nodes.append(node)
        else:
            nodes.extend(new)
            changed = True
    if not changed:
        return model
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    out.graph.node.extend(n for n in nodes if id(n) not in dropped)
    out.graph.initializer.extend(rw.new_inits)
    return out
