"""How much of the synthetic set's class evidence each camera format records (no training).

    python benchmarks/sensor_visibility.py [--samples 10000] [--split check] [--optics SIGMA]
                                           [--noise 12] [--json]

The synthetic classes (rnnedge/data/synthetic.py) are the direction between two 5x5 marks
drawn as 1-pixel lines (a plus, 9 pixels, and a hollow square, 16), each in a random colour
that differs from the background by at least 80 in one channel only. An RGB pixel records
all three channels; a Bayer pixel one (its filter's), a gray pixel their ITU-R 601 luma.
Each image is rendered three times from the same random stream without noise: whole, without
the plus and without the square (the generator's stamp routine wrapped to skip one mark), so
the images are exactly the training/check images before noise. A sensor pixel shows a mark
when the mark changes the value the format records there by more than 2 sigma of the set's
Gaussian noise (`--noise`, the set's `noise=`: 12 grey levels by default, so 24). Without
optics those are mark pixels (at most 9 and 16); with `--optics` (the camera-realistic set:
the scene blurred by the lens PSF before the format conversion) a mark also shows in its
neighbours, so a Bayer pixel under another filter can still record a mark pixel's colour.
The table gives, per format, the mean number of pixels showing each mark and the share of
images in which a mark shows in fewer than k pixels (plus < k or square < 2k): an upper
bound on how many the format can classify. It also gives each image's peak contrast (the
largest change the weaker of its two marks makes to one recorded value: the class needs
both), averaged over the images, and its ratio to the noise sigma: the contrast-to-noise a
model must find the marks at (the bilinear demosaic a Bayer model's conv 1 is folded with
averages recorded values, so it cannot raise this peak).
"""

import argparse
import json
import sys

import numpy as np

from rnnedge import sensor
from rnnedge.data import synthetic

FORMATS = ("rgb", "gray", "bayer-rggb")
NOISE = synthetic.SyntheticConfig().noise
"""The synthetic set's default Gaussian noise (grey levels); a mark shows above 2 sigma."""


def renderings(samples, split, optics=0.0):
    """Noiseless RGB images (n, H, W, 3) of `split`: whole, without the plus, without the
    square (every other random number drawn as in the set)."""
    config = synthetic.SyntheticConfig(n=samples, noise=0.0, optics=optics)
    per_chunk = config.clutter + 2  # clutter shapes, then the plus, then the square
    stamp, out = synthetic._stamp, []
    for skipped in (None, config.clutter, config.clutter + 1):
        calls = []

        def skipping(images, rows, pixels, colours, skipped=skipped, calls=calls):
            calls.append(None)
            if (len(calls) - 1) % per_chunk != skipped:
                stamp(images, rows, pixels, colours)

        synthetic._stamp = skipping
        try:
            out.append(synthetic.generate(config, split).images)
        finally:
            synthetic._stamp = stamp
    return out


def recorded(fmt, images):
    """What `fmt` records of RGB uint8 images, as float (n, H, W, channels)."""
    if fmt == "gray":  # unrounded luma: a rounding step cannot make a mark appear
        return images.astype(np.float64) @ np.asarray(sensor.LUMA, np.float64)[:, None]
    return sensor.from_rgb(images, fmt).astype(np.float64)


def change(fmt, whole, without):
    """(n, H, W): how much the mark (in `whole`, not in `without`) changes what `fmt` records
    at each sensor pixel (the largest over its channels)."""
    return np.abs(recorded(fmt, whole) - recorded(fmt, without)).max(-1)


def visible(fmt, whole, without, noise=NOISE):
    """(n,) sensor pixels per image at which the mark changes what `fmt` records by more than
    2 sigma of Gaussian noise `noise`."""
    return (change(fmt, whole, without) > 2 * noise).sum((1, 2))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--split", default="check", choices=("train", "val", "check"))
    parser.add_argument("--optics", type=float, default=0.0,
                        help="lens PSF sigma in pixels (0: the default set)")
    parser.add_argument("--noise", type=float, default=NOISE,
                        help="the set's Gaussian noise sigma in grey levels (default 12)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 0 < args.noise <= synthetic.MAX_NOISE:  # also refuses nan
        print(f"error: --noise must be in (0, {synthetic.MAX_NOISE:g}], got {args.noise}",
              file=sys.stderr)
        return 2
    whole, no_plus, no_square = renderings(args.samples, args.split, args.optics)
    rows = []
    for fmt in FORMATS:
        plus, square = change(fmt, whole, no_plus), change(fmt, whole, no_square)
        a, b = ((c > 2 * args.noise).sum((1, 2)) for c in (plus, square))
        peak = float(np.minimum(plus.max((1, 2)), square.max((1, 2))).mean())
        rows.append({"format": fmt, "optics": args.optics, "noise": args.noise,
                     "plus_visible": float(a.mean()), "square_visible": float(b.mean()),
                     **{f"under_{k}": float(np.mean((a < k) | (b < 2 * k)) * 100)
                        for k in (2, 4)},
                     "peak_contrast": peak, "contrast_to_noise": peak / args.noise})
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"synthetic {args.split}, {args.samples:,} images, optics {args.optics:g} px, "
          f"noise {args.noise:g}", file=sys.stderr)
    print("| input | optics px | noise | px showing the plus | px showing the square | images "
          "with a mark under 2 or 4 px | under 4 or 8 px | peak contrast | contrast / noise |"
          "\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['format']} | {r['optics']:g} | {r['noise']:g} | {r['plus_visible']:.2f} | "
              f"{r['square_visible']:.2f} | {r['under_2']:.2f}% | {r['under_4']:.2f}% | "
              f"{r['peak_contrast']:.1f} | {r['contrast_to_noise']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
