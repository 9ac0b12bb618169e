"""ONNX RNN, GRU and LSTM nodes unrolled into static primitive ONNX nodes, every weight once.

Why a rewrite into ONNX primitives: the unrolled form is then ordinary ONNX (Gemm, Add, Mul,
Sub, Sigmoid, Tanh, Relu, Split, Concat, Reshape), so
- the lowering turns it into TFLite builtins with the per-op lowerers that already exist
  (Gemm -> FULLY_CONNECTED, Split -> SPLIT/SPLIT_V, ...), and nothing about an op is known
  in two places;
- the calibration (onnxruntime on the ONNX graph) sees every per-step tensor under the very
  name the lowering gives it, so each gets a calibrated int8 range (`calibration_model`);
- onnxruntime runs the unrolled graph, which checks it against its own RNN/GRU/LSTM kernels.
`expand_node` (with the cell arithmetic in recurrent_cells.py) is the one home of the
recurrent arithmetic; `lower_recurrent` (the LOWERERS entry of RNN/GRU/LSTM) lowers its nodes
in place, `calibration_model` puts them into a copy of the model for the range collection.

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

May import: numpy, onnx, rnnedge.errors, rnnedge.export.recurrent_cells; at call time
rnnedge.export.lowerers (LOWERERS),
rnnedge.export.lowerers_fused_lstm (--lstm fused) and rnnedge.export.lowering
(LoweringContext, for `calibration_model`).
"""

import numpy as np
import onnx
from onnx import numpy_helper

from rnnedge.errors import RnnedgeError
from rnnedge.export.recurrent_cells import (DIRECTIONS, GATES, Builder, node_activations,
                                            attributes, check_supported, initial_state,
                                            run_direction)

RECURRENT_OPS = ("RNN", "GRU", "LSTM")
LSTM_FORMS = ("unrolled", "fused")   # how LSTM nodes are lowered (`export --lstm`); default first


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
    acts = node_activations(node, attrs, dirs)
    b = Builder(node.output[0] if node.output and node.output[0] else node.name, node.name)
    x = node.input[0]
    x_flat = b.reshape(x, (steps * batch, features), "x_flat")
    b.out.views[x_flat] = x
    h0 = initial_state(view, b, node, 5, dirs, batch, hidden, "h0", opset)
    c0 = (initial_state(view, b, node, 6, dirs, batch, hidden, "c0", opset) if cell == "LSTM"
          else [None] * dirs)
    lbr = int(attrs.get("linear_before_reset", 0))
    results = []
    for d, rev in enumerate(reverse):
        order = range(steps - 1, -1, -1) if rev else range(steps)
        results.append(run_direction(b, cell, d, order, acts[d], x_flat, w_all[d], r_all[d],
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
