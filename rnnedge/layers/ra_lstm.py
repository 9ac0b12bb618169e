"""RA-LSTM (seed 004): CNN block outputs mapped to equal-length vectors and aggregated over
depth by an LSTM.

Feature mapping (seed 004 sections 3.1 and 4.2), by a block's resolution relative to the last
block's (H x W x C):
- last block: global average pooling -> C;
- middle blocks (1x or 2x the last resolution): a convolution to C channels with kernel =
  stride = the ratio, then global average pooling;
- shallow blocks (4x or more): a convolution with kernel 2 and stride 2 to c channels, then an
  average pool with the last block's H x W as kernel -> h x w x c with h*w*c = C, expanded to
  a vector of length C. The vector's order here is (h, w, c) (read position by position with
  Slice + Concat: no Reshape/Transpose in the exported graph; any fixed order is the same
  model up to a permutation of the LSTM's input weights).
The N vectors (shallow to deep) form a 1 x N map that a `RowRNN` LSTM (cells.py) reads as its
sequence. Heads (section 5.2, Figs. 1, 7, 8): "ra" classifies the last LSTM output, "ra-b" the
last output concatenated with the last block's vector, "ra-c" all N outputs concatenated; then
u = ReLU(W U) (eq. 3, a hidden FC) and the classifier. Imports: torch, `image_rnn`.
"""

import torch
from torch import nn

from rnnedge.layers.image_rnn import RowRNN

HEADS = ("ra", "ra-b", "ra-c")


def _positions_to_channels(u):
    """(N, c, h, w) -> (N, h*w*c, 1, 1), position-major (Slice + Concat)."""
    return torch.cat([u[:, :, i:i + 1, j:j + 1] for i in range(u.shape[2]) for j in range(u.shape[3])], dim=1)


class FeatureMapping(nn.Module):
    """One mapping node: a block output (c_block at size_block) -> (N, C, 1, 1)."""

    def __init__(self, c_block, size_block, c_last, size_last):
        super().__init__()
        if size_block % size_last:
            raise ValueError(f"block resolution {size_block} is not a multiple of the last block's {size_last}")
        ratio = size_block // size_last
        self.level = "last" if ratio == 1 and c_block == c_last else "middle" if ratio <= 2 else "shallow"
        if self.level == "middle":
            self.conv = nn.Conv2d(c_block, c_last, ratio, stride=ratio)
        elif self.level == "shallow":
            cells = (ratio // 2) ** 2
            if c_last % cells:
                raise ValueError(f"the last block's {c_last} channels do not split over {cells} positions")
            self.conv = nn.Conv2d(c_block, c_last // cells, 2, stride=2)
        else:
            self.conv = None
        self.pool = nn.AvgPool2d(size_last) if self.level == "shallow" else nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        if self.conv is not None:
            x = self.conv(x)
        x = self.pool(x)
        return _positions_to_channels(x) if self.level == "shallow" else x


class RecurrentAggregation(nn.Module):
    """Mapping nodes + LSTM over depth + head: [block outputs] -> logits."""

    def __init__(self, blocks, hidden, fc, num_classes, head="ra"):
        """blocks: [(channels, resolution)] of the aggregated block outputs, shallow first."""
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"unknown RA head {head!r}; choose one of {', '.join(HEADS)}")
        c_last, size_last = blocks[-1]
        self.head = head
        self.mappings = nn.ModuleList(FeatureMapping(c, s, c_last, size_last) for c, s in blocks)
        self.lstm = RowRNN(c_last, hidden, cell="lstm")
        width = {"ra": hidden, "ra-b": hidden + c_last, "ra-c": hidden * len(blocks)}[head]
        self.fc = nn.Linear(width, fc)
        self.relu = nn.ReLU(inplace=True)
        self.classifier = nn.Linear(fc, num_classes)

    def forward(self, features):
        vectors = [m(f) for m, f in zip(self.mappings, features)]
        outputs = torch.split(self.lstm(torch.cat(vectors, dim=3)), 1, dim=3)
        if self.head == "ra":
            u = outputs[-1]
        elif self.head == "ra-b":
            u = torch.cat([outputs[-1], vectors[-1]], dim=1)
        else:
            u = torch.cat(outputs, dim=1)
        return self.classifier(self.relu(self.fc(u.flatten(1))))
