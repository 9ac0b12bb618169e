"""The rest of the family's networks: DartsReNet (seed 002), the ReSeg-block classifier of
seed 001, Scale-RNN (seed 003) and the RA-LSTM networks (seed 004). Every build argument is a
plain int, float, str or tuple of ints.

DartsReNet (Fig. 2): three 3x3 convolutions (bias, ReLU), three ReNet layers with window 2,
one fully connected classifier, CIFAR-10 input (3x32x32). Readings chosen to come closest to
Table 1 (4.8M GRU, 6.0M LSTM, 6.8M Vanilla and Sigmoid Weighting, 4.0M DWS): "channel size
256" is every conv's width and every ReNet layer's output (two directions of 128 each), the
classifier reads the final 4x4x256 map directly. Other readings: `channels`, `conv_channels`,
`fc` (a hidden FC of that size before the classifier; the paper mentions 1024).
ReSeg classifier (seed 001's example): BatchNorm, four [3x3 conv dilation 2, ReLU, BatchNorm]
with 3x3/2 max pools between them, two ReSeg blocks (2x2, tanh BiRNNs of 256 and 512 per
direction, BatchNorm after each), a 1x1 conv to 2 classes with ReLU, global average pool; the
3x3/2 pools pad by 1 as torch's MaxPool2d does, with -inf (a padded cell never wins; on
device PADV2 with the lowest int8 value + MAX_POOL_2D VALID), and the 1x1 conv does not pad
(the listing's `padding=1` would only add a zero border to a 1x1 convolution's output).
Scale-RNN: base CNN = the CIFAR ResNet18-w0.2 stem to conv4.x + global average pool (51
features), two scales (32x32 and the 64x64 input), as the paper uses two (224 and 448).
RA-LSTM (Table 1): VGG-1 (two 3x3 conv-BN-ReLU per block, 128/256/512, 2x2 max pool between
blocks), VGG-2 (four per block), ResNet (a 3x3 stem and 10 basic blocks per stage, 64/128/256:
21/20/20 convs); LSTM 256, a 256-unit FC, the classifier; `head` selects RA, RA-B or RA-C and
`width` scales every CNN width (the MCU entries use it).
`cifar_head` puts any of the family's layers (`HEADS`) in the CIFAR ResNet18-RNN's head.
Imports: torch, `rnnedge.layers`, `blocks`, `cifar`.
"""

from torch import nn

from rnnedge.layers import DSRNN, RNN2D, RecurrentAggregation, ReNet, ReSegBlock, ScaleRNN, SWSBiRNN
from rnnedge.zoo.blocks import BasicBlock, ConvUnit
from rnnedge.zoo.cifar import WIDTHS, CifarResNet18, _stage

#: The family's layers at the CIFAR ResNet18-RNN head position (8x8x51 in, 102 out), by name:
#: callable(cell) -> layer. ReNet/ReSeg use 1x1 patches there (the map keeps its 8x8 size, as
#: the SWS-BiRNN's does) and 51 per direction; RNN2D runs from two corners, DS-RNN from four,
#: one weight set each.
HEAD_IN, HEAD_OUT = WIDTHS[2], WIDTHS[3]
HEADS = {
    "sws-birnn": lambda cell: SWSBiRNN(HEAD_IN, HEAD_OUT, HEAD_OUT, cell),
    "renet": lambda cell: ReNet(HEAD_IN, HEAD_OUT // 2, cell, (1, 1)),
    "renet-dws": lambda cell: ReNet(HEAD_IN, HEAD_OUT // 2, cell, (1, 1), weight_sharing=True),
    "reseg": lambda cell: ReSegBlock(HEAD_IN, HEAD_OUT // 2, cell, (1, 1)),
    "rnn2d": lambda cell: RNN2D(HEAD_IN, HEAD_OUT, cell, directions=2),
    "ds-rnn": lambda cell: DSRNN(HEAD_IN, HEAD_OUT, cell, directions=4),
}


def cifar_head(head="renet", cell="tanh", num_classes=100):
    """The CIFAR ResNet18-RNN (seed 000 Table 5) with `HEADS[head]` in the SWS-BiRNN's place
    (its Table 5 row keeps the name "sws-birnn")."""
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; choose one of {', '.join(HEADS)}")
    model = CifarResNet18("rnn", num_classes, cell)
    model.sws_birnn = HEADS[head](cell)
    return model


class DartsReNet(nn.Module):
    """Fig. 2 of seed 002; `cell` any ReNet cell (gru, lstm, darts-vanilla, ...)."""

    def __init__(self, cell="gru", channels=256, conv_channels=0, weight_sharing=False,
                 sigmoid_weighting=False, fc=0, num_classes=10, input_size=32):
        super().__init__()
        width = conv_channels or channels
        self.convs = nn.Sequential(ConvUnit(3, width, 3, bias=True, norm="none"),
                                   ConvUnit(width, width, 3, bias=True, norm="none"),
                                   ConvUnit(width, width, 3, bias=True, norm="none"))
        c_in = width
        self.renets = nn.ModuleList()
        for _ in range(3):
            self.renets.append(ReNet(c_in, channels // 2, cell, (2, 2), weight_sharing, sigmoid_weighting))
            c_in = channels
        features = channels * (input_size // 8) ** 2
        self.hidden = nn.Sequential(nn.Linear(features, fc), nn.ReLU(inplace=True)) if fc else None
        self.fc = nn.Linear(fc or features, num_classes)

    def table_rows(self):
        rows = [(f"conv{i + 1}", m) for i, m in enumerate(self.convs)]
        rows += [(f"renet{i + 1}", m) for i, m in enumerate(self.renets)]
        if self.hidden is not None:
            rows.append(("fc-hidden", self.hidden))
        return rows + [("fc", self.fc)]

    def forward(self, x):
        x = self.convs(x)
        for renet in self.renets:
            x = renet(x)
        x = x.flatten(1)
        return self.fc(self.hidden(x) if self.hidden is not None else x)


class ReSegClassifier(nn.Module):
    """seed 001's photo classifier built on two ReSeg blocks (module docstring)."""

    def __init__(self, widths=(32, 64, 128, 256), hidden=(256, 512), num_classes=2):
        super().__init__()
        stages, c_in = [nn.BatchNorm2d(3)], 3
        for i, width in enumerate(widths):
            if i:
                stages.append(nn.MaxPool2d(3, 2, padding=1))
            stages += [nn.Conv2d(c_in, width, 3, padding=2, dilation=2), nn.ReLU(inplace=True),
                       nn.BatchNorm2d(width)]
            c_in = width
        self.encoder = nn.Sequential(*stages)
        self.block1 = ReSegBlock(c_in, hidden[0])
        self.norm1 = nn.BatchNorm2d(2 * hidden[0])
        self.block2 = ReSegBlock(2 * hidden[0], hidden[1])
        self.norm2 = nn.BatchNorm2d(2 * hidden[1])
        self.classify = nn.Sequential(nn.Conv2d(2 * hidden[1], num_classes, 1), nn.ReLU(inplace=True))
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def table_rows(self):
        return [("encoder", self.encoder), ("reseg1", self.block1), ("bn1", self.norm1),
                ("reseg2", self.block2), ("bn2", self.norm2), ("conv-cls", self.classify),
                ("avgpool", self.avgpool)]

    def forward(self, x):
        x = self.norm2(self.block2(self.norm1(self.block1(self.encoder(x)))))
        return self.avgpool(self.classify(x)).flatten(1)


class CifarBase(nn.Module):
    """conv1..conv4.x of the CIFAR ResNet18-w0.2 and a global average pool: (N, 51, 1, 1)."""

    def __init__(self):
        super().__init__()
        c1, c2, c3, _ = WIDTHS
        self.features = nn.Sequential(ConvUnit(3, c1, 3, norm="plain"), _stage(c1, c1, 1), _stage(c1, c2, 2),
                                      _stage(c2, c3, 2), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return self.features(x)


def scale_rnn(variant="vanilla", scales=2, outputs="last", num_classes=10):
    """Scale-RNN over the CIFAR base CNN (module docstring)."""
    return ScaleRNN(CifarBase(), WIDTHS[2], num_classes, scales, variant, outputs)


class RANet(nn.Module):
    """A seed 004 Table 1 network with RA-LSTM: CNN blocks + `RecurrentAggregation`."""

    def __init__(self, backbone="vgg1", head="ra", width=1.0, lstm=256, fc=256, num_classes=10, input_size=32):
        super().__init__()
        if backbone not in ("vgg1", "vgg2", "resnet"):
            raise ValueError(f"unknown RA backbone {backbone!r}; choose vgg1, vgg2 or resnet")
        base = (64, 128, 256) if backbone == "resnet" else (128, 256, 512)
        widths = [max(1, int(round(c * width))) for c in base]
        self.stem = ConvUnit(3, widths[0], 3) if backbone == "resnet" else nn.Identity()
        self.blocks, self.pools = nn.ModuleList(), nn.ModuleList()
        c_in, size, shapes = (widths[0] if backbone == "resnet" else 3), input_size, []
        for i, c in enumerate(widths):
            if backbone == "resnet":
                units = [BasicBlock(c_in if j == 0 else c, c, 2 if (j == 0 and i) else 1) for j in range(10)]
                size = size // 2 if i else size
            else:
                units = [ConvUnit(c_in if j == 0 else c, c, 3) for j in range(2 if backbone == "vgg1" else 4)]
            self.blocks.append(nn.Sequential(*units))
            self.pools.append(nn.MaxPool2d(2) if backbone != "resnet" and i < len(widths) - 1 else nn.Identity())
            shapes.append((c, size))
            size = size // 2 if backbone != "resnet" and i < len(widths) - 1 else size
            c_in = c
        self.aggregation = RecurrentAggregation(shapes, lstm, fc, num_classes, head)

    def table_rows(self):
        rows = [("stem", self.stem)] if isinstance(self.stem, ConvUnit) else []
        rows += [(f"block{i + 1}", b) for i, b in enumerate(self.blocks)]
        agg = self.aggregation
        rows += [(f"map{i + 1}", m) for i, m in enumerate(agg.mappings)]
        return rows + [("lstm", agg.lstm), ("fc", agg.fc), ("classifier", agg.classifier)]

    def forward(self, x):
        x, features = self.stem(x), []
        for block, pool in zip(self.blocks, self.pools):
            x = block(x)
            features.append(x)
            x = pool(x)
        return self.aggregation(features)
