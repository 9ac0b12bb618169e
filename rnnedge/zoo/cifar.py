"""The CIFAR-100 ResNet18 variants of the paper's Table 5 (width multiplier 0.2, 32x32x3 input).

Stages (Table 5 row names): conv1 3x3 3->12; conv2.x two basic blocks 12->12; conv3.x 12->25
(stride 2, 1x1 projection) and 25->25; conv4.x 25->51 and 51->51; then the variant's tail:
  resnet18  conv5.x 51->102 (stride 2) and 102->102, AvgPool 4x4, FC 102->100
  rnn       SWS-BiRNN 1x1 on the 8x8x51 conv4 output, Cmid = Cout = 102, AvgPool 8x8, FC
  thin      conv5.x 51->32 and 32->32, AvgPool 4x4, FC 32->100
  short     conv6: one 3x3 conv 51->102, stride 2, with bias, AvgPool 4x4, FC
conv1 has no bias and Table 5 counts no BatchNorm parameters for it (324 = 9*3*12), so its
BatchNorm is the non-affine kind (`norm="plain"`). The SWS-BiRNN's Cmid/Cout: Table 5 says
"1x1, 102" twice; eq. 12 also admits (Cmid, Cout) = (51, 153) for 36,822 parameters:
reachable with `rnn_channels=(51, 153)`. Imports: torch, `rnnedge.layers`, `blocks`.
"""

from torch import nn

from rnnedge.layers import SWSBiRNN
from rnnedge.zoo.blocks import BasicBlock, ConvUnit

VARIANTS = ("resnet18", "rnn", "thin", "short")
WIDTHS = (12, 25, 51, 102)
THIN_WIDTH = 32


def _stage(c_in, c_out, stride):
    """Two basic blocks; the first changes width/stride (Table 5's "x2")."""
    return nn.Sequential(BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out))


class CifarResNet18(nn.Module):
    """ResNet18-w0.2 and its Table 5 variants. Returns logits (N, num_classes)."""

    def __init__(self, variant="resnet18", num_classes=100, cell="tanh", rnn_channels=(102, 102)):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        self.variant = variant
        c1, c2, c3, c4 = WIDTHS
        self.conv1 = ConvUnit(3, c1, 3, norm="plain")
        self.conv2 = _stage(c1, c1, 1)
        self.conv3 = _stage(c1, c2, 2)
        self.conv4 = _stage(c2, c3, 2)
        if variant in ("resnet18", "thin"):
            features = c4 if variant == "resnet18" else THIN_WIDTH
            self.conv5 = _stage(c3, features, 2)
        elif variant == "short":
            features = c4
            self.conv6 = ConvUnit(c3, features, 3, stride=2, bias=True, norm="none")
        else:
            c_mid, features = rnn_channels
            self.sws_birnn = SWSBiRNN(c3, c_mid, features, cell=cell)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(features, num_classes)

    def table_rows(self):
        """[(Table 5 row name, module)] in execution order."""
        tail = {"resnet18": ("conv5.x", "conv5"), "thin": ("conv5.x", "conv5"),
                "short": ("conv6", "conv6"), "rnn": ("sws-birnn", "sws_birnn")}[self.variant]
        names = [("conv1", "conv1"), ("conv2.x", "conv2"), ("conv3.x", "conv3"), ("conv4.x", "conv4"),
                 tail, ("avgpool", "avgpool"), ("fc", "fc")]
        return [(row, getattr(self, attr)) for row, attr in names]

    def forward(self, x):
        for _, module in self.table_rows()[:-1]:
            x = module(x)
        return self.fc(x.flatten(1))
