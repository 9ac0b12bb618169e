"""Camera-native input formats: RGB, grayscale and the four Bayer RAW mosaics.

Why: on the paper's 480x640 detectors the RGB input alone is 921,600 B of the arena, while
the sensor delivers one byte per pixel (a Bayer colour-filter mosaic, or grayscale). A model
that takes the sensor's tensor (H x W x 1) needs no RGB buffer and no demosaic pass on the
device. This module is the one home of the formats:

- `FORMATS`, `channels(fmt)`, `check_format(fmt)`;
- `from_rgb(images, fmt, noise, seed)`: RGB uint8 images -> the sensor's images (ITU-R 601
  luma for gray; for Bayer, each pixel keeps the one colour its filter passes), with optional
  Poisson-Gaussian sensor noise, deterministic per seed;
- `read_raw(path)`: a RAW frame from `.npy` (H x W or H x W x 1 uint8) or 8-bit binary PGM;
- `demosaic_kernels(fmt)`: bilinear demosaicing as 3x3 kernels per pixel phase;
- `fold_first_conv(conv, fmt, bayer_conv)`: the model's first convolution (3 input channels)
  rewritten to read the sensor tensor, the demosaic folded into its weights. For a conv of
  even stride every output reads the mosaic at the same phases, so the fold is exact (up to
  the image border): bilinear demosaic followed by the k x k conv equals one (k+2) x (k+2)
  conv over the mosaic. For an odd stride the phase alternates between outputs, so no single
  kernel is the demosaic: the conv becomes its exact phase-split form (rnnedge.sensor_conv:
  one CONV_2D of four phase kernels and a DEPTH_TO_SPACE), parametrised as the demosaic
  composed with the learned RGB conv ("demosaic") or as four free phase kernels ("phase").
  Gray input sums the RGB kernels (the RGB conv applied to a gray image).

Imports numpy, torch (for the fold only), rnnedge.errors, rnnedge.sensor_conv (the odd-stride
Bayer conv, imported when used).
"""

from pathlib import Path

import numpy as np

from rnnedge.errors import RnnedgeError

RGB = "rgb"
GRAY = "gray"
BAYER_PATTERNS = ("rggb", "bggr", "grbg", "gbrg")
FORMATS = (RGB, GRAY, *(f"bayer-{p}" for p in BAYER_PATTERNS))
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as rnnedge.data.base converts RGB to grey
_CHANNEL = {"r": 0, "g": 1, "b": 2}
MAX_RAW_BYTES = 64 << 20


def check_format(fmt) -> str:
    """`fmt` if it is one of FORMATS, else a one-line RnnedgeError listing them."""
    if fmt not in FORMATS:
        raise RnnedgeError(f"unknown input format {fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt


def channels(fmt) -> int:
    """Channels of the model input for `fmt`: 3 for rgb, 1 for gray and Bayer."""
    return 3 if check_format(fmt) == RGB else 1


def is_bayer(fmt) -> bool:
    """True for the four Bayer mosaics."""
    return check_format(fmt).startswith("bayer-")


def pixel_period(fmt) -> int:
    """The period of the format's pixel pattern: 2 for a Bayer mosaic (crops and flips must
    keep it), 1 otherwise."""
    return 2 if is_bayer(fmt) else 1


def colour_grid(fmt) -> np.ndarray:
    """(2, 2) int array: the RGB channel (0 R, 1 G, 2 B) each filter of the 2x2 tile passes."""
    if not is_bayer(fmt):
        raise RnnedgeError(f"{fmt} is not a Bayer format")
    pattern = fmt.split("-", 1)[1]
    return np.array([[_CHANNEL[pattern[0]], _CHANNEL[pattern[1]]],
                     [_CHANNEL[pattern[2]], _CHANNEL[pattern[3]]]])


def from_rgb(images, fmt, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """RGB uint8 images (N, H, W, 3) as the sensor of `fmt` delivers them: (N, H, W, 3) for
    rgb, (N, H, W, 1) for gray and Bayer. `noise` > 0 adds Poisson-Gaussian sensor noise in
    digital numbers (DN): variance noise**2 (read noise) + noise / 4 * value (shot noise),
    drawn from `seed`, so a conversion is deterministic."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3:
        raise RnnedgeError(f"sensor conversion takes N x H x W x 3 uint8 RGB images, got "
                           f"{images.shape} {images.dtype}")
    if not (np.isfinite(noise) and 0 <= noise <= 64):
        raise RnnedgeError(f"sensor noise {noise}: give 0..64 (DN of read noise)")
    if check_format(fmt) == RGB:
        out = images
    elif fmt == GRAY:
        luma = images.astype(np.float32) @ np.asarray(LUMA, np.float32)
        out = np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None]
    else:
        grid = colour_grid(fmt)
        _, height, width, _ = images.shape
        rows = np.arange(height)[:, None] % 2
        cols = np.arange(width)[None, :] % 2
        picked = grid[rows, cols]  # (H, W) channel per pixel
        out = np.take_along_axis(images, picked[None, :, :, None], axis=3)
    if noise > 0:
        rng = np.random.default_rng(seed)
        value = out.astype(np.float64)
        sigma = np.sqrt(noise ** 2 + noise / 4.0 * value)
        out = np.clip(np.rint(value + rng.standard_normal(value.shape) * sigma), 0, 255)
        out = out.astype(np.uint8)
    return np.ascontiguousarray(out)


def read_raw(path) -> np.ndarray:
    """One RAW frame (H, W, 1) uint8 from `path`: a `.npy` array (H x W or H x W x 1 uint8,
    read without pickle) or an 8-bit binary PGM (P5, maxval <= 255)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_RAW_BYTES:
            raise RnnedgeError(f"{path}: {size:,} bytes is too large for a RAW frame")
        if path.suffix.lower() == ".npy":
            frame = np.load(path, allow_pickle=False)
        else:
            frame = _read_pgm(path)
    except OSError as exc:
        raise RnnedgeError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RnnedgeError(f"{path}: not a RAW frame ({exc})") from None
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.dtype != np.uint8 or frame.ndim != 2 or min(frame.shape) < 1:
        raise RnnedgeError(f"{path}: a RAW frame is H x W uint8 (one byte per pixel), got "
                           f"{frame.shape} {frame.dtype}")
    return frame[:, :, None]


def _read_pgm(path) -> np.ndarray:
    """An 8-bit binary PGM (P5) as (H, W) uint8."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            raise ValueError("truncated PGM header")
        fields.append(data[start:pos])
    if fields[0] != b"P5":
        raise ValueError("only binary 8-bit PGM (P5) is read")
    width, height, maxval = (int(f) for f in fields[1:])
    if not (0 < maxval <= 255 and width > 0 and height > 0):
        raise ValueError(f"PGM {width}x{height} maxval {maxval}: only 8-bit PGM is read")
    pixels = data[pos + 1:pos + 1 + width * height]
    if len(pixels) != width * height:
        raise ValueError(f"PGM holds {len(pixels)} of {width * height} pixel bytes")
    return np.frombuffer(pixels, np.uint8).reshape(height, width).copy()


def pgm_bytes(frame) -> bytes:
    """The bytes of an 8-bit binary PGM of `frame` (H, W[, 1]) uint8 (for fixtures/tools)."""
    frame = np.asarray(frame, np.uint8).reshape(np.asarray(frame).shape[:2])
    return b"P5\n%d %d\n255\n" % (frame.shape[1], frame.shape[0]) + frame.tobytes()


def demosaic_kernels(fmt) -> np.ndarray:
    """(2, 2, 3, 3, 3) float64: for pixel phase (row % 2, col % 2) and RGB channel c, the 3x3
    kernel over the mosaic that bilinear demosaicing applies (the pixel's own value where its
    filter passes c; the mean of the 2 or 4 nearest samples of c otherwise)."""
    grid = colour_grid(fmt)
    kernels = np.zeros((2, 2, 3, 3, 3))
    for py in range(2):
        for px in range(2):
            for c in range(3):
                taps = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                        if grid[(py + dy) % 2, (px + dx) % 2] == c]
                if (0, 0) in taps:
                    taps = [(0, 0)]
                else:  # the nearest samples of c: axial ones first, else the diagonals
                    axial = [t for t in taps if 0 in t]
                    taps = axial or taps
                for dy, dx in taps:
                    kernels[py, px, c, dy + 1, dx + 1] = 1.0 / len(taps)
    return kernels


def fold_first_conv(conv, fmt, bayer_conv="demosaic"):
    """A torch module that reads the sensor tensor of `fmt` (1 channel) in place of RGB Conv2d
    `conv` (in_channels 3, groups 1): see the module docstring. Output shape unchanged."""
    import torch

    if check_format(fmt) == RGB:
        return conv
    if conv.in_channels != 3 or conv.groups != 1 or isinstance(conv.padding, str):
        raise RnnedgeError(f"the first convolution reads {conv.in_channels} channels (groups "
                           f"{conv.groups}); a {fmt} input is folded into a 3-channel RGB conv")
    if is_bayer(fmt) and conv.dilation != (1, 1):
        raise RnnedgeError("a dilated first convolution cannot take a Bayer input")
    sh, sw = conv.stride
    if is_bayer(fmt) and (sh % 2 or sw % 2):
        if sh % 2 != sw % 2:
            raise RnnedgeError(f"stride {conv.stride}: a Bayer input needs both strides even "
                               "or both odd in the first convolution")
        from rnnedge.sensor_conv import PhaseSplitConv
        return PhaseSplitConv(conv, fmt, bayer_conv)
    weight = conv.weight.detach().double()  # torch ops: the model may be on the meta device
    out_ch, _, kh, kw = weight.shape
    if fmt == GRAY:
        folded, pad_extra = weight.sum(dim=1, keepdim=True), 0
    else:  # even stride: every output reads the same phases, an exact fold
        ph, pw = conv.padding
        folded = torch.zeros((out_ch, 1, kh + 2, kw + 2), dtype=torch.float64,
                             device=weight.device)
        kernels = torch.from_numpy(demosaic_kernels(fmt)).to(weight.device)
        for a in range(kh):
            for b in range(kw):
                k = kernels[(a - ph) % 2, (b - pw) % 2]  # (3 channels, 3, 3)
                folded[:, 0, a:a + 3, b:b + 3] += torch.einsum(
                    "oc,cuv->ouv", weight[:, :, a, b], k)
        pad_extra = 1
    new = torch.nn.Conv2d(1, out_ch, (folded.shape[2], folded.shape[3]), stride=conv.stride,
                          padding=(conv.padding[0] + pad_extra, conv.padding[1] + pad_extra),
                          dilation=conv.dilation, bias=conv.bias is not None,
                          padding_mode=conv.padding_mode, device=conv.weight.device,
                          dtype=conv.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(folded.to(conv.weight.dtype))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


def adapt_model(model, fmt, bayer_conv="demosaic"):
    """`model` with its first 3-channel Conv2d replaced by `fold_first_conv(conv, fmt,
    bayer_conv)` (in place; returned for chaining). RnnedgeError when it has none."""
    import torch

    if check_format(fmt) == RGB:
        return model
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d):
            if module.in_channels != 3:
                raise RnnedgeError(f"the model's first convolution reads {module.in_channels} "
                                   f"channels, not RGB: it cannot take a {fmt} input")
            parent_name, _, attr = name.rpartition(".")
            setattr(model.get_submodule(parent_name), attr,
                    fold_first_conv(module, fmt, bayer_conv))
            return model
    raise RnnedgeError(f"the model has no convolution to fold a {fmt} input into")


def resolve_format(stored, requested, what) -> str:
    """The input format of a model that stores `stored` (None: rgb); a `requested` one that
    differs is a one-line RnnedgeError naming `what` (the model file)."""
    stored = check_format(stored or RGB)
    if requested is not None and check_format(requested) != stored:
        raise RnnedgeError(f"{what} reads {stored} input, not {requested}: give data in its "
                           f"format (or export a model for {requested})")
    return stored
