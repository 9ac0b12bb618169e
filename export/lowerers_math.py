"""Lowerings of ONNX's activations and elementwise math beyond the zoo's: HardSwish (also
x * HardSigmoid(x)), LeakyRelu, PRelu, Clip with any bounds, Mul, Div (by a constant: a MUL
by its reciprocal), Neg (a MUL by -1: TFLM's NEG is float only), Abs, Rsqrt (1 / Sqrt; TFLM
has no int8 SQRT), Max / Min of two tensors, BatchNormalization of a non-image tensor,
L2 normalisation (x divided by ReduceL2(x), torch's F.normalize) as L2_NORMALIZATION.

Clip with bounds other than ReLU (and ReLU6 fused into its producer) is int8 saturation:
the clipped tensor's quantisation range is its calibrated range, inside [min, max], so the
op that writes it clamps by saturating. When that op requantises anyway (conv, FULLY_CONNECTED, ADD, ...) it
writes the clipped tensor directly; otherwise a QUANTIZE op requantises into it.

May import: numpy, rnnedge.errors, rnnedge.op_table, rnnedge.export.lowerers (clip_bounds),
rnnedge.export.lowerers_nn (held_axis).
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.export.lowerers_nn import held_axis
from rnnedge.op_table import info

def _unary(kind, **fixed):
    """A lowering emitting one single-input op of `kind` with fixed options."""
    def lower(low, node, a):
        """The op applied to the held input."""
        out = low.act(node.output[0], low.shape(node.output[0]))
        low.emit(kind, [low.name(node.input[0])], [out], node.name, **fixed)
    lower.__doc__ = f"-> {kind}"
    return lower


def _leaky_relu(low, node, a):
    """LeakyRelu -> LEAKY_RELU(alpha)."""
    out = low.act(node.output[0], low.shape(node.output[0]))
    low.emit("LEAKY_RELU", [low.name(node.input[0])], [out], node.name, alpha=a.get("alpha", 0.01))


def _prelu(low, node, a):
    """PRelu with a constant slope -> PRELU (slope brought to the held layout)."""
    rank = low.rank(node.input[0])
    alpha = low.operand(node.input[1], rank)
    out = low.act(node.output[0], low.shape(node.output[0]))
    low.emit("PRELU", [low.name(node.input[0]), alpha], [out], node.name)


def _other(node, name):
    """The input of a two-input node that is not `name`."""
    return node.input[1] if node.input[0] == name else node.input[0]


def _scalar(low, name):
    """The value of a constant scalar-like tensor, or None."""
    if name not in low.consts or low.consts[name].size != 1:
        return None
    return float(np.asarray(low.consts[name]).reshape(-1)[0])


def _binary(kind):
    """ADD/SUB/MUL/DIV/MAXIMUM/MINIMUM of two operands (constants in the held layout)."""
    def lower(low, node, a):
        """The op on both operands, with a fused ReLU where TFLite has one."""
        rank = max(low.rank(n) for n in node.input)
        ins = [low.operand(n, rank) for n in node.input]
        out = node.output[0]
        opts = {}
        if kind in ("ADD", "SUB", "MUL", "DIV"):
            act, out = low.fused_activation(out)
            opts["activation"] = act
        low.act(out, low.shape(node.output[0]))
        low.emit(kind, ins, [out], node.name, **opts)
    return lower


def _div(low, node, a):
    """Div: a MUL by the reciprocal of a constant divisor, else DIV."""
    if node.input[1] not in low.consts:
        _binary("DIV")(low, node, a)
        return
    divisor = low.constant(node.input[1]).astype(np.float64)
    if np.any(divisor == 0):
        raise RnnedgeError(f"Div {node.name}: division by a constant zero")
    name = f"{node.input[1]}/reciprocal"
    low.consts[name] = (1.0 / divisor).astype(np.float32)
    _multiply(low, node, [node.input[0], name])


def _multiply(low, node, inputs):
    """MUL of two operands into the node's output (fused ReLU where possible)."""
    rank = max(low.rank(n) for n in inputs)
    act, out = low.fused_activation(node.output[0])
    low.act(out, low.shape(node.output[0]))
    low.emit("MUL", [low.operand(n, rank) for n in inputs], [out], node.name, activation=act)


def _neg(low, node, a):
    """Neg -> MUL by -1 (TFLM's NEG takes float only)."""
    name = f"{node.output[0]}/minus_one"
    low.consts[name] = np.float32(-1.0)
    _multiply(low, node, [node.input[0], name])


def _reciprocal_of_sqrt(low, node):
    """The Reciprocal / Div(1, .) node after a Sqrt node, when it is Sqrt's only consumer."""
    users = low.consumers.get(node.output[0], [])
    if len(users) != 1 or node.output[0] in low.out_names:
        return None
    user = users[0]
    if user.op_type == "Reciprocal" or (user.op_type == "Div" and user.input[1] == node.output[0]
                                        and _scalar(low, user.input[0]) == 1.0):
        return user
    return None


def _sqrt(low, node, a):
    """Sqrt read only by a reciprocal (1 / Sqrt) -> RSQRT; TFLM's SQRT takes float only."""
    recip = _reciprocal_of_sqrt(low, node)
    if recip is None:
        raise RnnedgeError(f"Sqrt {node.name}: TFLM has no int8 SQRT, only RSQRT; write "
                           "1 / sqrt(x) (torch.rsqrt) or keep the square root out of the model")
    low.skip.add(recip.output[0])
    out = low.act(recip.output[0], low.shape(recip.output[0]))
    low.emit("RSQRT", [low.name(node.input[0])], [out], node.name)


def _hard_sigmoid(low, node, a):
    """HardSigmoid(x) * x with torch's alpha 1/6, beta 1/2 -> HARD_SWISH; a HardSigmoid
    alone is decomposed before lowering (onnx_rewrite.py)."""
    mul = low.single_consumer(node.output[0], ("Mul",))
    if mul is None or _other(mul, node.output[0]) != node.input[0] or \
            abs(a.get("alpha", 0.2) - 1 / 6) > 1e-6 or abs(a.get("beta", 0.5) - 0.5) > 1e-6:
        raise RnnedgeError(f"HardSigmoid {node.name}: expected the rewrite to decompose it")
    low.skip.add(mul.output[0])
    out = low.act(mul.output[0], low.shape(mul.output[0]))
    low.emit("HARD_SWISH", [low.name(node.input[0])], [out], node.name)


def requantizes(kind):
    """True when the op computes its int8 output from real values (it may saturate into any
    range), i.e. it is neither a same-scale op nor one with a fixed output."""
    entry = info(kind)
    return not entry.same_scale and not entry.fixed_output and entry.category != "unknown"


def _clip(low, node, a):
    """Clip with any bounds: RELU for (0, inf), else saturation into the clipped tensor's
    range (by its producer or a QUANTIZE). (0, 6) takes the saturation route when it is not
    fused (lowering.fused_activation): TFLM's RELU6 clamps in its input's quantisation and
    never requantises, so a RELU6 op would need the input's scale on its output; and (-1, 1)
    too: TFLM registers no RELU_N1_TO_1 kernel."""
    from rnnedge.export.lowerers import clip_bounds
    lo, hi = clip_bounds(low, node)
    lo = -np.inf if lo is None else lo
    hi = np.inf if hi is None else hi
    x, out = low.name(node.input[0]), node.output[0]
    kind = {(0.0, np.inf): "RELU"}.get((lo, hi))
    low.act(out, low.shape(out))
    if kind is not None:
        low.emit(kind, [x], [out], node.name)
        return
    if lo > 0 or hi < 0:
        raise RnnedgeError(f"Clip {node.name}: bounds ({lo}, {hi}) exclude 0, which int8 "
                           "saturation cannot express; shift the tensor so 0 is inside")
    producer = next((op for op in reversed(low.ops) if x in op.outputs), None)
    if (producer is not None and requantizes(producer.kind) and len(producer.outputs) == 1
            and len(low.consumers.get(node.input[0], [])) == 1
            and node.input[0] not in low.out_names and x == node.input[0]):
        producer.outputs = [out]
        del low.tensors[x]
        low.alias[node.input[0]] = out
        return
    low.emit("QUANTIZE", [x], [out], node.name)


def _reduce_l2(low, node, a):
    """A ReduceL2 whose result only divides its own input over the held last axis (a map's
    channels, a sequence's features): torch's F.normalize(x, dim) (Div(x, Expand(Clip(
    ReduceL2(x))))) or x / x.norm(dim, keepdim=True) -> L2_NORMALIZATION (output 1/128, 0 as
    TFLM's int8 kernel requires; torch's eps clamp only matters for all-zero vectors, which
    both map to 0). Any other ReduceL2 is refused."""
    x, name, chain, div = node.input[0], node.output[0], [], None
    rank = low.rank(x)
    if len(node.input) > 1 and node.input[1]:
        axes = [int(v) for v in np.asarray(low.constant(node.input[1])).reshape(-1)]
    else:
        axes = list(a.get("axes", range(rank)))
    while div is None:
        user = low.single_consumer(name, ("Clip", "Expand", "Div"))
        if user is None or (user.op_type == "Div" and list(user.input) != [x, name]):
            break
        if user.op_type == "Div":
            div = user
        chain.append(user)
        name = user.output[0]
    if div is None or not a.get("keepdims", 1) or len(axes) != 1 or \
            held_axis(rank, axes[0]) != rank - 1:
        raise RnnedgeError(f"cannot lower ONNX op ReduceL2 (node {node.name}): only x divided "
                           "by its L2 norm over the channels of a map or the last axis "
                           "(F.normalize(x, dim=1) / x / x.norm(dim=-1, keepdim=True)) lowers, "
                           "to L2_NORMALIZATION")
    for n in chain:
        low.skip.add(n.output[0])
    out = low.act(div.output[0], low.shape(div.output[0]))
    low.emit("L2_NORMALIZATION", [low.name(x)], [out], node.name)


MATH_LOWERERS = {
    "HardSwish": _unary("HARD_SWISH"),
    "HardSigmoid": _hard_sigmoid,
    "LeakyRelu": _leaky_relu,
    "PRelu": _prelu,
    "Mul": _binary("MUL"),
    "Div": _div,
    "Neg": _neg,
    "Abs": _unary("ABS"),
    "Sqrt": _sqrt,
    "Max": _binary("MAXIMUM"),
    "Min": _binary("MINIMUM"),
    "Clip": _clip,
    "ReduceL2": _reduce_l2,
}
