"""RNN layers for images (the paper's section II), each in two forms that agree to 1e-5.

- `form="reference"` reads like the paper: sequences along image rows (eq. 4), Flip (eq. 10)
  and the H<->W transpose (eq. 7) done literally, cells stepped by `cells.reference_step`.
- `form="static"` is the unrolled, export-ready graph of `static.py`.

Layers (NCHW in, NCHW out; C_out channels; spatial size unchanged):
  RowRNN     eq. 4   an RNN along every row, same weights for all rows
  SRNN       eq. 8   RNN_2(RNN_1(X)^T)^T: rows, then columns, two weight sets
  WSBiRNN    eq. 9   RNN(X) + Flip(RNN(Flip(X))): one weight set for both directions
  SWSBiRNN   eq. 11  WS-BiRNN_2(WS-BiRNN_1(X)^T)^T
  BiRNN      [7]     separate weights per direction, outputs summed or concatenated
Every layer takes `cell` in `cells.CELLS` (tanh, relu, gru, lstm); WSBiRNN and SWSBiRNN take
`layout` in `static.LAYOUTS` (how the static form lays out the two directions).
Imports: torch, `cells`, `static`.
"""

import torch
from torch import nn

from rnnedge.layers import static
from rnnedge.layers.cells import RecurrentWeights, reference_sequence

FORMS = ("reference", "static")
LAYOUTS = static.LAYOUTS
ROW_TIME_DIM, COLUMN_TIME_DIM = static.ROW_AXIS, static.COLUMN_AXIS  # NCHW: rows run along W, columns along H


def _along_rows(x, w):
    """Apply cell `w` to every row of an NCHW map as an independent sequence (eq. 4)."""
    n, c, h, width = x.shape
    sequences = x.permute(0, 2, 3, 1).reshape(n * h, width, c)
    out = reference_sequence(sequences, w)
    return out.reshape(n, h, width, -1).permute(0, 3, 1, 2)


def _flip(x):
    """eq. 10: reverse the order of every row."""
    return torch.flip(x, dims=[ROW_TIME_DIM])


def _transpose(x):
    """eq. 7: swap the height and width axes."""
    return x.transpose(COLUMN_TIME_DIM, ROW_TIME_DIM)


def _ws_birnn_rows(x, w):
    """eq. 9 on rows: RNN(X) + Flip(RNN(Flip(X))) with the same weights."""
    return _along_rows(x, w) + _flip(_along_rows(_flip(x), w))


class ImageRNN(nn.Module):
    """Base of the image RNN layers: holds the form and dispatches `forward` to it."""

    def __init__(self, out_channels, form):
        super().__init__()
        self.out_channels = out_channels
        self.form = form

    @property
    def form(self):
        return self._form

    @form.setter
    def form(self, value):
        if value not in FORMS:
            raise ValueError(f"unknown form {value!r}; choose one of {', '.join(FORMS)}")
        self._form = value

    def forward(self, x):
        return self.reference(x) if self._form == "reference" else self.static(x)

    def extra_repr(self):
        return f"form={self._form!r}"


class RowRNN(ImageRNN):
    """eq. 4: one RNN along every row (time = W), shared by all rows."""

    def __init__(self, c_in, c_out, cell="tanh", form="reference"):
        super().__init__(c_out, form)
        self.rnn = RecurrentWeights(c_in, c_out, cell)

    def reference(self, x):
        return _along_rows(x, self.rnn)

    def static(self, x):
        return static.unidirectional(x, self.rnn, ROW_TIME_DIM)


class SRNN(ImageRNN):
    """eq. 8: Separable RNN, rows with RNN_1 (C_in -> C_mid) then columns with RNN_2 (-> C_out)."""

    def __init__(self, c_in, c_mid, c_out, cell="tanh", form="reference"):
        super().__init__(c_out, form)
        self.rnn1 = RecurrentWeights(c_in, c_mid, cell)
        self.rnn2 = RecurrentWeights(c_mid, c_out, cell)

    def reference(self, x):
        return _transpose(_along_rows(_transpose(_along_rows(x, self.rnn1)), self.rnn2))

    def static(self, x):
        rows = static.unidirectional(x, self.rnn1, ROW_TIME_DIM)
        return static.unidirectional(rows, self.rnn2, COLUMN_TIME_DIM)


class WSBiRNN(ImageRNN):
    """eq. 9: Weight-Shared Bidirectional RNN along the rows. `layout` (`static.LAYOUTS`)
    chooses how the static form lays the two directions out: "inplace" (the firmware runs it
    in place), "stacked" (fewer ops, smaller TFLM tail) or "pairs" (no copy per step: fewest
    Vela cycles); all compute the same (measured trade-offs: docs/export.md)."""

    def __init__(self, c_in, c_out, cell="tanh", form="reference", layout="inplace"):
        super().__init__(c_out, form)
        self.layout = static.check_layout(layout)
        self.rnn = RecurrentWeights(c_in, c_out, cell)

    def reference(self, x):
        return _ws_birnn_rows(x, self.rnn)

    def static(self, x):
        return static.weight_shared_bidirectional(x, self.rnn, ROW_TIME_DIM, self.layout)


class SWSBiRNN(ImageRNN):
    """eq. 11: Separable Weight-Shared BiRNN, WS-BiRNN_1 on rows (C_in -> C_mid), then
    WS-BiRNN_2 on columns (C_mid -> C_out). Parameters: eq. 12. `layout` as for `WSBiRNN`."""

    def __init__(self, c_in, c_mid, c_out, cell="tanh", form="reference", layout="inplace"):
        super().__init__(c_out, form)
        self.layout = static.check_layout(layout)
        self.rnn1 = RecurrentWeights(c_in, c_mid, cell)
        self.rnn2 = RecurrentWeights(c_mid, c_out, cell)

    def reference(self, x):
        return _transpose(_ws_birnn_rows(_transpose(_ws_birnn_rows(x, self.rnn1)), self.rnn2))

    def static(self, x):
        return static.separable_weight_shared_bidirectional(x, self.rnn1, self.rnn2, self.layout)


class BiRNN(ImageRNN):
    """Ordinary bidirectional RNN along the rows (Schuster & Paliwal): one weight set per
    direction; `merge="sum"` adds the directions (C_out channels), `"concat"` stacks them
    (2*C_out channels). The comparison point for WS-BiRNN's halved parameter count."""

    def __init__(self, c_in, c_out, cell="tanh", merge="sum", form="reference"):
        if merge not in ("sum", "concat"):
            raise ValueError(f"unknown merge {merge!r}; choose 'sum' or 'concat'")
        super().__init__(c_out if merge == "sum" else 2 * c_out, form)
        self.merge = merge
        self.forward_rnn = RecurrentWeights(c_in, c_out, cell)
        self.backward_rnn = RecurrentWeights(c_in, c_out, cell)

    def reference(self, x):
        forward = _along_rows(x, self.forward_rnn)
        backward = _flip(_along_rows(_flip(x), self.backward_rnn))
        return forward + backward if self.merge == "sum" else torch.cat([forward, backward], dim=1)

    def static(self, x):
        return static.bidirectional(x, self.forward_rnn, self.backward_rnn, ROW_TIME_DIM, self.merge)


def set_layout(model, layout):
    """Choose the static layout (`static.LAYOUTS`) of every weight-shared bidirectional layer
    inside `model`; returns `model`."""
    static.check_layout(layout)
    for module in model.modules():
        if isinstance(module, (WSBiRNN, SWSBiRNN)):
            module.layout = layout
    return model


def set_form(model, form):
    """Switch every image RNN layer inside `model` to `form` ("reference" or "static")."""
    for module in model.modules():
        if isinstance(module, ImageRNN):
            module.form = form
    return model
