"""Building blocks of the paper's networks: conv units, the ResNet basic block (Fig. 3) and
the modified inverted-residual block (Fig. 2).

Parameter conventions (see `rnnedge.accounting`): a BatchNorm's gamma and beta are
parameters; running statistics are not. Where a table row counts no BatchNorm parameters for a
convolution that still needs normalising, the block uses `norm="plain"`: a BatchNorm without
learnable affine (nothing to count, folded into the conv at export like any BatchNorm).
Imports: torch only.
"""

from torch import nn

NORMS = ("affine", "plain", "none")


class Residual(nn.Module):
    """The element-wise residual sum as its own module, so accounting hooks can see it."""

    def forward(self, x, skip):
        return x + skip


class ConvUnit(nn.Sequential):
    """Conv2d (+ BatchNorm) (+ ReLU): the unit every table row is built from.

    `norm`: "affine" (BatchNorm with gamma/beta), "plain" (BatchNorm without affine) or "none".
    Padding keeps "same" spatial size for stride 1 and halves it (rounding up) for stride 2.
    """

    def __init__(self, c_in, c_out, kernel, stride=1, bias=False, norm="affine", relu=True):
        if norm not in NORMS:
            raise ValueError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")
        layers = [nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=bias)]
        if norm != "none":
            layers.append(nn.BatchNorm2d(c_out, affine=norm == "affine"))
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class BasicBlock(nn.Module):
    """ResNet basic block (He et al.; the paper's Fig. 3): 3x3 conv-BN-ReLU, 3x3 conv-BN, plus the
    input (or its 1x1 conv-BN projection when the stride or width changes), then ReLU."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv_a = ConvUnit(c_in, c_out, 3, stride)
        self.conv_b = ConvUnit(c_out, c_out, 3, relu=False)
        needs_projection = stride != 1 or c_in != c_out
        self.shortcut = ConvUnit(c_in, c_out, 1, stride, relu=False) if needs_projection else nn.Identity()
        self.add = Residual()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.add(self.conv_b(self.conv_a(x)), self.shortcut(x)))


class InvRes(nn.Module):
    """Modified MobileNetV2 inverted-residual block (the paper's Fig. 2): the 1x1 expansion and
    the depthwise conv are replaced by one regular 3x3 conv C_in -> Exp (stride s) + BN + ReLU,
    followed by the linear 1x1 projection Exp -> C_out + BN; residual when s = 1 and
    C_in == C_out. Parameters: 9*C_in*Exp + Exp*C_out + 2*Exp + 2*C_out (no conv biases)."""

    def __init__(self, c_in, expansion, c_out, stride=1):
        super().__init__()
        self.expand = ConvUnit(c_in, expansion, 3, stride)
        self.project = ConvUnit(expansion, c_out, 1, relu=False)
        self.add = Residual() if stride == 1 and c_in == c_out else None

    def forward(self, x):
        y = self.project(self.expand(x))
        return self.add(y, x) if self.add is not None else y
