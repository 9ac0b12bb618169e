"""RNN2D, seed 000's future-work 2-D recurrence (eq. 20), in a reference and a static form.

  h_jk = f(W_ih x_jk + W_hk h_{j,k-1} + W_hj h_{j-1,k} + W_jk h_{j-1,k-1} + b)        (eq. 20)
with zero states outside the map and f = tanh (or relu). `Rnn2dWeights(depthwise=True)` makes
every weight a per-channel vector used element-wise: the depthwise recurrence of eq. 21 that
`ds_rnn.DSRNN` follows with a 1x1 convolution (eq. 22). Only Elman cells (tanh, relu) are
defined: eq. 20-21 give no gated form, and a gated 2-D cell (MD-LSTM) needs one forget gate
per predecessor, which the paper does not define.

Directions (seed 000 section II's bidirectional and weight-shared variants carried to 2-D):
`directions=1` runs from the top-left corner; 2 adds the pass from the bottom-right corner;
4 adds the top-right and bottom-left ones; the passes are summed (as WS-BiRNN, eq. 9).
`weight_sharing=True` uses one weight set for every pass, else one per pass.
Parameters per weight set: Cin*C + 3*C^2 + C (depthwise: 5*C); MACs: that times H*W per pass.

Static form, a wavefront over anti-diagonals: cell (j, k) depends only on diagonals
j+k-1 and j+k-2, so the projected map P = W_ih x + b is skewed (row j shifted right by j with
PAD, rows concatenated: column d of the skewed map is diagonal d) and one step per column
computes a whole diagonal at once: W_hk h_{j,k-1} + W_hj h_{j-1,k} is one 2x1 convolution of
the previous column padded by a zero row on top, W_jk h_{j-1,k-1} a 1x1 convolution of the
column before it shifted down one row. H + W - 1 steps instead of H*W. Cells of the skewed
map left of the image have zero input and zero neighbours, so they stay exactly zero (f(0) = 0,
no bias outside P); cells right of it are never read by image cells. The output is read back
with one slice per row. Ops: Conv, Pad, Slice, Split, Concat, Add, Tanh/Relu.
Imports: torch, `static`, `image_rnn`.
"""

import math

import torch
from torch.nn import functional
from torch import nn

from rnnedge.layers import static
from rnnedge.layers.image_rnn import COLUMN_TIME_DIM, ROW_TIME_DIM, ImageRNN

RNN2D_CELLS = {"tanh": torch.tanh, "relu": torch.relu}
#: pass origins as (flip H, flip W), in the order `directions` adds them
ORIGINS = ((False, False), (True, True), (False, True), (True, False))


def rnn2d_cell_params(c_in, hidden, depthwise=False):
    """eq. 20: Cin*C + 3*C^2 + C; depthwise (eq. 21, Cin = C): 5*C."""
    return 5 * hidden if depthwise else c_in * hidden + 3 * hidden * hidden + hidden


class Rnn2dWeights(nn.Module):
    """W_ih, W_hk (left), W_hj (up), W_jk (diagonal) and b of eq. 20; per-channel vectors when
    `depthwise` (eq. 21, hidden = c_in)."""

    def __init__(self, c_in, hidden, cell="tanh", depthwise=False):
        super().__init__()
        if cell not in RNN2D_CELLS:
            raise ValueError(f"unknown 2-D cell {cell!r}; choose one of {', '.join(RNN2D_CELLS)}")
        if depthwise and c_in != hidden:
            raise ValueError("a depthwise 2-D recurrence keeps its channel count (hidden = c_in)")
        self.c_in, self.hidden, self.cell, self.depthwise = c_in, hidden, cell, depthwise
        bound = 1.0 / math.sqrt(hidden)
        shape_ih, shape_hh = ((hidden,), (hidden,)) if depthwise else ((hidden, c_in), (hidden, hidden))
        self.weight_ih = nn.Parameter(torch.empty(shape_ih).uniform_(-bound, bound))
        self.weight_left = nn.Parameter(torch.empty(shape_hh).uniform_(-bound, bound))
        self.weight_up = nn.Parameter(torch.empty(shape_hh).uniform_(-bound, bound))
        self.weight_diag = nn.Parameter(torch.empty(shape_hh).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(hidden).uniform_(-bound, bound))

    def formula_params(self):
        return rnn2d_cell_params(self.c_in, self.hidden, self.depthwise)

    def extra_repr(self):
        return f"{self.c_in}, {self.hidden}, cell={self.cell!r}, depthwise={self.depthwise}"


def _apply(weight, v, depthwise):
    """W v on a batch of vectors (B, C): a matrix product, or element-wise when depthwise."""
    return v * weight if depthwise else v @ weight.T


def reference_pass(x, w):
    """eq. 20 from the top-left corner, cell by cell: x (N, Cin, H, W) -> (N, C, H, W)."""
    _, _, height, width = x.shape
    f = RNN2D_CELLS[w.cell]
    h = [[None] * width for _ in range(height)]
    for j in range(height):
        for k in range(width):
            pre = _apply(w.weight_ih, x[:, :, j, k], w.depthwise) + w.bias
            if k > 0:
                pre = pre + _apply(w.weight_left, h[j][k - 1], w.depthwise)
            if j > 0:
                pre = pre + _apply(w.weight_up, h[j - 1][k], w.depthwise)
            if j > 0 and k > 0:
                pre = pre + _apply(w.weight_diag, h[j - 1][k - 1], w.depthwise)
            h[j][k] = f(pre)
    return torch.stack([torch.stack(row, dim=2) for row in h], dim=2)


def _conv(x, weight, depthwise):
    """A convolution whose weight is (Cout, Cin or 1, kh, kw); depthwise when asked."""
    return functional.conv2d(x, weight, groups=x.shape[1] if depthwise else 1)


def _kernel(weight, depthwise):
    return weight.view(-1, 1, 1, 1) if depthwise else weight[:, :, None, None]


def wavefront_pass(x, w):
    """eq. 20 from the top-left corner as H + W - 1 anti-diagonal steps (module docstring)."""
    _, _, height, width = x.shape
    f = RNN2D_CELLS[w.cell]
    p = _conv(x, _kernel(w.weight_ih, w.depthwise), w.depthwise) + w.bias.view(1, -1, 1, 1)
    rows = torch.split(p, 1, dim=COLUMN_TIME_DIM)
    skewed = torch.cat([functional.pad(r, (j, height - 1 - j)) for j, r in enumerate(rows)], dim=COLUMN_TIME_DIM)
    # the 2x1 kernel: top tap reads h_{j-1,k} (W_hj), bottom tap h_{j,k-1} (W_hk)
    left_up = torch.stack([w.weight_up, w.weight_left], dim=-1)
    left_up = left_up.view(-1, 1, 2, 1) if w.depthwise else left_up[:, :, :, None]
    diag = _kernel(w.weight_diag, w.depthwise)
    states, previous, before = [], None, None
    for p_d in torch.split(skewed, 1, dim=ROW_TIME_DIM):
        pre = p_d
        if previous is not None:
            if height > 1:
                pre = pre + _conv(functional.pad(previous, (0, 0, 1, 0)), left_up, w.depthwise)
            else:
                pre = pre + _conv(previous, _kernel(w.weight_left, w.depthwise), w.depthwise)
        if before is not None and height > 1:
            shifted = functional.pad(before[:, :, : height - 1], (0, 0, 1, 0))
            pre = pre + _conv(shifted, diag, w.depthwise)
        previous, before = f(pre), previous
        states.append(previous)
    diagonals = torch.cat(states, dim=ROW_TIME_DIM)
    return torch.cat([diagonals[:, :, j:j + 1, j:j + width] for j in range(height)], dim=COLUMN_TIME_DIM)


def _flip(x, origin, literal):
    """Bring a pass origin to the top-left: flip H and/or W (torch.flip, or Split + Concat)."""
    for flip, dim in zip(origin, (COLUMN_TIME_DIM, ROW_TIME_DIM)):
        if flip:
            x = torch.flip(x, dims=[dim]) if literal else static.reverse_steps(x, dim)
    return x


class RNN2D(ImageRNN):
    """eq. 20 over (N, Cin, H, W) -> (N, C, H, W); `directions` passes summed (docstring)."""

    def __init__(self, c_in, c_out, cell="tanh", directions=1, weight_sharing=True, form="reference",
                 depthwise=False):
        if directions not in (1, 2, 4):
            raise ValueError(f"directions must be 1, 2 or 4, not {directions!r}")
        super().__init__(c_out, form)
        self.directions, self.weight_sharing = directions, weight_sharing
        sets = 1 if weight_sharing else directions
        self.passes = nn.ModuleList(Rnn2dWeights(c_in, c_out, cell, depthwise) for _ in range(sets))

    def _run(self, x, one_pass, literal):
        total = None
        for i, origin in enumerate(ORIGINS[: self.directions]):
            w = self.passes[0 if self.weight_sharing else i]
            y = _flip(one_pass(_flip(x, origin, literal), w), origin, literal)
            total = y if total is None else total + y
        return total

    def reference(self, x):
        return self._run(x, reference_pass, literal=True)

    def static(self, x):
        return self._run(x, wavefront_pass, literal=False)

    def cell_runs(self, height, width):
        """[(weights, positions)] once per pass: every pass visits every position."""
        return [(self.passes[0 if self.weight_sharing else i], height * width) for i in range(self.directions)]

    def extra_repr(self):
        return f"directions={self.directions}, weight_sharing={self.weight_sharing}, {super().extra_repr()}"
