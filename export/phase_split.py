"""DepthToSpace: TFLite's DEPTH_TO_SPACE, and the rewrite that makes a Conv interleaved by
DepthToSpace (the phase-split Bayer conv 1, rnnedge.sensor_conv) one CONV_2D + one
DEPTH_TO_SPACE.

Why: a stride-1 conv over a Bayer mosaic is exact only as four per-phase convs (one CONV_2D
of 4C outputs at stride 2) interleaved by DEPTH_TO_SPACE(2). torch exports that as Conv ->
DepthToSpace (mode CRD: input channel c * b*b + phase) -> BatchNormalization -> Relu, while
TFLite's DEPTH_TO_SPACE is DCR (channel phase * C + c) and the BatchNorm and ReLU would not
fuse into a conv they do not follow. `rewrite(model)` (run before calibration and lowering):

- a CRD DepthToSpace whose input only a Conv of constant weight produces (and nothing else
  reads) gets that Conv's output channels permuted to DCR order (weight and bias) and mode
  DCR: exact, no op added;
- the per-channel ops after a DCR DepthToSpace (BatchNormalization of constant parameters,
  Relu, Clip, LeakyRelu; each the only reader of the one before) move before it, their
  per-channel parameters tiled b*b times: output channel c is input channel phase * C + c,
  so both orders compute the same tensor, and the lowering fuses them into the conv.

A graph without DepthToSpace is returned unchanged. `lower_depth_to_space` is the lowering
(DCR only; a CRD DepthToSpace elsewhere is a one-line error naming the form to use).

May import: numpy, onnx, rnnedge.errors.
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper

from rnnedge.errors import RnnedgeError

CHANNELWISE = ("BatchNormalization", "Relu", "Clip", "LeakyRelu")


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _set_mode_dcr(node):
    kept = [a for a in node.attribute if a.name != "mode"]
    del node.attribute[:]
    node.attribute.extend(kept + [helper.make_attribute("mode", "DCR")])


class _Graph:
    """The graph's constants, producers and readers."""

    def __init__(self, model):
        self.graph = model.graph
        self.consts = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        for node in self.graph.node:
            if node.op_type == "Constant" and _attr(node, "value") is not None:
                self.consts[node.output[0]] = numpy_helper.to_array(_attr(node, "value"))
        self.producer = {o: n for n in self.graph.node for o in n.output}
        self.readers = {}
        for node in self.graph.node:
            for name in node.input:
                self.readers.setdefault(name, []).append(node)
        self.outputs = {o.name for o in self.graph.output}
        self.new_inits = []

    def only_reader(self, name, op_types):
        users = self.readers.get(name, [])
        if len(users) == 1 and users[0].op_type in op_types and name not in self.outputs:
            return users[0]
        return None

    def const(self, name, value):
        self.new_inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        self.consts[name] = value
        return name


def _crd_to_dcr(g, d2s, block):
    """Permute the only producing Conv's output channels to DCR order; False if not one."""
    conv = g.producer.get(d2s.input[0])
    if conv is None or conv.op_type != "Conv" or g.only_reader(d2s.input[0], ("DepthToSpace",)) \
            is None or conv.input[1] not in g.consts:
        return False
    weight = g.consts[conv.input[1]]
    bias = g.consts.get(conv.input[2]) if len(conv.input) > 2 and conv.input[2] else None
    if len(conv.input) > 2 and conv.input[2] and bias is None:
        return False
    channels = weight.shape[0] // (block * block)
    # DCR channel (phase, c) holds CRD channel c * b*b + phase
    order = np.arange(weight.shape[0]).reshape(channels, block * block).T.reshape(-1)
    conv.input[1] = g.const(f"{conv.input[1]}/dcr", weight[order])
    if bias is not None:
        conv.input[2] = g.const(f"{conv.input[2]}/dcr", bias[order])
    _set_mode_dcr(d2s)
    return True


def _hoist_channelwise(g, d2s, block, nodes):
    """Move the per-channel chain after DCR DepthToSpace `d2s` before it (in `nodes`)."""
    chain, tail = [], d2s.output[0]
    while (user := g.only_reader(tail, CHANNELWISE)) is not None:
        if user.op_type == "BatchNormalization" and not all(n in g.consts for n in user.input[1:5]):
            break
        if user.op_type == "Clip" and not all(not n or n in g.consts for n in user.input[1:]):
            break
        chain.append(user)
        tail = user.output[0]
    if not chain:
        return
    source = d2s.input[0]
    for i, node in enumerate(chain):
        node.input[0] = source
        if node.op_type == "BatchNormalization":
            for k in range(1, 5):
                node.input[k] = g.const(f"{node.output[0]}/tiled_{k}",
                                        np.tile(g.consts[node.input[k]], block * block))
        node.output[0] = f"{node.output[0]}/before_depth_to_space"
        source = node.output[0]
    d2s.input[0], d2s.output[0] = source, tail
    # order: the chain's nodes where the DepthToSpace was, the DepthToSpace after them
    at = nodes.index(d2s)
    for node in chain:
        nodes.remove(node)
    nodes[at:at + 1] = chain + [d2s]


def rewrite(model):
    """The model with its DepthToSpace nodes in the form above (the same object if none)."""
    if not any(n.op_type == "DepthToSpace" for n in model.graph.node):
        return model
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = _Graph(out)
    nodes = list(out.graph.node)
    for d2s in [n for n in nodes if n.op_type == "DepthToSpace"]:
        block = _attr(d2s, "blocksize")
        if _attr(d2s, "mode", "DCR") == "CRD" and not _crd_to_dcr(g, d2s, block):
            continue
        _hoist_channelwise(g, d2s, block, nodes)
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    out.graph.initializer.extend(g.new_inits)
    return out


def lower_depth_to_space(low, node, a):
    """DepthToSpace (DCR) -> DEPTH_TO_SPACE."""
    if a.get("mode", "DCR") != "DCR":
        raise RnnedgeError(f"DepthToSpace {node.name or node.output[0]}: mode CRD (PixelShuffle) "
                           "is lowered only right after a Conv of constant weight; use mode DCR")
    low.act(node.output[0], low.shape(node.output[0]))
    low.emit("DEPTH_TO_SPACE", [low.name(node.input[0])], [node.output[0]], node.name,
             block_size=int(a["blocksize"]))
