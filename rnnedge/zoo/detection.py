"""The person-detection networks of the paper's Tables 1 (256x256) and 2 (480x640).

A table is data (`TABLE_1`, `TABLE_2`): one `Row` per table index, wired by the "From" column.
Backbone: row 0 (3x3 conv, stride 2) and rows 1-8 (modified InvRes blocks, Fig. 2, repeated n
times). Neck: rows 9-17. Heads: rows 18-22, each either n 3x3 convs C->C with bias (CNN) or one
SWS-BiRNN (CRNN). The model returns the five head outputs in row order (18, ..., 22).

Readings where the paper is ambiguous (every one reproduces the table's parameter counts):
- Convs whose row counts no bias and no BatchNorm (rows 0, 9-13) keep a non-affine BatchNorm
  (`norm="plain"`, no parameters); rows 14-17 have a bias and no BatchNorm. ReLU follows every
  backbone and neck conv; inside a CNN head ReLU sits between convs and the last is linear.
- SWS-BiRNN (Cmid, Cout): eq. 12 has several integer solutions per row. Defaults: Table 1
  row 18 (90, 90) [also (53, 127), (138, 22)], rows 19-22 (65, 65) [also (46, 84)]; Table 2
  row 18 (65, 65) [also (71, 57), (8, 122)], rows 19-22 (35, 29) (the only one). Override with
  `rnn_channels={18: (53, 127), ...}`.
- The final prediction layer (3 anchors per head) is not in the tables' counts; by default the
  heads end where the table ends. `predict_channels=K` appends a 1x1 conv with bias to every
  head (e.g. K = 18 for 3 anchors x (4 box + objectness + 1 class)), listed as extra rows.
- Any input size that is a multiple of 32 builds the same network (parameters do not depend
  on it): `rnnedge train --input-size` and `summary --input-size` use that; maps round up
  (a 128x128 input gives head maps 16, 8, 4, 2, 1; the trained detector is `rnnedge.detect`).
- Table 2 prints 15x30, 8x15 and 4x8 inputs for rows 12-17 and 20-22; a 480x640 input
  gives 15x20, 8x10 and 4x5 there (640/32 = 20). Parameters do not depend on it; MACs do,
  and are counted at the real shapes.
Imports: torch, `rnnedge.layers`, `blocks`.
"""

from dataclasses import dataclass

from torch import nn

from rnnedge.layers import SWSBiRNN
from rnnedge.zoo.blocks import ConvUnit, InvRes

HEAD_ROWS = (18, 19, 20, 21, 22)


@dataclass(frozen=True)
class Row:
    """One table row: `kind` is "conv", "invres" or "head"; `repeat` is the table's n (for a
    head: the CNN's conv count); `rnn` is the CRNN head's default (Cmid, Cout)."""

    index: int
    source: int
    kind: str
    c_in: int
    c_out: int
    kernel: int = 3
    stride: int = 1
    repeat: int = 1
    expansion: int = 0
    bias: bool = False
    rnn: tuple = ()


def _table(stem, blocks, neck, heads):
    """Assemble the rows of a detection table from its three parts."""
    rows = [Row(0, -1, "conv", *stem, kernel=3, stride=2)]
    rows += [Row(i, i - 1, "invres", c_in, c_out, stride=s, repeat=n, expansion=e)
             for i, (c_in, e, c_out, s, n) in enumerate(blocks, start=1)]
    rows += [Row(i, src, "conv", c_in, c_out, kernel=k, stride=s, bias=b) for i, src, c_in, c_out, k, s, b in neck]
    rows += [Row(i, src, "head", c, c, repeat=n, bias=True, rnn=rnn) for i, src, c, n, rnn in heads]
    return tuple(rows)


TABLE_1 = _table(
    (3, 5),
    [(5, 20, 10, 2, 1), (10, 20, 10, 1, 1), (10, 120, 19, 2, 1), (19, 114, 19, 1, 2),
     (19, 114, 27, 2, 1), (27, 108, 27, 1, 6), (27, 108, 33, 2, 1), (33, 132, 33, 1, 2)],
    [(9, 8, 33, 56, 3, 1, False), (10, 4, 19, 37, 1, 1, False), (11, 6, 27, 19, 1, 1, False),
     (12, 9, 56, 19, 1, 1, False), (13, 12, 19, 19, 1, 1, False), (14, 12, 19, 19, 1, 1, True),
     (15, 14, 19, 19, 3, 2, True), (16, 15, 19, 19, 1, 1, True), (17, 16, 19, 19, 3, 2, True)],
    [(18, 10, 37, 4, (90, 90)), (19, 11, 19, 4, (65, 65)), (20, 13, 19, 4, (65, 65)),
     (21, 15, 19, 2, (65, 65)), (22, 17, 19, 1, (65, 65))],
)

TABLE_2 = _table(
    (3, 8),
    [(8, 32, 15, 2, 1), (15, 30, 15, 1, 1), (15, 180, 29, 2, 1), (29, 174, 29, 1, 2),
     (29, 174, 22, 2, 1), (22, 88, 22, 1, 6), (22, 88, 22, 2, 1), (22, 88, 22, 1, 2)],
    [(9, 8, 22, 85, 3, 1, False), (10, 4, 29, 57, 1, 1, False), (11, 6, 22, 29, 1, 1, False),
     (12, 9, 85, 29, 1, 1, False), (13, 12, 29, 29, 1, 1, False), (14, 12, 29, 29, 1, 1, True),
     (15, 14, 29, 29, 3, 2, True), (16, 15, 29, 29, 1, 1, True), (17, 16, 29, 29, 3, 2, True)],
    [(18, 10, 57, 4, (65, 65)), (19, 11, 29, 4, (35, 29)), (20, 13, 29, 4, (35, 29)),
     (21, 15, 29, 2, (35, 29)), (22, 17, 29, 1, (35, 29))],
)


def _cnn_head(channels, count):
    """n 3x3 convs C->C with bias; ReLU between them, the last one linear."""
    return nn.Sequential(*[ConvUnit(channels, channels, 3, bias=True, norm="none", relu=i < count - 1)
                           for i in range(count)])


def _build_row(row, head, cell, rnn_channels):
    """The module for one table row."""
    if row.kind == "invres":
        return nn.Sequential(*[InvRes(row.c_in if i == 0 else row.c_out, row.expansion, row.c_out,
                                      row.stride if i == 0 else 1) for i in range(row.repeat)])
    if row.kind == "conv":
        return ConvUnit(row.c_in, row.c_out, row.kernel, row.stride, bias=row.bias,
                        norm="none" if row.bias else "plain")
    if head == "cnn":
        return _cnn_head(row.c_in, row.repeat)
    c_mid, c_out = rnn_channels.get(row.index, row.rnn)
    return SWSBiRNN(row.c_in, c_mid, c_out, cell=cell)


class DetectionNet(nn.Module):
    """Backbone + neck + five heads of a detection table; `head` is "cnn" or "crnn"."""

    def __init__(self, table, head="cnn", cell="tanh", rnn_channels=None, predict_channels=None):
        super().__init__()
        if head not in ("cnn", "crnn"):
            raise ValueError(f"unknown head {head!r}; choose 'cnn' or 'crnn'")
        self.table, self.head = table, head
        self.rows = nn.ModuleList(_build_row(row, head, cell, rnn_channels or {}) for row in table)
        self.predict = None
        if predict_channels:
            widths = [self.rows[i].out_channels if head == "crnn" else table[i].c_out for i in HEAD_ROWS]
            self.predict = nn.ModuleList(nn.Conv2d(c, predict_channels, 1) for c in widths)

    def table_rows(self):
        """[(row name, module)]: "0".."22", then "18.predict".. when prediction convs exist."""
        rows = [(str(row.index), module) for row, module in zip(self.table, self.rows)]
        if self.predict is not None:
            rows += [(f"{i}.predict", conv) for i, conv in zip(HEAD_ROWS, self.predict)]
        return rows

    def sources(self):
        """{row name: name of the row whose output it reads, or None for the image}."""
        found = {str(row.index): (None if row.source < 0 else str(row.source)) for row in self.table}
        if self.predict is not None:
            found.update({f"{i}.predict": str(i) for i in HEAD_ROWS})
        return found

    def forward(self, x):
        outputs = []
        for row, module in zip(self.table, self.rows):
            outputs.append(module(x if row.source < 0 else outputs[row.source]))
        heads = [outputs[i] for i in HEAD_ROWS]
        if self.predict is not None:
            heads = [conv(h) for conv, h in zip(self.predict, heads)]
        return tuple(heads)
