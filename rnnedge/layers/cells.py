"""Recurrent cells: their weights and the per-step equations, read straight from the papers.

A cell is one of `CELLS`: Elman RNN with tanh (the paper's eq. 1) or relu, GRU, or LSTM, with
PyTorch's gate order and PyTorch's separate `b_ih` and `b_hh` (the paper's parameter counts,
eq. 12, rely on the two bias vectors being kept apart).

This module is the *reference* arithmetic over plain (batch, features) tensors. The static,
export-friendly arithmetic over NCHW tensors lives in `static.py`; both read their weights
from `RecurrentWeights`. Imports: torch only.
"""

import math

import torch
from torch import nn

#: cell name -> number of gates stacked in W_ih / W_hh (PyTorch's layout).
CELLS = {"tanh": 1, "relu": 1, "gru": 3, "lstm": 4}


def check_cell(cell):
    """Return `cell` if it names a known recurrent cell, else raise ValueError listing them."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    return cell


class RecurrentWeights(nn.Module):
    """The learnable weights of one recurrent cell: W_ih (G*C x Cin), W_hh (G*C x C), b_ih, b_hh.

    G is the cell's gate count (`CELLS`). Initialised like `torch.nn.RNN`: U(-1/sqrt(C), 1/sqrt(C)).
    Parameter count: G * (Cin*C + C^2 + 2*C), the summand of the paper's eq. 12 for G = 1.
    """

    def __init__(self, c_in, hidden, cell="tanh"):
        super().__init__()
        self.cell = check_cell(cell)
        self.c_in, self.hidden = c_in, hidden
        gates = CELLS[cell] * hidden
        self.weight_ih = nn.Parameter(torch.empty(gates, c_in))
        self.weight_hh = nn.Parameter(torch.empty(gates, hidden))
        self.bias_ih = nn.Parameter(torch.empty(gates))
        self.bias_hh = nn.Parameter(torch.empty(gates))
        bound = 1.0 / math.sqrt(hidden)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def extra_repr(self):
        return f"{self.c_in}, {self.hidden}, cell={self.cell!r}"


def reference_step(x, h, c, w):
    """One time step of cell `w.cell` on a batch: x (B, Cin), h and c (B, C) -> (h', c').

    `c` is the LSTM cell state (None for other cells). Equations as in PyTorch's docs.
    """
    gi = x @ w.weight_ih.T + w.bias_ih
    gh = h @ w.weight_hh.T + w.bias_hh
    if w.cell == "tanh":
        return torch.tanh(gi + gh), None
    if w.cell == "relu":
        return torch.relu(gi + gh), None
    if w.cell == "gru":
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        h_r, h_z, h_n = gh.chunk(3, dim=1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h, None
    i, f, g, o = (gi + gh).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def reference_sequence(x, w):
    """Run cell `w` over sequences: x (B, L, Cin) -> (B, L, C), zero initial state (eq. 1-2)."""
    batch, length, _ = x.shape
    h = x.new_zeros(batch, w.hidden)
    c = x.new_zeros(batch, w.hidden) if w.cell == "lstm" else None
    outputs = []
    for t in range(length):
        h, c = reference_step(x[:, t], h, c, w)
        outputs.append(h)
    return torch.stack(outputs, dim=1)
