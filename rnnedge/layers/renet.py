"""ReNet (seed 002 section 2.1, Fig. 1, eq. 1-2) and the ReSeg recurrent block (seed 001), in
a reference and a static form that agree to 1e-5.

ReNet: the input is cut into non-overlapping h_p x w_p patches p_ij, flattened (channel-major,
as `torch.nn.Unfold` orders them); a bidirectional RNN sweeps every patch row left to right
and right to left (eq. 2), its two outputs concatenated (eq. 1: 2C channels); a second
bidirectional RNN sweeps the columns of that map top-down and bottom-up. Out: 2C channels
at (H/h_p, W/w_p). Variants (seed 002 section 3.2):
- `weight_sharing=True` (Directional Weight Sharing): RNN^F = RNN^B in each sweep; the static
  form then projects the input once for both directions, as the WS-BiRNN does;
- `sigmoid_weighting=True`: a learnable weight per patch, sigmoid(w . p_ij + b), scales the
  patch before the first sweep (one conv with a 1-channel output over each patch).
`ReSegBlock` (seed 001, "The structure of recurrent block" 1-4) is the same layer with the
sweeps in the other order: top-down/bottom-up over block columns first, then left-right.
A cell is any of `cells.CELLS`, a name in `darts.DARTS_CELLS` or a `darts.DartsCell`.

Static form: the first sweep's input projection is one convolution with kernel = stride =
the patch (the flattened patch times W_ih), the second a 1x1 convolution; then per step the
cell's convs and element-wise ops (`static.step` / `darts.static_step`). Separate-weight
sweeps step along their own axis; weight-shared sweeps use the paired in-place layout of
`static.weight_shared_bidirectional` (time along H, row passes transposed in and out).
Imports: torch, `cells`, `darts`, `static`, `image_rnn`.
"""

import torch
from torch.nn import functional
from torch import nn

from rnnedge.layers import darts, static
from rnnedge.layers.cells import CELLS, RecurrentWeights, reference_sequence
from rnnedge.layers.image_rnn import COLUMN_TIME_DIM, ROW_TIME_DIM, ImageRNN

ORDERS = {"hv": (ROW_TIME_DIM, COLUMN_TIME_DIM), "vh": (COLUMN_TIME_DIM, ROW_TIME_DIM)}


def make_weights(c_in, hidden, cell):
    """The weights of a cell given by name (`CELLS`, `DARTS_CELLS`) or as a `DartsCell`."""
    if isinstance(cell, darts.DartsCell):
        return darts.DartsWeights(c_in, hidden, cell)
    if cell in darts.DARTS_CELLS:
        return darts.DartsWeights(c_in, hidden, darts.DARTS_CELLS[cell])
    if cell in CELLS:
        return RecurrentWeights(c_in, hidden, cell)
    raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join([*CELLS, *darts.DARTS_CELLS])} "
                     "or pass a DartsCell")


def _is_darts(w):
    return isinstance(w, darts.DartsWeights)


def sequence(x, w):
    """Reference: cell `w` over sequences x (B, L, Cin) -> (B, L, C)."""
    return darts.reference_sequence(x, w) if _is_darts(w) else reference_sequence(x, w)


def project(x, w, kernel=(1, 1), scale=None):
    """Static: the state-independent part of every step for the whole map, one convolution
    with kernel = stride = `kernel` (W_ih reshaped channel-major), optionally times a
    per-position `scale` map, plus the state-independent biases."""
    weight = w.weight_x if _is_darts(w) else w.weight_ih
    weight = weight.reshape(weight.shape[0], -1, *kernel)
    bias = None if _is_darts(w) else static.input_bias(w)
    if scale is None:
        return functional.conv2d(x, weight, bias, stride=kernel)
    p = functional.conv2d(x, weight, stride=kernel) * scale
    return p if bias is None else p + bias.view(1, -1, 1, 1)


def scan(p, w, time_dim, width=1):
    """Static: run cell `w` along `time_dim` over the projected map p, `width` slices a step."""
    h = c = None
    outputs = []
    for p_t in torch.split(p, width, dim=time_dim):
        if _is_darts(w):
            h = darts.static_step(p_t, h, w)
        else:
            h, c = static.step(p_t, h, c, w)
        outputs.append(h)
    return torch.cat(outputs, dim=time_dim)


def shared_bidirectional_concat(p, w, time_dim):
    """Static: both directions of one weight set over a projected map, outputs concatenated
    on channels (forward first); time along H in the paired layout (step t holds forward row t
    and backward row T-1-t), so each step's state can overwrite its own input rows."""
    if time_dim == ROW_TIME_DIM:
        return shared_bidirectional_concat(p.transpose(2, 3), w, COLUMN_TIME_DIM).transpose(2, 3)
    rows = torch.split(p, 1, dim=2)
    steps = len(rows)
    pairs = torch.cat([r for t in range(steps) for r in (rows[t], rows[steps - 1 - t])], dim=2)
    halves = torch.split(scan(pairs, w, 2, width=2), 1, dim=2)
    return torch.cat([torch.cat([halves[2 * t], halves[2 * (steps - 1 - t) + 1]], dim=1)
                      for t in range(steps)], dim=2)


def separate_bidirectional_concat(p_forward, p_backward, w_forward, w_backward, time_dim):
    """Static: forward and backward sweeps with their own weights, concatenated on channels."""
    forward = scan(p_forward, w_forward, time_dim)
    backward = static.reverse_steps(scan(static.reverse_steps(p_backward, time_dim), w_backward, time_dim),
                                    time_dim)
    return torch.cat([forward, backward], dim=1)


class ReNet(ImageRNN):
    """ReNet layer: (N, Cin, H, W) -> (N, 2*hidden, H/h_p, W/w_p); see the module docstring."""

    def __init__(self, c_in, hidden, cell="gru", patch=(2, 2), weight_sharing=False,
                 sigmoid_weighting=False, order="hv", form="reference"):
        if order not in ORDERS:
            raise ValueError(f"unknown sweep order {order!r}; choose one of {', '.join(ORDERS)}")
        super().__init__(2 * hidden, form)
        self.c_in, self.hidden, self.patch = c_in, hidden, tuple(int(p) for p in patch)
        self.order, self.weight_sharing = order, weight_sharing
        patch_features = c_in * self.patch[0] * self.patch[1]
        directions = 1 if weight_sharing else 2
        self.sweeps = nn.ModuleList(
            nn.ModuleList(make_weights(n_in, hidden, cell) for _ in range(directions))
            for n_in in (patch_features, 2 * hidden))
        self.patch_weight = nn.Conv2d(c_in, 1, self.patch, stride=self.patch) if sigmoid_weighting else None

    def _grid(self, x):
        n, c, h, w = x.shape
        hp, wp = self.patch
        if h % hp or w % wp:
            raise ValueError(f"{type(self).__name__}: a {h}x{w} map does not split into {hp}x{wp} patches")
        return n, h // hp, w // wp

    def reference(self, x):
        """eq. 1-2: flattened patches, then a bidirectional sweep per axis in `order`."""
        n, rows, cols = self._grid(x)
        hp, wp = self.patch
        grid = x.reshape(n, self.c_in, rows, hp, cols, wp).permute(0, 2, 4, 1, 3, 5).reshape(n, rows, cols, -1)
        if self.patch_weight is not None:
            grid = grid * torch.sigmoid(self.patch_weight(x)).permute(0, 2, 3, 1)
        for sweep, time_dim in zip(self.sweeps, ORDERS[self.order]):
            w_forward, w_backward = sweep[0], sweep[-1]
            if time_dim == COLUMN_TIME_DIM:
                grid = grid.transpose(1, 2)
            seq = grid.reshape(-1, grid.shape[2], grid.shape[3])
            forward = sequence(seq, w_forward)
            backward = sequence(seq.flip(1), w_backward).flip(1)
            grid = torch.cat([forward, backward], dim=2).reshape(*grid.shape[:3], -1)
            if time_dim == COLUMN_TIME_DIM:
                grid = grid.transpose(1, 2)
        return grid.permute(0, 3, 1, 2)

    def static(self, x):
        self._grid(x)
        scale = torch.sigmoid(self.patch_weight(x)) if self.patch_weight is not None else None
        for i, (sweep, time_dim) in enumerate(zip(self.sweeps, ORDERS[self.order])):
            kernel = self.patch if i == 0 else (1, 1)
            if self.weight_sharing:
                x = shared_bidirectional_concat(project(x, sweep[0], kernel, scale), sweep[0], time_dim)
            else:
                x = separate_bidirectional_concat(project(x, sweep[0], kernel, scale),
                                                  project(x, sweep[1], kernel, scale),
                                                  sweep[0], sweep[1], time_dim)
            scale = None
        return x

    def cell_runs(self, height, width):
        """[(cell weights, positions it runs over)], once per direction it runs."""
        positions = (height // self.patch[0]) * (width // self.patch[1])
        directions = 2 if self.weight_sharing else 1
        return [(w, positions) for sweep in self.sweeps for w in sweep for _ in range(directions)]

    def extra_repr(self):
        return (f"{self.c_in}, {self.hidden}, patch={self.patch}, order={self.order!r}, "
                f"weight_sharing={self.weight_sharing}, {super().extra_repr()}")


class ReSegBlock(ReNet):
    """The ReSeg recurrent block (seed 001): I x J blocks of H_p x W_p x C, a top-down and a
    bottom-up recurrent layer over block columns concatenated (2U channels), then the same
    left-right. Defaults as the course's example: tanh cells, separate weights per direction."""

    def __init__(self, c_in, hidden, cell="tanh", patch=(2, 2), weight_sharing=False, form="reference"):
        super().__init__(c_in, hidden, cell, patch, weight_sharing, False, "vh", form)
