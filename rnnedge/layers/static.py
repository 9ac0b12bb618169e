"""The static (unrolled) recurrence over NCHW feature maps: the form that is exported.

Everything here is built from ops that export to ONNX as plain nodes on 4-D tensors and lower
one-to-one to TFLite builtins that TFLM runs and Ethos-U places on the NPU:
Conv (1x1), Split, Concat, Add, Sub, Mul, Tanh, Relu, Sigmoid, and Transpose (H<->W only).
There is no Loop/Scan/RNN/GRU/LSTM node, no Gather and no Reshape. Unidirectional passes run
along W (rows) or H (columns) directly; the weight-shared bidirectional pass in its "inplace"
and "stacked" layouts runs along H and transposes a row pass in and out, because H is the
axis along which a step's slice of an NHWC map is contiguous, which is what lets the
firmware run it in place (docs/arena.md).

Graph shape of one pass (cell `tanh`, T time steps):
  P = Conv1x1(x; W_ih, b_ih + b_hh)     input projection, once for the whole map
  P -> Split into T steps                 (bidirectional: see the layouts below)
  h_0 = tanh(P_0);  h_t = tanh(P_t + Conv1x1(h_{t-1}; W_hh))    3 ops per step
  Concat of the h_t                       the pass's output map
W_ih and W_hh are single Parameters read by every step, so an exporter stores them once.

A weight-shared bidirectional pass (the paper's eq. 9) shares W_ih*x + b, so P is computed once
for both directions. It has three layouts (`LAYOUTS`), same arithmetic, both directions and
all rows of a step in one Conv W_hh; what differs is how P reaches the steps, how a step's
two directions are joined and how they are summed. On an NPU the recurrence is T sequential
steps a pass, each two Ethos-U passes at least (CONV W_hh, then ADD with TANH fused as a
LUT); Vela prices the other ops by the bytes they copy plus a start-up per pass, except a
SPLIT (the consumer reads the slice in place) and a CONCATENATION of at most 10 inputs
that other ops compute (Vela has them write into it), so the layouts are built to copy
little:
- "inplace" (the default): step t concatenates forward row t and backward row T-1-t of P (two
  rows: no 2T-input concat tree, no whole-map copy), its state is written over that pair,
  and output row t = forward half of state t + backward half of state T-1-t, read straight
  from the step outputs (no concat of the states). A firmware runs it in place
  (docs/arena.md).
- "stacked": Q = [P | Flip(P)] along W, one step per row of Q, the states concatenated once,
  split into the direction halves, the backward half flipped back and ONE Add for the sum.
  Fewer ops, so a smaller TFLM persistent tail, but more bytes copied (more Vela cycles) and
  a larger in-place arena.
- "pairs": the step's state holds both directions side by side along W; each direction adds
  its own row of P (read in place) to its half of the step's CONV output, and the two new
  states are concatenated into the next step's state: Vela copies nothing per step. Time runs along the pass's own axis (no TRANSPOSE); the row
  pass's output reaches the column pass as runs of at most 10 rows, each projected by its
  own CONV (`separable_weight_shared_bidirectional`). Fewest Vela cycles, more ops (a larger
  TFLM tail).
Measured trade-offs of the three: docs/export.md. In every layout the export may lower the
step's 1x1 convolutions (and the projections) to per-tensor FULLY_CONNECTED ops instead of
CONV_2D (`rnnedge export --recurrent-step fc`, rnnedge.export.fc_steps: a smaller TFLM tail).

A Concat here takes all T steps at once (in "pairs", runs of at most 10 that a CONV reads
between them). TFLM's CONCATENATION accepts at most 10 inputs, but a tree of Concats built in
PyTorch does not survive `torch.onnx.export` (it flattens nested Concats), so that limit is
the TFLite lowering's job (the export stage splits long concatenations into trees). Imports: torch only (weights are
`cells.RecurrentWeights`).
"""

import torch
from torch.nn import functional

#: layouts of a weight-shared bidirectional pass (see the module docstring); the first is the default.
LAYOUTS = ("inplace", "stacked", "pairs")
#: NCHW axes: a row pass runs along W, a column pass along H.
ROW_AXIS, COLUMN_AXIS = 3, 2
#: TFLM's CONCATENATION accepts at most this many inputs.
MAX_CONCAT = 10
#: the axis along which "pairs" puts a step's two directions side by side (W).
JOIN_AXIS = ROW_AXIS


def check_layout(layout):
    """Return `layout` if it names a known layout, else raise ValueError listing them."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    return layout

def reverse_steps(x, time_dim):
    """Flip a map along its time axis with Split + Concat (the paper's eq. 10), no Gather."""
    steps = torch.split(x, 1, dim=time_dim)
    return torch.cat(steps[::-1], dim=time_dim) if len(steps) > 1 else x


def project_input(x, w):
    """W_ih * x plus every bias that does not depend on the state, as one 1x1 convolution.

    For tanh/relu/LSTM both b_ih and b_hh fold in; for GRU, b_hn stays inside r * (W_hn h + b_hn).
    """
    return functional.conv2d(x, w.weight_ih[:, :, None, None], input_bias(w))


def input_bias(w):
    """The biases that do not depend on the state: b_ih + b_hh (GRU: without b_hn)."""
    bias = w.bias_ih + w.bias_hh
    if w.cell == "gru":
        hidden = w.hidden
        bias = torch.cat([bias[: 2 * hidden], w.bias_ih[2 * hidden :]])
    return bias


def _recurrent(h, w):
    """W_hh * h (+ b_hn for GRU) as a 1x1 convolution over the step's state map."""
    bias = None
    if w.cell == "gru":
        hidden = w.hidden
        bias = torch.cat([torch.zeros_like(w.bias_hh[: 2 * hidden]), w.bias_hh[2 * hidden :]])
    return functional.conv2d(h, w.weight_hh[:, :, None, None], bias)


def step(p_t, h, c, w, recurrent=None):
    """One unrolled time step on maps: p_t is the projected input, h/c the state or None at t=0.

    Returns (h', c'). At t = 0 the state is zero, so the recurrent convolution is skipped.
    `recurrent`: W_hh * h (+ b_hn) when the caller computed it already (the "pairs" layout
    convolves both directions' states at once).
    """
    if h is not None and recurrent is None:
        recurrent = _recurrent(h, w)
    hidden = w.hidden
    if w.cell in ("tanh", "relu"):
        pre = p_t if h is None else p_t + recurrent
        return (torch.tanh(pre) if w.cell == "tanh" else torch.relu(pre)), None
    if w.cell == "gru":
        p_rz, p_n = torch.split(p_t, [2 * hidden, hidden], dim=1)
        if h is None:
            rz = torch.sigmoid(p_rz)
            h_n = w.bias_hh[2 * hidden :].view(1, hidden, 1, 1)
        else:
            h_rz, h_n = torch.split(recurrent, [2 * hidden, hidden], dim=1)
            rz = torch.sigmoid(p_rz + h_rz)
        r, z = torch.split(rz, hidden, dim=1)
        n = torch.tanh(p_n + r * h_n)
        return (n - z * n if h is None else n + z * (h - n)), None
    gates = p_t if h is None else p_t + recurrent
    p_if, p_g, p_o = torch.split(gates, [2 * hidden, hidden, hidden], dim=1)
    i, f = torch.split(torch.sigmoid(p_if), hidden, dim=1)
    ig = i * torch.tanh(p_g)
    c = ig if c is None else f * c + ig
    return torch.sigmoid(p_o) * torch.tanh(c), c


def scan(p, w, time_dim):
    """Run cell `w` along `time_dim` over a projected map p, one slice per step; returns the
    output map (same shape as p with C = hidden channels)."""
    h = c = None
    outputs = []
    for p_t in torch.split(p, 1, dim=time_dim):
        h, c = step(p_t, h, c, w)
        outputs.append(h)
    return torch.cat(outputs, dim=time_dim)


def unidirectional(x, w, time_dim):
    """RNN along one spatial axis (the paper's eq. 4 for time_dim = 3, the rows)."""
    return scan(project_input(x, w), w, time_dim)


def weight_shared_bidirectional(x, w, time_dim, layout="inplace"):
    """WS-BiRNN (the paper's eq. 9): RNN(X) + Flip(RNN(Flip(X))) with one projection shared by
    both directions and both directions batched in every step; `layout` in `LAYOUTS`."""
    layout = check_layout(layout)
    if layout == "inplace":
        return _inplace_weight_shared_bidirectional(x, w, time_dim)
    if layout == "pairs":
        return torch.cat(_paired_pass(x, w, time_dim), dim=time_dim)
    return _stacked_weight_shared_bidirectional(x, w, time_dim)


def separable_weight_shared_bidirectional(x, w_rows, w_columns, layout="inplace"):
    """SWS-BiRNN (the paper's eq. 11): a pass along the rows (W), then one along the columns
    (H). In the "pairs" layout the row pass hands its output over as `group_runs`, each
    projected by its own CONV straight into the column pass's projection (no copy)."""
    if check_layout(layout) == "pairs":
        runs = group_runs(_paired_pass(x, w_rows, ROW_AXIS), ROW_AXIS)
        return torch.cat(_paired_pass(runs, w_columns, COLUMN_AXIS), dim=COLUMN_AXIS)
    rows = weight_shared_bidirectional(x, w_rows, ROW_AXIS, layout)
    return weight_shared_bidirectional(rows, w_columns, COLUMN_AXIS, layout)


def _stacked_weight_shared_bidirectional(x, w, time_dim):
    """The "stacked" layout: time along H as for "inplace"; Q = [P | Flip(P)] along W, one
    step per row of Q, then Y = forward half + Flip(backward half) with one Add."""
    if time_dim == 3:
        return _stacked_weight_shared_bidirectional(x.transpose(2, 3), w, 2).transpose(2, 3)
    other = 5 - time_dim
    p = project_input(x, w)
    q = torch.cat([p, reverse_steps(p, time_dim)], dim=other)
    states = scan(q, w, time_dim)
    forward, backward = torch.split(states, p.shape[other], dim=other)
    return forward + reverse_steps(backward, time_dim)


def _inplace_weight_shared_bidirectional(x, w, time_dim):
    """The "inplace" layout: time along H (a row pass transposes H<->W in and out), so each
    step's slice is a contiguous block of an NHWC map. Step t concatenates forward row t and
    backward row T-1-t of the projection (2 rows) and its state is written over that pair;
    output row t is forward half of state t + backward half of state T-1-t, read straight from
    the step outputs. See docs/arena.md."""
    if time_dim == 3:
        return _inplace_weight_shared_bidirectional(x.transpose(2, 3), w, 2).transpose(2, 3)
    rows = torch.split(project_input(x, w), 1, dim=2)
    steps = len(rows)
    h = c = None
    halves = []
    for t in range(steps):
        h, c = step(torch.cat([rows[t], rows[steps - 1 - t]], dim=2), h, c, w)
        halves.append(torch.split(h, 1, dim=2))
    return torch.cat([halves[t][0] + halves[steps - 1 - t][1] for t in range(steps)], dim=2)


def _paired_pass(x, w, time_dim):
    """The "pairs" layout of one pass; returns its T output rows along `time_dim`.

    P is projected once (x may be runs along the other axis: one projection CONV per run,
    their outputs concatenated, which Vela writes in place). Step t convolves the state
    [forward state t-1 | backward state T-t] (both directions, one CONV W_hh), each direction
    adds its own row of P (read in place) to its half of the CONV output, and the two new
    states are concatenated into the next state (a 2-input CONCATENATION of ADD/TANH outputs,
    which Vela writes in place). The halves sit side by side along W (`JOIN_AXIS`) in both
    passes: Vela then keeps the step's ADD in NHWC and prices it by its real element count,
    not by channels padded to 16 (measured). Output row t = forward half of state t +
    backward half of state T-1-t, summed as soon as both exist (so a state can die early)."""
    if isinstance(x, (list, tuple)):
        p = torch.cat([project_input(run, w) for run in x], dim=5 - time_dim)
    else:
        p = project_input(x, w)
    rows = torch.split(p, 1, dim=time_dim)
    steps, width = len(rows), rows[0].shape[JOIN_AXIS]
    state = c_forward = c_backward = None
    halves, out = [], [None] * steps
    for t in range(steps):
        forward = backward = recurrent_forward = recurrent_backward = None
        if state is not None:
            forward, backward = torch.split(state, width, dim=JOIN_AXIS)
            recurrent_forward, recurrent_backward = torch.split(_recurrent(state, w), width, dim=JOIN_AXIS)
        h_forward, c_forward = step(rows[t], forward, c_forward, w, recurrent_forward)
        h_backward, c_backward = step(rows[steps - 1 - t], backward, c_backward, w, recurrent_backward)
        state = torch.cat([h_forward, h_backward], dim=JOIN_AXIS)
        halves.append(torch.split(state, width, dim=JOIN_AXIS))
        for k in sorted({t, steps - 1 - t}):       # sum each row once both its halves exist
            if k <= t and steps - 1 - k <= t:
                out[k] = halves[k][0] + halves[steps - 1 - k][1]
    return out


def group_runs(pieces, dim):
    """`pieces` concatenated along `dim` in consecutive runs of at most `MAX_CONCAT` (as few
    runs as that allows, sizes balanced): each run is one CONCATENATION whose inputs are
    computed by the ops before it, which Vela writes straight into the run (no copy); a
    CONCATENATION of more inputs would be split into a tree whose upper levels copy."""
    if len(pieces) <= MAX_CONCAT:
        return [torch.cat(pieces, dim=dim)]
    runs = -(-len(pieces) // MAX_CONCAT)
    bounds = [round(i * len(pieces) / runs) for i in range(runs + 1)]
    return [torch.cat(pieces[a:b], dim=dim) for a, b in zip(bounds, bounds[1:])]


def bidirectional(x, w_forward, w_backward, time_dim, merge):
    """Ordinary BiRNN: separate weights per direction; outputs summed or concatenated (channels)."""
    forward = unidirectional(x, w_forward, time_dim)
    backward = reverse_steps(scan(reverse_steps(project_input(x, w_backward), time_dim), w_backward, time_dim), time_dim)
    return forward + backward if merge == "sum" else torch.cat([forward, backward], dim=1)
