"""The static (unrolled) recurrence over NCHW feature maps: the form that is exported.

Everything here is built from ops that export to ONNX as plain nodes on 4-D tensors and lower
one-to-one to TFLite builtins that TFLM runs and Ethos-U places on the NPU:
Conv (1x1), Split, Concat, Add, Sub, Mul, Tanh, Relu, Sigmoid, and Transpose (H<->W only).
There is no Loop/Scan/RNN/GRU/LSTM node, no Gather and no Reshape. Unidirectional passes run
along W (rows) or H (columns) directly; the weight-shared bidirectional pass always runs along
H and transposes a row pass in and out, because H is the axis along which a step's slice of an
NHWC map is contiguous, which is what lets the firmware run it in place (docs/arena.md).

Graph shape of one pass (cell `tanh`, T time steps):
  P = Conv1x1(x; W_ih, b_ih + b_hh)     input projection, once for the whole map
  P -> Split into T steps                 (bidirectional: forward and backward rows paired)
  h_0 = tanh(P_0);  h_t = tanh(P_t + Conv1x1(h_{t-1}; W_hh))    3 ops per step
  Concat of the h_t                       the pass's output map
W_ih and W_hh are single Parameters read by every step, so an exporter stores them once.

A weight-shared bidirectional pass (the paper's eq. 9) shares W_ih*x + b, so P is computed once
for both directions; step t pairs forward row t with backward row T-1-t, so each step runs
both directions in one Conv/Add/Tanh, and one Add per output row sums the two directions.

A Concat here takes all T steps at once. TFLM's CONCATENATION accepts at most 10 inputs, but
a tree of Concats built in PyTorch does not survive `torch.onnx.export` (it flattens nested
Concats), so that limit is the TFLite lowering's job (the export stage splits long
concatenations into trees). Imports: torch only (weights are
`cells.RecurrentWeights`).
"""

import torch
from torch.nn import functional

def reverse_steps(x, time_dim):
    """Flip a map along its time axis with Split + Concat (the paper's eq. 10), no Gather."""
    steps = torch.split(x, 1, dim=time_dim)
    return torch.cat(steps[::-1], dim=time_dim) if len(steps) > 1 else x


def project_input(x, w):
    """W_ih * x plus every bias that does not depend on the state, as one 1x1 convolution.

    For tanh/relu/LSTM both b_ih and b_hh fold in; for GRU, b_hn stays inside r * (W_hn h + b_hn).
    """
    bias = w.bias_ih + w.bias_hh
    if w.cell == "gru":
        hidden = w.hidden
        bias = torch.cat([bias[: 2 * hidden], w.bias_ih[2 * hidden :]])
    return functional.conv2d(x, w.weight_ih[:, :, None, None], bias)


def _recurrent(h, w):
    """W_hh * h (+ b_hn for GRU) as a 1x1 convolution over the step's state map."""
    bias = None
    if w.cell == "gru":
        hidden = w.hidden
        bias = torch.cat([torch.zeros_like(w.bias_hh[: 2 * hidden]), w.bias_hh[2 * hidden :]])
    return functional.conv2d(h, w.weight_hh[:, :, None, None], bias)


def step(p_t, h, c, w):
    """One unrolled time step on maps: p_t is the projected input, h/c the state or None at t=0.

    Returns (h', c'). At t = 0 the state is zero, so the recurrent convolution is skipped.
    """
    hidden = w.hidden
    if w.cell in ("tanh", "relu"):
        pre = p_t if h is None else p_t + _recurrent(h, w)
        return (torch.tanh(pre) if w.cell == "tanh" else torch.relu(pre)), None
    if w.cell == "gru":
        p_rz, p_n = torch.split(p_t, [2 * hidden, hidden], dim=1)
        if h is None:
            rz = torch.sigmoid(p_rz)
            h_n = w.bias_hh[2 * hidden :].view(1, hidden, 1, 1)
        else:
            h_rz, h_n = torch.split(_recurrent(h, w), [2 * hidden, hidden], dim=1)
            rz = torch.sigmoid(p_rz + h_rz)
        r, z = torch.split(rz, hidden, dim=1)
        n = torch.tanh(p_n + r * h_n)
        return (n - z * n if h is None else n + z * (h - n)), None
    gates = p_t if h is None else p_t + _recurrent(h, w)
    p_if, p_g, p_o = torch.split(gates, [2 * hidden, hidden, hidden], dim=1)
    i, f = torch.split(torch.sigmoid(p_if), hidden, dim=1)
    ig = i * torch.tanh(p_g)
    c = ig if c is None else f * c + ig
    return torch.sigmoid(p_o) * torch.tanh(c), c


def scan(p, w, time_dim, width=1):
    """Run cell `w` along `time_dim` over a projected map p, `width` slices per step; returns
    the output map (same shape as p with C = hidden channels)."""
    h = c = None
    outputs = []
    for p_t in torch.split(p, width, dim=time_dim):
        h, c = step(p_t, h, c, w)
        outputs.append(h)
    return torch.cat(outputs, dim=time_dim)


def unidirectional(x, w, time_dim):
    """RNN along one spatial axis (the paper's eq. 4 for time_dim = 3, the rows)."""
    return scan(project_input(x, w), w, time_dim)


def weight_shared_bidirectional(x, w, time_dim):
    """WS-BiRNN (the paper's eq. 9): RNN(X) + Flip(RNN(Flip(X))) with one projection and both
    directions batched in every step, laid out so that a firmware can run it in place.

    The time axis is made H (NCHW dim 2, NHWC axis 1: a row pass transposes H<->W in and out),
    so every step's slice is a contiguous block of an NHWC map. The projected rows are stacked
    in step order, forward row t beside backward row T-1-t ([N, C, 2T, M], a pair per step):
    each step's state can then be written over its own input pair, the states concatenated in
    the same order are that stacked buffer again, and the output row t is the sum of the
    forward half of pair t and the backward half of pair T-1-t. See docs/arena.md."""
    if time_dim == 3:
        return weight_shared_bidirectional(x.transpose(2, 3), w, 2).transpose(2, 3)
    p = project_input(x, w)
    rows = torch.split(p, 1, dim=2)
    steps = len(rows)
    pairs = torch.cat([r for t in range(steps) for r in (rows[t], rows[steps - 1 - t])], dim=2)
    states = scan(pairs, w, 2, width=2)
    halves = torch.split(states, 1, dim=2)
    return torch.cat([halves[2 * t] + halves[2 * (steps - 1 - t) + 1] for t in range(steps)],
                     dim=2)


def bidirectional(x, w_forward, w_backward, time_dim, merge):
    """Ordinary BiRNN: separate weights per direction; outputs summed or concatenated (channels)."""
    forward = unidirectional(x, w_forward, time_dim)
    backward = reverse_steps(scan(reverse_steps(project_input(x, w_backward), time_dim), w_backward, time_dim), time_dim)
    return forward + backward if merge == "sum" else torch.cat([forward, backward], dim=1)
