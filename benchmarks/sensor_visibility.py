"""How much of the synthetic set's class evidence each camera format records (no training).

    python benchmarks/sensor_visibility.py [--samples 10000] [--split check] [--json]

The synthetic classes (rnnedge/data/synthetic.py) are the direction between two 5x5 marks
drawn as 1-pixel lines (a plus, 9 pixels, and a hollow square, 16), each in a random colour
that differs from the background by at least 80 in one channel only. An RGB pixel records
all three channels; a Bayer pixel one (its filter's), a gray pixel their ITU-R 601 luma. A
mark pixel counts as visible when the recorded value differs from the background under it
by more than 2 sigma of the set's Gaussian noise (24 grey levels). The table gives, per
format, the share of images in which a mark keeps fewer than k of its pixels (plus < k of 9
or square < 2k of 16): an upper bound on how many the format can classify from the marks.
The mark pixels and colours are recorded while the set is generated (a wrapper around
the generator's stamp routine), so the images are exactly the training/check images.
"""

import argparse
import json
import sys

import numpy as np

from rnnedge import sensor
from rnnedge.data import synthetic

FORMATS = ("rgb", "gray", "bayer-rggb")
THRESHOLD = 24.0
"""Two standard deviations of the synthetic set's default noise (12 grey levels)."""


def mark_pixels(samples, split):
    """[(pixels (n, P, 2), colours (n, 3), background (n, P, 3))] of the plus and the square."""
    calls, stamp = [], synthetic._stamp

    def recording(images, rows, pixels, colours):
        ys = np.clip(pixels[..., 0], 0, images.shape[1] - 1)
        xs = np.clip(pixels[..., 1], 0, images.shape[2] - 1)
        calls.append((np.stack([ys, xs], -1), colours.copy(), images[rows, ys, xs].copy()))
        return stamp(images, rows, pixels, colours)

    config = synthetic.SyntheticConfig(n=samples)
    synthetic._stamp = recording
    try:
        synthetic.generate(config, split)
    finally:
        synthetic._stamp = stamp
    per_chunk = config.clutter + 2  # clutter shapes, then the plus, then the square
    marks = []
    for mark in (config.clutter, config.clutter + 1):
        chunks = calls[mark::per_chunk]
        marks.append(tuple(np.concatenate([c[i] for c in chunks]) for i in range(3)))
    return marks


def visible(fmt, pixels, colours, background):
    """(n,) visible pixels of one mark per image as `fmt` records them."""
    diff = colours[:, None, :] - background
    if fmt == "rgb":
        return (np.abs(diff).max(-1) > THRESHOLD).sum(1)
    if fmt == "gray":
        return (np.abs(diff @ np.asarray(sensor.LUMA)) > THRESHOLD).sum(1)
    channel = sensor.colour_grid(fmt)[pixels[..., 0] % 2, pixels[..., 1] % 2]
    return (np.abs(np.take_along_axis(diff, channel[..., None], -1)[..., 0])
            > THRESHOLD).sum(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--split", default="check", choices=("train", "val", "check"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    plus, square = mark_pixels(args.samples, args.split)
    rows = []
    for fmt in FORMATS:
        a, b = visible(fmt, *plus), visible(fmt, *square)
        rows.append({"format": fmt, "plus_visible": float(a.mean()),
                     "square_visible": float(b.mean()),
                     **{f"under_{k}": float(np.mean((a < k) | (b < 2 * k)) * 100)
                        for k in (2, 4)}})
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"synthetic {args.split}, {args.samples:,} images", file=sys.stderr)
    print("| input | plus px visible (of 9) | square px visible (of 16) | images with a mark "
          "under 2/9 or 4/16 | under 4/9 or 8/16 |\n|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['format']} | {r['plus_visible']:.2f} | {r['square_visible']:.2f} | "
              f"{r['under_2']:.2f}% | {r['under_4']:.2f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
