"""RNN2D, seed 000's future-work 2-D recurrence (eq. 20), in a reference and a static form.

  h_jk = f(W_ih x_jk + W_hk h_{j,k-1} + W_hj h_{j-1,k} + W_jk h_{j-1,k-1} + b)        (eq. 20)
with zero states outside the map and f = tanh (or relu). `Rnn2dWeights(depthwise=True)` makes
every weight a per-channel vector used element-wise: the depthwise recurrence of eq. 21 that
`ds_rnn.DSRNN` follows with a 1x1 convolution (eq. 22).

Gated cells (`gru`, `lstm`; the paper gives none, so this is rnnedge's reading): every gate
reads x_jk and the three predecessors through its own weights, as eq. 20's pre-activation
does, with PyTorch's gate order and separate b_ih / b_hh (b_hn inside r * (...) for GRU); the
state the cell keeps (GRU's h_{t-1} in z * h_{t-1}, LSTM's c_{t-1} in f * c_{t-1}) is
  h~ = h_{j,k-1} + h_{j-1,k} - h_{j-1,k-1}            (LSTM: c~ likewise)
the only linear combination of the three that is PyTorch's GRU / LSTM on the first row and
the first column (where the other predecessors are zero) and keeps a constant state constant.
So on a 1-row (or 1-column) map the 2-D cell is `torch.nn.GRU` / `nn.LSTM` with W_hh = W_hk
(W_hj); tests/test_layers_family.py checks that.

Directions (seed 000 section II's bidirectional and weight-shared variants carried to 2-D):
`directions=1` runs from the top-left corner; 2 adds the pass from the bottom-right corner;
4 adds the top-right and bottom-left ones; the passes are summed (as WS-BiRNN, eq. 9).
`weight_sharing=True` uses one weight set for every pass, else one per pass.
Parameters per weight set, G gates (1 Elman, 3 GRU, 4 LSTM): Elman Cin*C + 3*C^2 + C,
gated G*(Cin*C + 3*C^2 + 2*C); depthwise (Cin = C) 5*C and 6*G*C; MACs: that times H*W per pass.

Static form, a wavefront over anti-diagonals: cell (j, k) depends only on diagonals
j+k-1 and j+k-2, so the projected map P = W_ih x + b is skewed (row j shifted right by j with
PAD, rows concatenated: column d of the skewed map is diagonal d) and one step per column
computes a whole diagonal at once: W_hk h_{j,k-1} + W_hj h_{j-1,k} is one 2x1 convolution of
the previous column padded by a zero row on top, W_jk h_{j-1,k-1} a 1x1 convolution of the
column before it shifted down one row. H + W - 1 steps instead of H*W. Cells of the skewed
map left of the image have zero input and zero neighbours, so Elman cells keep them exactly
zero (f(0) = 0, no bias outside P); a gated cell's biases would not, so the first H - 1
diagonals keep only their image rows (SLICE + zero PAD). Cells right of the image are never
read by image cells. The output is read back with one slice per row. Depthwise gated weights
read the state tiled G times (CONCAT), one channel per gate. Ops: Conv, Pad, Slice, Split,
Concat, Add, Sub, Mul, Tanh/Relu/Logistic.
Imports: torch, `static`, `image_rnn`.
"""

import math

import torch
from torch.nn import functional
from torch import nn

from rnnedge.layers import static
from rnnedge.layers.image_rnn import COLUMN_TIME_DIM, ROW_TIME_DIM, ImageRNN

#: 2-D cell name -> gate count (PyTorch's gate order for GRU and LSTM)
RNN2D_CELLS = {"tanh": 1, "relu": 1, "gru": 3, "lstm": 4}
ELMAN = {"tanh": torch.tanh, "relu": torch.relu}
#: pass origins as (flip H, flip W), in the order `directions` adds them
ORIGINS = ((False, False), (True, True), (False, True), (True, False))


def rnn2d_cell_params(c_in, hidden, depthwise=False, cell="tanh"):
    """Elman: Cin*C + 3*C^2 + C (depthwise, eq. 21, Cin = C: 5*C); gated with G gates:
    G*(Cin*C + 3*C^2 + 2*C) (depthwise 6*G*C)."""
    gates = RNN2D_CELLS[cell]
    if gates == 1:
        return 5 * hidden if depthwise else c_in * hidden + 3 * hidden * hidden + hidden
    return gates * (6 * hidden if depthwise else c_in * hidden + 3 * hidden * hidden + 2 * hidden)


class Rnn2dWeights(nn.Module):
    """W_ih, W_hk (left), W_hj (up), W_jk (diagonal) and b of eq. 20 (G*C rows each for a
    gated cell, which adds b_hh); per-channel vectors when `depthwise` (eq. 21, hidden = c_in)."""

    def __init__(self, c_in, hidden, cell="tanh", depthwise=False):
        super().__init__()
        if cell not in RNN2D_CELLS:
            raise ValueError(f"unknown 2-D cell {cell!r}; choose one of {', '.join(RNN2D_CELLS)}")
        if depthwise and c_in != hidden:
            raise ValueError("a depthwise 2-D recurrence keeps its channel count (hidden = c_in)")
        self.c_in, self.hidden, self.cell, self.depthwise = c_in, hidden, cell, depthwise
        self.gates = rows = RNN2D_CELLS[cell] * hidden
        bound = 1.0 / math.sqrt(hidden)
        shape_ih, shape_hh = ((rows,), (rows,)) if depthwise else ((rows, c_in), (rows, hidden))
        self.weight_ih = nn.Parameter(torch.empty(shape_ih).uniform_(-bound, bound))
        self.weight_left = nn.Parameter(torch.empty(shape_hh).uniform_(-bound, bound))
        self.weight_up = nn.Parameter(torch.empty(shape_hh).uniform_(-bound, bound))
        self.weight_diag = nn.Parameter(torch.empty(shape_hh).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(rows).uniform_(-bound, bound))
        self.bias_hh = nn.Parameter(torch.empty(rows).uniform_(-bound, bound)) if self.gated else None

    @property
    def gated(self):
        return self.cell not in ELMAN

    def formula_params(self):
        return rnn2d_cell_params(self.c_in, self.hidden, self.depthwise, self.cell)

    def extra_repr(self):
        return f"{self.c_in}, {self.hidden}, cell={self.cell!r}, depthwise={self.depthwise}"


def _apply(weight, v, depthwise):
    """W v on a batch of vectors (B, C): a matrix product, or element-wise when depthwise
    (the state tiled once per gate)."""
    if not depthwise:
        return v @ weight.T
    return v.repeat(1, weight.shape[0] // v.shape[1]) * weight


def _gated_cell(gi, gh, kept_h, kept_c, w):
    """PyTorch's GRU / LSTM equations with (h~, c~) as the kept state: gi = W_ih x + b_ih,
    gh = the predecessors' projections + b_hh; (B, ...) with gates on dim 1 -> (h, c)."""
    if w.cell == "gru":
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        h_r, h_z, h_n = gh.chunk(3, dim=1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * kept_h, None
    i, f, g, o = (gi + gh).chunk(4, dim=1)
    c = torch.sigmoid(f) * kept_c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def reference_pass(x, w):
    """eq. 20 (or its gated reading) from the top-left corner, cell by cell:
    x (N, Cin, H, W) -> (N, C, H, W)."""
    batch, _, height, width = x.shape
    zero = x.new_zeros(batch, w.hidden)
    h = [[zero] * (width + 1) for _ in range(height + 1)]   # h[j+1][k+1]: row/column -1 are zeros
    c = [[zero] * (width + 1) for _ in range(height + 1)]
    for j in range(height):
        for k in range(width):
            left, up, diag = h[j + 1][k], h[j][k + 1], h[j][k]
            gi = _apply(w.weight_ih, x[:, :, j, k], w.depthwise) + w.bias
            gh = (_apply(w.weight_left, left, w.depthwise) + _apply(w.weight_up, up, w.depthwise)
                  + _apply(w.weight_diag, diag, w.depthwise))
            if not w.gated:
                h[j + 1][k + 1] = ELMAN[w.cell](gi + gh)
                continue
            kept_c = c[j + 1][k] + c[j][k + 1] - c[j][k]
            h[j + 1][k + 1], cell_c = _gated_cell(gi, gh + w.bias_hh, left + up - diag, kept_c, w)
            c[j + 1][k + 1] = zero if cell_c is None else cell_c
    return torch.stack([torch.stack(row[1:], dim=2) for row in h[1:]], dim=2)


def _conv(x, weight, depthwise, bias=None):
    """A convolution whose weight is (Cout, Cin or 1, kh, kw); depthwise when asked (the
    input tiled to one channel per output channel: the gates of a depthwise gated cell)."""
    if not depthwise:
        return functional.conv2d(x, weight, bias)
    tiles = weight.shape[0] // x.shape[1]
    return functional.conv2d(torch.cat([x] * tiles, dim=1) if tiles > 1 else x, weight, bias, groups=weight.shape[0])


def _kernel(weight, depthwise):
    return weight.view(-1, 1, 1, 1) if depthwise else weight[:, :, None, None]


def _input_bias(w):
    """The biases that do not depend on the state (folded into P): b, plus b_hh but b_hn."""
    if not w.gated:
        return w.bias
    bias_hh = w.bias_hh.clone()
    if w.cell == "gru":
        bias_hh[2 * w.hidden:] = 0
    return w.bias + bias_hh


def _down(v, height):
    """A diagonal's column shifted down one row (row j holds row j-1, row 0 zeros)."""
    return functional.pad(v[:, :, : height - 1], (0, 0, 1, 0))


def _wavefront_step(p_d, previous, before, c_previous, c_before, w, height):
    """One anti-diagonal: (h, c) of its cells from the two diagonals before it."""
    gh = None
    if previous is not None:
        if height > 1:
            left_up = torch.stack([w.weight_up, w.weight_left], dim=-1)
            left_up = left_up.view(-1, 1, 2, 1) if w.depthwise else left_up[:, :, :, None]
            gh = _conv(functional.pad(previous, (0, 0, 1, 0)), left_up, w.depthwise)
        else:
            gh = _conv(previous, _kernel(w.weight_left, w.depthwise), w.depthwise)
    if before is not None and height > 1:
        gh = gh + _conv(_down(before, height), _kernel(w.weight_diag, w.depthwise), w.depthwise)
    if not w.gated:
        return ELMAN[w.cell](p_d if gh is None else p_d + gh), None
    hidden = w.hidden
    if w.cell == "gru":
        b_hn = w.bias_hh[2 * hidden:].view(1, hidden, 1, 1)
        p_rz, p_n = torch.split(p_d, [2 * hidden, hidden], dim=1)
        if gh is None:
            rz, h_n = torch.sigmoid(p_rz), b_hn
        else:
            h_rz, h_n = torch.split(gh, [2 * hidden, hidden], dim=1)
            rz, h_n = torch.sigmoid(p_rz + h_rz), h_n + b_hn
        r, z = torch.split(rz, hidden, dim=1)
        n = torch.tanh(p_n + r * h_n)
        if previous is None:
            return n - z * n, None
        return n + z * (_kept(previous, before, height) - n), None
    gates = p_d if gh is None else p_d + gh
    p_if, p_g, p_o = torch.split(gates, [2 * hidden, hidden, hidden], dim=1)
    i, f = torch.split(torch.sigmoid(p_if), hidden, dim=1)
    c = i * torch.tanh(p_g)
    if c_previous is not None:
        c = c + f * _kept(c_previous, c_before, height)
    return torch.sigmoid(p_o) * torch.tanh(c), c


def _kept(previous, before, height):
    """h~ = h_left + h_up - h_diag of a diagonal's cells from the two diagonals before it."""
    if height == 1:
        return previous
    kept = previous + _down(previous, height)
    return kept if before is None else kept - _down(before, height)


def _image_rows(v, d, height):
    """Diagonal d's state with the cells left of the image (rows j > d) set to zero."""
    if v is None or d >= height - 1:
        return v
    return functional.pad(v[:, :, : d + 1], (0, 0, 0, height - 1 - d))


def wavefront_pass(x, w):
    """eq. 20 from the top-left corner as H + W - 1 anti-diagonal steps (module docstring)."""
    _, _, height, width = x.shape
    p = _conv(x, _kernel(w.weight_ih, w.depthwise), w.depthwise, _input_bias(w))
    rows = torch.split(p, 1, dim=COLUMN_TIME_DIM)
    skewed = torch.cat([functional.pad(r, (j, height - 1 - j)) for j, r in enumerate(rows)], dim=COLUMN_TIME_DIM)
    states, previous, before, c_previous, c_before = [], None, None, None, None
    for d, p_d in enumerate(torch.split(skewed, 1, dim=ROW_TIME_DIM)):
        h, c = _wavefront_step(p_d, previous, before, c_previous, c_before, w, height)
        if w.gated:
            h, c = _image_rows(h, d, height), _image_rows(c, d, height)
        previous, before, c_previous, c_before = h, previous, c, c_previous
        states.append(h)
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
