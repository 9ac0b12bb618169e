"""Conv 1 of odd stride over a Bayer mosaic, in its exact phase-split form.

Why: with an odd stride (the CIFAR ResNets' 3x3 stride-1 conv 1) neighbouring outputs read
the mosaic at different colour phases, so no single convolution of the mosaic is the RGB
conv of the demosaiced image, and one learned over the mosaic picks up the checkerboard
(measured, docs/camera-input.md). But a stride-s conv whose output rows and columns are
split by parity is four stride-2s convs, one per output phase (qy, qx), each with its own
kernel; stacked as 4C output channels of ONE stride-2s CONV_2D and interleaved by
DEPTH_TO_SPACE(2), that is exact and uses TFLite builtins only. `PhaseSplitConv` is that
form; its four kernels are parametrised (`BAYER_CONVS`):

- "demosaic" (default): the learned parameters are the RGB conv's own (C, 3, k, k) weights;
  each phase kernel is bilinear demosaicing (sensor.demosaic_kernels) composed with them,
  a fixed linear map, so the model is exactly "bilinear demosaic of the zero-padded
  mosaic, then the RGB conv" (away from the border, where the RGB conv's zero padding reads
  the demosaic one pixel beyond the image instead), with the RGB model's parameter count.
- "phase": the four phase kernels (each the full K x K window of the stride-2s conv) are free
  parameters, initialised to the demosaic form: fully expressive, more parameters.

Geometry, per axis (stride s odd, kernel k, padding p): output o = 2m + q reads the mosaic at
s*o - p - 1 + u, u = 0..k+1 (the demosaic widens the kernel by one on each side), i.e. the
stride-2s conv of kernel K = k + 2 + s with begin padding p + 1, tap s*q + u. Outputs
interleave in torch's pixel_shuffle (CRD) channel order, c * 4 + 2 * qy + qx;
export/phase_split.py turns the exported graph into CONV_2D (+ its BatchNorm and ReLU) then
DEPTH_TO_SPACE. In ONNX export the kernel is emitted as one constant, not its parametrisation.

Imports numpy, torch, rnnedge.errors, rnnedge.sensor.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from rnnedge import sensor
from rnnedge.errors import RnnedgeError

BAYER_CONVS = ("demosaic", "phase")
DEFAULT_BAYER_CONV = "demosaic"


def check_bayer_conv(form) -> str:
    """`form` if it is one of BAYER_CONVS, else a one-line RnnedgeError."""
    if form not in BAYER_CONVS:
        raise RnnedgeError(f"unknown Bayer conv form {form!r}: use one of {', '.join(BAYER_CONVS)}")
    return form


def phase_basis(fmt, kernel, stride, padding) -> np.ndarray:
    """(3 * kh * kw, 4 * K_h * K_w) float64: row (c, a, b) is how RGB weight tap (c, a, b)
    enters the phase kernels (qy, qx) of the stride-2s conv through bilinear demosaicing."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    demosaic = sensor.demosaic_kernels(fmt)  # (2, 2, 3 channels, 3, 3)
    big_h, big_w = kh + 2 + sh, kw + 2 + sw
    basis = np.zeros((3, kh, kw, 2, 2, big_h, big_w))
    for qy in range(2):
        for qx in range(2):
            for a in range(kh):
                for b in range(kw):
                    k = demosaic[(qy + a - ph) % 2, (qx + b - pw) % 2]  # phase of the tap's pixel
                    y0, x0 = sh * qy + a, sw * qx + b
                    basis[:, a, b, qy, qx, y0:y0 + 3, x0:x0 + 3] += k
    return basis.reshape(3 * kh * kw, 4 * big_h * big_w)


class PhaseSplitConv(torch.nn.Module):
    """A 1-channel Bayer-mosaic conv equal to RGB Conv2d `conv` (odd strides, groups 1, zero
    padding) applied after bilinear demosaicing; `form` one of BAYER_CONVS."""

    def __init__(self, conv, fmt, form=DEFAULT_BAYER_CONV):
        super().__init__()
        if not sensor.is_bayer(fmt):
            raise RnnedgeError(f"{fmt} is not a Bayer format")
        if conv.in_channels != 3 or conv.groups != 1 or conv.dilation != (1, 1) or \
                conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise RnnedgeError("a Bayer input is folded into a 3-channel, ungrouped, undilated, "
                               "zero-padded first convolution")
        if conv.stride[0] % 2 == 0 or conv.stride[1] % 2 == 0:
            raise RnnedgeError(f"stride {conv.stride}: the phase-split form is for odd strides "
                               "(an even one folds into one conv, sensor.fold_first_conv)")
        self.fmt, self.form = fmt, check_bayer_conv(form)
        self.out_channels, self.kernel_size = conv.out_channels, conv.kernel_size
        self.stride, self.padding = tuple(conv.stride), tuple(conv.padding)
        self.big = (self.kernel_size[0] + 2 + self.stride[0],
                    self.kernel_size[1] + 2 + self.stride[1])
        basis = phase_basis(fmt, self.kernel_size, self.stride, self.padding)
        self.register_buffer("basis", torch.from_numpy(basis).to(conv.weight.device,
                                                                  conv.weight.dtype),
                             persistent=False)
        rgb = conv.weight.detach().clone()
        if self.form == "demosaic":
            self.weight = torch.nn.Parameter(rgb)
        else:
            self.weight = torch.nn.Parameter(self._compose(rgb).detach().clone())
        self.bias = (torch.nn.Parameter(conv.bias.detach().clone())
                     if conv.bias is not None else None)

    def _compose(self, rgb):
        """(4C, 1, K, K) phase kernels in CRD order from RGB weights (C, 3, k, k)."""
        flat = rgb.reshape(self.out_channels, -1) @ self.basis.to(rgb.dtype)
        return flat.reshape(self.out_channels * 4, 1, *self.big)

    def phase_weight(self):
        """The stride-2s conv's kernel (4C, 1, K_h, K_w), channel c * 4 + 2 * qy + qx."""
        return self._compose(self.weight) if self.form == "demosaic" else self.weight

    def output_size(self, height, width):
        """The RGB conv's output (height, width) on a height x width image."""
        return tuple((n + 2 * p - k) // s + 1 for n, p, k, s in
                     zip((height, width), self.padding, self.kernel_size, self.stride))

    def forward(self, x):
        weight = self.phase_weight()
        bias = self.bias.repeat_interleave(4) if self.bias is not None else None
        if torch.onnx.is_in_onnx_export():  # constant kernel and bias, not their parametrisation
            weight = torch.from_numpy(weight.detach().cpu().numpy().copy())
            if bias is not None:
                bias = torch.from_numpy(bias.detach().cpu().numpy().copy())
        out_h, out_w = self.output_size(x.shape[-2], x.shape[-1])
        pads = []
        for n, out, p, big, s in zip(x.shape[-2:], (out_h, out_w), self.padding, self.big,
                                     self.stride):
            rows = math.ceil(out / 2)  # per output phase
            end = max(0, 2 * s * (rows - 1) + big - (p + 1) - n)
            pads.append((p + 1, end))
        (top, bottom), (left, right) = pads
        if top == bottom and left == right:
            y = F.conv2d(x, weight, bias, stride=(2 * self.stride[0], 2 * self.stride[1]),
                         padding=(top, left))
        else:
            y = F.conv2d(F.pad(x, (left, right, top, bottom)), weight, bias,
                         stride=(2 * self.stride[0], 2 * self.stride[1]))
        y = F.pixel_shuffle(y, 2)
        if y.shape[-2] != out_h or y.shape[-1] != out_w:
            y = y[..., :out_h, :out_w]
        return y

    def formula_params(self):
        """The parameters by formula: the RGB conv's (demosaic) or four K x K kernels per
        output channel (phase), plus the bias (rnnedge.accounting)."""
        c = self.out_channels
        weights = (c * 3 * self.kernel_size[0] * self.kernel_size[1] if self.form == "demosaic"
                   else 4 * c * self.big[0] * self.big[1])
        return weights + (c if self.bias is not None else 0)

    def graph_macs(self, output):
        """MACs of the exported CONV_2D (DEPTH_TO_SPACE moves bytes): per output pixel and
        channel, one K x K kernel over the 1-channel mosaic (rnnedge.accounting's count)."""
        return output.shape[1] * math.ceil(output.shape[2] / 2) * 2 * \
            math.ceil(output.shape[3] / 2) * 2 * self.big[0] * self.big[1]

    def extra_repr(self):
        return (f"{self.fmt}, {self.form}, 1 -> {self.out_channels}, kernel "
                f"{self.kernel_size}, stride {self.stride}: CONV_2D 1 -> "
                f"{4 * self.out_channels} {self.big} stride {tuple(2 * s for s in self.stride)}"
                f" + DEPTH_TO_SPACE(2)")
