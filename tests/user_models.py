"""Ordinary torch.nn models as a user writes them (plain helpers for the export tests; no
test module imports another): a MobileNetV2-like classifier, an MLP with HardSwish /
LeakyReLU / Softmax, a tiny YOLO-style detector with SiLU / upsample / concat, a U-Net with
ConvTranspose and bilinear upsampling, a 1-D keyword-spotting conv net on (N, F, T)
features, a two-input / two-output model, a backbone with rnnedge's SWSBiRNN, a
keyword-spotting GRU, a 2-layer bidirectional LSTM and a ReNet of nn.GRUs over rows and
columns; and variants in other users' styles (explicit zero LSTM states, nn.Upsample with a
viewed/permuted sigmoid head, a 6-D patchify before the GRUs). `inputs(name, n, seed)` gives n input samples
stacked on axis 0 per input."""

import numpy as np
import torch
from torch import nn

F = nn.functional


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
            nn.ReLU6(), nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class MobileNetV2ish(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU6())
        self.blocks = nn.Sequential(InvertedResidual(8, 8, 1, 1), InvertedResidual(8, 12, 2, 4),
                                    InvertedResidual(12, 12, 1, 4), InvertedResidual(12, 16, 2, 4))
        self.head = nn.Sequential(nn.Conv2d(16, 32, 1), nn.ReLU6())
        self.fc = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 32), nn.Hardswish(), nn.Linear(32, 32),
                                 nn.LeakyReLU(0.1), nn.BatchNorm1d(32), nn.Linear(32, 6),
                                 nn.Softmax(dim=-1))

    def forward(self, x):
        return self.net(x)


def conv_bn_silu(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.SiLU())


class TinyYolo(nn.Module):
    def __init__(self, classes=3, anchors=2):
        super().__init__()
        self.c1, self.c2 = conv_bn_silu(3, 8, 3, 2), conv_bn_silu(8, 16, 3, 2)
        self.c3 = conv_bn_silu(16, 24, 3, 2)
        self.lateral = conv_bn_silu(24, 16, 1)
        self.fuse = conv_bn_silu(32, 16)
        out = anchors * (5 + classes)
        self.head_small, self.head_large = nn.Conv2d(16, out, 1), nn.Conv2d(24, out, 1)

    def forward(self, x):
        p3 = self.c2(self.c1(F.max_pool2d(x, 2, 1, ceil_mode=False)[:, :, :-0 or None]))
        p4 = self.c3(p3)
        up = F.interpolate(self.lateral(p4), scale_factor=2, mode="nearest")
        fused = self.fuse(torch.cat([up, p3], 1))
        return self.head_small(fused), self.head_large(p4)


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        block = lambda a, b: nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b),  # noqa: E731
                                           nn.ReLU())
        self.e1, self.e2, self.mid = block(3, 8), block(8, 16), block(16, 24)
        self.up1 = nn.ConvTranspose2d(24, 16, 2, stride=2)
        self.d1 = block(32, 16)
        self.d2 = block(24, 8)
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        a = self.e1(x)
        b = self.e2(F.max_pool2d(a, 2))
        m = self.mid(F.max_pool2d(b, 2))
        u1 = self.d1(torch.cat([self.up1(m), b], 1))
        u2 = F.interpolate(u1, scale_factor=2, mode="bilinear", align_corners=False)
        return self.out(self.d2(torch.cat([u2, a], 1)))


class KeywordConv(nn.Module):
    """A DS-CNN-like keyword spotter on (N, 10 MFCC, 49 frames)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(10, 16, 5, padding=2), nn.BatchNorm1d(16), nn.ReLU(),
                                  nn.Conv1d(16, 16, 3, padding=1, groups=16), nn.ReLU(),
                                  nn.Conv1d(16, 24, 1), nn.ReLU())
        self.fc = nn.Linear(24, 12)

    def forward(self, x):
        return torch.log_softmax(self.fc(self.conv(x).mean(-1)), -1)


class TwoInTwoOut(nn.Module):
    """An image and a side vector in; a class score and a pooled embedding out."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, padding=1)
        self.side = nn.Linear(4, 6)
        self.fc = nn.Linear(12, 3)

    def forward(self, image, vector):
        pooled = F.adaptive_avg_pool2d(torch.relu(self.conv(image)), 1).flatten(1)
        joint = torch.cat([pooled, torch.tanh(self.side(vector))], 1)
        return self.fc(joint), pooled


class SwsBackbone(nn.Module):
    """A user's own backbone with rnnedge's SWS-BiRNN layer (static form) as its head."""

    def __init__(self):
        super().__init__()
        from rnnedge.layers import SWSBiRNN
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU())
        self.rnn = SWSBiRNN(8, 8, 12, form="static")
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.rnn(self.stem(x)), 1).flatten(1))


class KeywordGRU(nn.Module):
    """A keyword-spotting GRU on (N, 49 frames, 10 MFCC): the last hidden state classified."""

    def __init__(self, classes=12):
        super().__init__()
        self.gru = nn.GRU(10, 32, batch_first=True)
        self.classifier = nn.Sequential(nn.Dropout(0.1), nn.Linear(32, classes))

    def forward(self, x):
        _, h_n = self.gru(x)
        return self.classifier(h_n[-1])


class StackedBiLSTM(nn.Module):
    """A 2-layer bidirectional LSTM tagger/classifier on (N, T, F) sensor windows."""

    def __init__(self, features=16, hidden=24, classes=5):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, num_layers=2, bidirectional=True,
                            batch_first=True, dropout=0.2)
        self.out = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        seq, _ = self.lstm(x)
        return self.out(seq[:, -1, :])


class ReNetGRU(nn.Module):
    """ReNet (Visin et al. 2015) as a user writes it: a conv stem, then a bidirectional nn.GRU
    sweeping the rows of the map and another sweeping the columns (rows / columns as the
    batch), a 1x1 conv head and global pooling."""

    def __init__(self, classes=4, hidden=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.horizontal = nn.GRU(8, hidden, batch_first=True, bidirectional=True)
        self.vertical = nn.GRU(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Conv2d(2 * hidden, classes, 1)

    def forward(self, x):
        x = self.stem(x)
        n, c, h, w = x.shape
        rows = x.permute(0, 2, 3, 1).contiguous().view(n * h, w, c)
        rows, _ = self.horizontal(rows)                      # (n*h, w, 2*hidden)
        cols = rows.view(n, h, w, -1).permute(0, 2, 1, 3).contiguous().view(n * w, h, -1)
        cols, _ = self.vertical(cols)                        # (n*w, h, 2*hidden)
        y = cols.view(n, w, h, -1).permute(0, 3, 2, 1)       # (n, 2*hidden, h, w)
        return F.adaptive_avg_pool2d(self.head(y), 1).flatten(1)


class BiLSTMMeanPool(nn.Module):
    """A BiLSTM given explicit zero (h0, c0) sized from the batch, averaged over time."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(12, 16, 2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        h0 = torch.zeros(4, x.size(0), 16)
        c0 = torch.zeros(4, x.size(0), 16)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out.mean(dim=1))


class YoloHeadView(nn.Module):
    """A YOLO-style net with nn.Upsample and SiLU modules whose head is viewed as
    (N, anchors, H, W, 5 + classes) and passed through a sigmoid."""

    def __init__(self):
        super().__init__()
        self.b1, self.b2, self.b3 = conv_bn_silu(3, 8, 3, 2), conv_bn_silu(8, 16, 3, 2), \
            conv_bn_silu(16, 32, 3, 2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.neck = conv_bn_silu(48, 16)
        self.head = nn.Conv2d(16, 3 * 7, 1)

    def forward(self, x):
        p3 = self.b2(self.b1(x))
        y = self.head(self.neck(torch.cat((self.up(self.b3(p3)), p3), dim=1)))
        n, _, h, w = y.shape
        return y.view(n, 3, 7, h, w).permute(0, 1, 3, 4, 2).sigmoid()


class PatchReNet(nn.Module):
    """ReNet on 2x2 patches (a 6-D reshape/permute patchify), GRUs over rows and columns."""

    def __init__(self, hidden=10):
        super().__init__()
        self.h = nn.GRU(12, hidden, batch_first=True, bidirectional=True)
        self.v = nn.GRU(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, 5)

    def forward(self, x):
        n, c, hh, ww = x.shape
        h, w = hh // 2, ww // 2
        p = x.reshape(n, c, h, 2, w, 2).permute(0, 2, 4, 1, 3, 5).reshape(n, h, w, c * 4)
        r, _ = self.h(p.reshape(n * h, w, c * 4))
        r = r.reshape(n, h, w, -1).transpose(1, 2).reshape(n * w, h, -1)
        v, _ = self.v(r)
        return self.fc(v.reshape(n, w, h, -1).mean(dim=(1, 2)))


MODELS = {  # name: (builder, input shapes with batch 1)
    "mobilenetv2": (MobileNetV2ish, [(1, 3, 32, 32)]),
    "mlp": (MLP, [(1, 20)]),
    "tiny_yolo": (TinyYolo, [(1, 3, 32, 32)]),
    "unet": (UNet, [(1, 3, 16, 16)]),
    "kws_conv1d": (KeywordConv, [(1, 10, 49)]),
    "two_in_two_out": (TwoInTwoOut, [(1, 1, 8, 8), (1, 4)]),
    "sws_backbone": (SwsBackbone, [(1, 3, 16, 16)]),
    "kws_gru": (KeywordGRU, [(1, 49, 10)]),
    "bilstm2": (StackedBiLSTM, [(1, 16, 16)]),
    "renet_gru": (ReNetGRU, [(1, 3, 16, 16)]),
    "bilstm_mean_h0": (BiLSTMMeanPool, [(1, 10, 12)]),
    "yolo_head_view": (YoloHeadView, [(1, 3, 32, 32)]),
    "renet_patches": (PatchReNet, [(1, 3, 12, 12)]),
}


def build(name, seed=0):
    """The model `name`, eval mode, with non-trivial BatchNorm statistics."""
    torch.manual_seed(seed)
    model = MODELS[name][0]()
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def inputs(name, n, seed):
    """n samples per input, stacked on axis 0: smooth-ish images, normal vectors."""
    rng = np.random.default_rng(seed)
    out = []
    for shape in MODELS[name][1]:
        x = rng.standard_normal((n,) + shape[1:]).astype(np.float32)
        if len(shape) == 4:   # images: low-pass the noise so neighbours correlate
            x = (x + np.roll(x, 1, -1) + np.roll(x, 1, -2)) / 3.0
        out.append(x)
    return out
