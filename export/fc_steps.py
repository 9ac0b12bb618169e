"""`--recurrent-step fc`: the unrolled recurrence's 1x1 convolutions as per-tensor int8
FULLY_CONNECTED ops (a pass over the lowered graph, before quantisation).

Why: TFLM's CONV_2D keeps two int32 arrays per output channel in its persistent tail whatever
the filter's quantisation (conv_common.cc ConvPrepare sizes them by the output channels), and
an unrolled recurrence runs one W_hh op per step: on the paper's CRNNs those arrays are most of
the tail above the CNN twin's (docs/export.md, issue 21). TFLM's FULLY_CONNECTED with a
per-tensor filter keeps none (fully_connected_common.cc), reads its input as [rows, depth]
whatever the leading dims, and with keep_num_dims writes the input's leading dims, so a 1x1
convolution over a map (stride 1, no padding) is the same arithmetic as an FC over its pixels:
the 4-D tensors around it stay as they are and no RESHAPE is needed. Vela takes it on the NPU
(its FC constraints: the input reducible to [rows, depth], the output of the input's rank with
keep_num_dims; measured: 0 CPU ops).

Which convolutions (`recurrent_convs`): the step convolutions, i.e. the 1x1 CONV_2Ds whose
weight tensor more than one op reads (the unrolled W_hh, stored once), and the projections
that feed the steps: the 1x1 CONV_2Ds an ADD of a step reads through views only (SPLIT,
SPLIT_V, CONCATENATION, TRANSPOSE: the pass's P = W_ih x + b). A weight shared by several
convolutions becomes ONE per-tensor FC weight tensor (weights stay stored once); an all-zero
bias (the one the lowering adds for TFLite's conv kernels) is dropped, since the FC kernels
take none. The price is per-tensor weight quantisation of those weights (measured against the
per-channel convolution in docs/export.md and tests/test_fc_steps.py).

May import: numpy, rnnedge.export.graph_ir.
"""

import numpy as np

from rnnedge.export.graph_ir import Op, Tensor

#: the step op of an unrolled recurrence: "conv" (CONV_2D, per-channel) or "fc" (this module).
RECURRENT_STEPS = ("conv", "fc")
#: ops through which a step's ADD reads the projection without arithmetic.
VIEWS = ("SPLIT", "SPLIT_V", "CONCATENATION", "TRANSPOSE")


def _pointwise(graph, op):
    """True for a CONV_2D that is an FC over pixels: 1x1 kernel, stride 1, dilation 1."""
    if op.kind != "CONV_2D" or len(op.inputs) < 2:
        return False
    w = graph.tensors[op.inputs[1]]
    o = op.options
    return (w.data is not None and w.data.ndim == 4 and w.data.shape[1:3] == (1, 1)
            and o.get("stride_h", 1) == o.get("stride_w", 1) == 1
            and o.get("dilation_h", 1) == o.get("dilation_w", 1) == 1)


def recurrent_convs(graph):
    """Indices (in graph.ops) of the recurrence's step and projection convolutions (module
    docstring), in graph order."""
    producer = {out: i for i, op in enumerate(graph.ops) for out in op.outputs if out is not None}
    readers = {}
    for i, op in enumerate(graph.ops):
        if _pointwise(graph, op):
            readers.setdefault(op.inputs[1], []).append(i)
    steps = {i for ops in readers.values() if len(ops) > 1 for i in ops}
    step_outputs = {graph.ops[i].outputs[0] for i in steps}

    def sources(name, seen):
        """Producers of `name` reached through views only."""
        i = producer.get(name)
        if i is None or i in seen:
            return set()
        seen.add(i)
        op = graph.ops[i]
        if op.kind in VIEWS:
            return set().union(*(sources(n, seen) for n in op.inputs if n is not None))
        return {i}

    found = set(steps)
    for op in graph.ops:
        if op.kind != "ADD":
            continue
        feeders = [sources(n, set()) for n in op.inputs]
        if any(graph.ops[j].outputs[0] in step_outputs for f in feeders for j in f):
            found.update(j for f in feeders for j in f if _pointwise(graph, graph.ops[j]))
    return sorted(found)


def to_fully_connected(graph):
    """Rewrite `recurrent_convs(graph)` as per-tensor FULLY_CONNECTED ops in place; returns
    how many ops it rewrote."""
    chosen = recurrent_convs(graph)
    for i in chosen:
        conv = graph.ops[i]
        x, w_name = conv.inputs[0], conv.inputs[1]
        fc_name = f"{w_name}/fc"
        if fc_name not in graph.tensors:
            w = graph.tensors[w_name].data
            graph.tensors[fc_name] = Tensor(fc_name, (w.shape[0], w.shape[3]), "weight",
                                            np.ascontiguousarray(w.reshape(w.shape[0], w.shape[3])),
                                            None)
        inputs = [x, fc_name]
        if len(conv.inputs) > 2 and conv.inputs[2] is not None:
            bias = graph.tensors[conv.inputs[2]]
            if np.any(bias.data):
                inputs.append(conv.inputs[2])
        graph.ops[i] = Op("FULLY_CONNECTED", inputs, list(conv.outputs),
                          {"activation": conv.options.get("activation", "NONE"),
                           "keep_num_dims": True}, conv.source)
    used = {n for op in graph.ops for n in op.inputs + op.outputs if n is not None}
    for name in [n for n, t in graph.tensors.items() if t.data is not None and n not in used]:
        del graph.tensors[name]
    return len(chosen)
