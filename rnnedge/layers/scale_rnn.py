"""Scale-RNN (seed 003): a recurrence over the levels of an image pyramid, one shared base CNN.

  h_0 = 0,  h_s = ReLU(CNN(x_s) + U h_{s-1})                                  (eq. 1, vanilla)
  h'_s = ReLU(CNN(x_s) + U h_{s-1}),  z_s = sigmoid(W_z CNN(x_s) + U_z h_{s-1}),
  h_s = (1 - z_s) h_{s-1} + z_s h'_s                                           (eq. 2, half-GRU)
  y_s = F(h_s)
x_1..x_n are the input resized by 2^-(n-1) .. 2^0 (smallest first); CNN ends with a global
average pool, so one base CNN serves every level; F is one classifier. Reading for the
pyramid: the paper resizes bicubically; here a level is the input averaged over 2^k x 2^k
blocks (area resizing by an integer factor), which TFLite runs as AVERAGE_POOL_2D inside the
graph (`functional.interpolate(mode="area")` computes the same). `outputs="last"` returns y_n (what training uses), `"all"` one output per scale, so a
device can stop at any scale (the paper's anytime property). U is initialised to the identity
and W_z, U_z to zero, as the paper does. No biases (eq. 1-2). Parameters of the recurrence:
C^2 (vanilla) or 3*C^2 (half-GRU), MACs that per scale.

`base` must map any pyramid level to (N, C, 1, 1) (end it with a global average pool).
Reference form of a scale step: matrix products on vectors; static form: 1x1 convolutions on
1x1 maps. Imports: torch, `image_rnn`.
"""

import torch
from torch.nn import functional
from torch import nn

from rnnedge.layers.image_rnn import ImageRNN

VARIANTS = ("vanilla", "half-gru")
OUTPUTS = ("last", "all")


class ScaleRecurrence(ImageRNN):
    """One scale step of eq. 1 / eq. 2: (CNN(x_s), h_{s-1} or None) -> h_s, on (N, C, 1, 1)
    vectors. Holds U (C x C) and, for the half-GRU, W_z and U_z (C x C)."""

    def __init__(self, features, variant="vanilla", form="reference"):
        if variant not in VARIANTS:
            raise ValueError(f"unknown Scale-RNN variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        super().__init__(features, form)
        self.features, self.variant = features, variant
        self.u = nn.Parameter(torch.eye(features))
        if variant == "half-gru":
            self.w_z = nn.Parameter(torch.zeros(features, features))
            self.u_z = nn.Parameter(torch.zeros(features, features))

    def forward(self, feature, h=None):
        return self._step(feature, h, self.form == "reference")

    def _step(self, feature, h, literal):
        shape = feature.shape
        if literal:  # matrix products on vectors, as eq. 1-2 read
            feature, h = feature.flatten(1), (None if h is None else h.flatten(1))

            def apply(weight, v):
                return v @ weight.T
        else:
            def apply(weight, v):
                return functional.conv2d(v, weight[:, :, None, None])
        candidate = torch.relu(feature if h is None else feature + apply(self.u, h))
        if self.variant == "vanilla":
            out = candidate
        else:
            gate = apply(self.w_z, feature)
            z = torch.sigmoid(gate if h is None else gate + apply(self.u_z, h))
            out = z * candidate if h is None else h + z * (candidate - h)
        return out.reshape(shape) if literal else out

    def formula_params(self):
        return (1 if self.variant == "vanilla" else 3) * self.features ** 2

    def cell_runs(self, height, width):
        """One step: the weights once."""
        return [(self, 1)]


class ScaleRNN(nn.Module):
    """(N, C, H, W) image -> logits (N, classes), or one per scale; see the module docstring."""

    def __init__(self, base, features, num_classes, scales=2, variant="vanilla", outputs="last"):
        if outputs not in OUTPUTS:
            raise ValueError(f"unknown outputs {outputs!r}; choose one of {', '.join(OUTPUTS)}")
        if scales < 1:
            raise ValueError("a Scale-RNN needs at least one scale")
        super().__init__()
        self.scales, self.outputs = scales, outputs
        # area resizing by 2^k is an average over 2^k x 2^k blocks: AVERAGE_POOL_2D on device
        self.pyramid = nn.ModuleList(nn.AvgPool2d(2 ** (scales - 1 - s)) for s in range(scales - 1))
        self.base = base
        self.recurrence = ScaleRecurrence(features, variant)
        self.classifier = nn.Linear(features, num_classes)

    def table_rows(self):
        return [(f"pyramid{s + 1}", pool) for s, pool in enumerate(self.pyramid)] + [("base-cnn", self.base), ("scale-rnn", self.recurrence),
                ("fc", self.classifier)]

    def forward(self, x):
        h, logits = None, []
        for level in [pool(x) for pool in self.pyramid] + [x]:
            h = self.recurrence(self.base(level), h)
            logits.append(self.classifier(h.flatten(1)))
        return logits[-1] if self.outputs == "last" else tuple(logits)
