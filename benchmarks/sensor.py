"""Camera-native input: arena, total memory and int8 accuracy for rgb, gray and Bayer input.

    python benchmarks/sensor.py [--models NAME ... | --zoo] [--formats rgb gray bayer-rggb]
                                [--train MODEL ...] [--bayer-conv demosaic phase]
                                [--epochs 6] [--train-samples 10000] [--sensor-noise 0]
                                [--optics 0] [--set-noise 12]
                                [--out DIR] [--json]

Part 1, memory (every zoo model given, zoo weights from seed 0): each model is exported fully
int8 for each input format and planned; the row shows the input tensor's bytes, the `tflm` and
`inplace` arenas, int8 weight bytes and total memory (weights + inplace arena), with the
ratio of the inplace arena to the RGB model's. The parameter difference is conv 1 alone
(the demosaic folded into it). `--zoo` takes every zoo model (rnnedge.zoo.names()).
Part 2, accuracy (`--train`, default cifar-resnet18; `--epochs 0` skips it): each classifier
trained on the synthetic set with the same budget (epochs, samples, seed) and the same
`--sensor-noise` for each format (RGB included; rnnedge.data.spec.as_sensor) and, for a Bayer
format, each `--bayer-conv` form of an odd-stride conv 1, exported and
checked on the C kernels: float and int8 top-1 and the drop, with the gap to RGB, and the
trained export's inplace arena, ops and MACs. The peer is the RGB model of the same run.
`--optics SIGMA` trains and checks on the camera-realistic set `synthetic:optics=SIGMA` (the
scene blurred by a lens PSF before any format conversion; rnnedge/data/synthetic.py);
`--set-noise N` draws the set with Gaussian noise N grey levels (`synthetic:noise=N`, added
after the lens, before the format conversion; the set's default is 12), so a camera with a
cleaner sensor is measured with the same scenes and the same noise samples scaled.
Every row is appended to DIR/rows.jsonl as it finishes; a rerun with the same DIR and budget
reuses the rows there (an interrupted run resumes). Prints markdown tables (also
DIR/sensor.md).
"""

import argparse
import json
import os
import sys
import tempfile

from rnnedge.data import synthetic
from rnnedge.files import atomic_write

DEFAULT_MODELS = ("cifar-resnet18-rnn", "cifar-resnet18-thin", "det-cnn-256", "det-crnn-256",
                  "det-cnn-480x640", "det-crnn-480x640")
DEFAULT_FORMATS = ("rgb", "gray", "bayer-rggb")
SET_NOISE = synthetic.SyntheticConfig.noise
"""The synthetic set's default Gaussian noise in grey levels."""


def memory_row(name, fmt, folder):
    """Export zoo model `name` for `fmt` (seed-0 weights) and plan it."""
    import torch

    from rnnedge import zoo
    from rnnedge.arena_report import arena_report
    from rnnedge.export.pipeline import export_int8
    from rnnedge.tflite import read_model

    torch.manual_seed(0)
    model = zoo.build(name, input_format=fmt)
    shape = zoo.input_shape(name, fmt)
    meta = {"input_shape": list(shape), "normalization": {"mean": [0.5], "std": [0.25]},
            "zoo_name": name, "config": {} if fmt == "rgb" else {"input_format": fmt}}
    path = os.path.join(folder, f"{name}-{fmt}.tflite")
    exported = export_int8(model, meta, path, calib_samples=8, check_samples=2)
    report = arena_report(read_model(path), path, planner="inplace")
    return {"model": name, "format": fmt, "input_bytes": shape[0] * shape[1] * shape[2],
            "params": sum(p.numel() for p in model.parameters()),
            "arena_tflm": report["arena"]["tflm"], "arena_inplace": report["arena"]["inplace"],
            "weight_bytes": report["weight_bytes"], "total_memory": report["total_memory"],
            "ops": exported["stats"]["ops"],
            "tflm_runs": exported["verification"].get("tflm_runs")}


def accuracy_row(name, fmt, form, epochs, samples, noise, folder, optics=0.0,
                 set_noise=SET_NOISE):
    """Train `name` for `fmt` (Bayer conv form `form`) on the synthetic set (lens PSF
    `optics`, the set's own noise `set_noise`), export, check on the C kernels."""
    import torch

    from rnnedge import checkpoint
    from rnnedge.arena_report import arena_report
    from rnnedge.check import run_check
    from rnnedge.export.pipeline import export_int8
    from rnnedge.tflite import read_model
    from rnnedge.train import TrainConfig, train

    data = (f"synthetic:n={samples}" + (f",optics={optics:g}" if optics else "")
            + (f",noise={set_noise:g}" if set_noise != SET_NOISE else ""))
    base = os.path.join(folder, f"{name}-{fmt}{'-' + form if form else ''}-{epochs}e-"
                                f"{samples}n-{noise:g}dn" + (f"-{optics:g}psf" if optics else "")
                        + (f"-{set_noise:g}sn" if set_noise != SET_NOISE else ""))
    trained = train(name, data, out=base + ".pt", config=TrainConfig(epochs=epochs, seed=0),
                    input_format=fmt, sensor_noise=noise, progress=False, threads=1,
                    bayer_conv=form or "demosaic")
    model, meta = checkpoint.load(base + ".pt")
    exported = export_int8(model, meta, base + ".tflite", calib=data)
    report = arena_report(read_model(base + ".tflite"), base + ".tflite", planner="inplace")
    torch.set_num_threads(1)
    checked = run_check(base + ".tflite", data, base + ".pt", "c", 1000, jobs=1)
    return {"model": name, "format": fmt, "bayer_conv": form, "epochs": epochs,
            "train_samples": samples, "params": sum(p.numel() for p in model.parameters()),
            "best_val_acc": trained.best_score, "float_top1": checked.float["top1"],
            "int8_top1": checked.int8["top1"], "drop_pp": checked.drop_pp,
            "arena_inplace": report["arena"]["inplace"], "ops": exported["stats"]["ops"],
            "graph_macs": exported["stats"]["graph_macs"]}


KEY_DEFAULTS = {"optics": 0.0, "set_noise": SET_NOISE}
"""Key fields added after rows were cached: a row without one has this value."""


def _cached(rows_path, key, compute):
    """The row of DIR/rows.jsonl whose fields match `key`, else `compute()` added there (the
    file rewritten atomically as each row finishes: an interrupted run keeps whole rows)."""
    lines = []
    if os.path.exists(rows_path):
        with open(rows_path) as f:
            lines = f.read().splitlines()
        for line in lines:
            row = json.loads(line)
            if all(row.get(k, KEY_DEFAULTS.get(k)) == v for k, v in key.items()):
                return row
    row = {**key, **compute()}
    atomic_write(rows_path, "\n".join([*lines, json.dumps(row)]) + "\n")
    return row


def _budget(row):
    """What a row is compared at: its budget, noises and optics (the RGB peer shares them)."""
    return (row["epochs"], row["train_samples"], row.get("sensor_noise", 0),
            row.get("optics") or 0.0, row.get("set_noise", SET_NOISE))


def _markdown(memory, accuracy):
    lines = ["| model | input | input B | params | tflm arena | inplace arena | vs rgb | "
             "total memory | TFLM runs |", "|---|---|---:|---:|---:|---:|---:|---:|---|"] \
        if memory else []
    rgb = {r["model"]: r for r in memory if r["format"] == "rgb"}
    for r in memory:
        base = rgb.get(r["model"])
        ratio = f"{r['arena_inplace'] / base['arena_inplace']:.2f}" if base else "-"
        lines.append(f"| {r['model']} | {r['format']} | {r['input_bytes']:,} | {r['params']:,} | "
                     f"{r['arena_tflm']:,} | {r['arena_inplace']:,} | {ratio} | "
                     f"{r['total_memory']:,} | {'yes' if r['tflm_runs'] else 'no'} |")
    if accuracy:
        rgb_acc = {(r["model"], *_budget(r)): r for r in accuracy if r["format"] == "rgb"}
        lines += [""] * bool(lines) + [
            "| model | input | conv 1 | optics px | set noise | epochs | train images | noise DN "
            "| params | best val | float top-1 | int8 top-1 | int8 drop | float vs rgb | "
            "inplace arena | ops | MACs |", "|---|---|---|" + "---:|" * 14]
        for r in accuracy:
            base = rgb_acc.get((r["model"], *_budget(r)))
            gap = f"{r['float_top1'] - base['float_top1']:+.2f}" if base else "-"
            lines.append(f"| {r['model']} | {r['format']} | {r['bayer_conv'] or '-'} | "
                         f"{r.get('optics') or 0:g} | {r.get('set_noise', SET_NOISE):g} | "
                         f"{r['epochs']} | {r['train_samples']:,} | "
                         f"{r.get('sensor_noise', 0):g} | {r['params']:,} | "
                         f"{r['best_val_acc']:.2f} | {r['float_top1']:.2f} | "
                         f"{r['int8_top1']:.2f} | {r['drop_pp']:+.2f} | {gap} | "
                         f"{r['arena_inplace']:,} | {r['ops']} | {r['graph_macs']:,} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(DEFAULT_MODELS))
    parser.add_argument("--zoo", action="store_true", help="every zoo model (memory part)")
    parser.add_argument("--formats", nargs="*", default=list(DEFAULT_FORMATS))
    parser.add_argument("--train", nargs="*", default=["cifar-resnet18"])
    parser.add_argument("--bayer-conv", nargs="*", default=["demosaic", "phase"])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--train-samples", type=int, default=10000)
    parser.add_argument("--sensor-noise", type=float, default=0.0)
    parser.add_argument("--optics", type=float, default=0.0,
                        help="lens PSF sigma in pixels of the synthetic set (0: the default set)")
    parser.add_argument("--set-noise", type=float, default=SET_NOISE,
                        help="the synthetic set's Gaussian noise in grey levels (default 12)")
    parser.add_argument("--out", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (0 <= args.set_noise <= synthetic.MAX_NOISE
            and 0 <= args.optics <= synthetic.MAX_OPTICS):  # also refuses nan
        print(f"error: --set-noise must be in [0, {synthetic.MAX_NOISE:g}] and --optics in "
              f"[0, {synthetic.MAX_OPTICS:g}], got {args.set_noise} and {args.optics}",
              file=sys.stderr)
        return 2
    folder = args.out or tempfile.mkdtemp(prefix="rnnedge-sensor-")
    os.makedirs(folder, exist_ok=True)
    rows = os.path.join(folder, "rows.jsonl")
    memory = []
    if args.zoo:
        from rnnedge import zoo

        args.models = zoo.names()
    for name in args.models:
        for fmt in args.formats:
            print(f"memory: {name} {fmt}", file=sys.stderr)
            memory.append(_cached(rows, {"part": "memory", "model": name, "format": fmt},
                                  lambda: memory_row(name, fmt, folder)))
    accuracy = []
    for name in args.train if args.epochs > 0 else ():
        for fmt in args.formats:
            for form in args.bayer_conv if fmt.startswith("bayer-") else [None]:
                print(f"accuracy: {name} {fmt} {form or ''}", file=sys.stderr)
                key = {"part": "accuracy", "model": name, "format": fmt, "bayer_conv": form,
                       "epochs": args.epochs, "train_samples": args.train_samples,
                       "sensor_noise": args.sensor_noise, "optics": args.optics,
                       "set_noise": args.set_noise}
                accuracy.append(_cached(rows, key, lambda: accuracy_row(
                    name, fmt, form, args.epochs, args.train_samples, args.sensor_noise,
                    folder, args.optics, args.set_noise)))
    text = _markdown(memory, accuracy)
    atomic_write(os.path.join(folder, "sensor.md"), (text + "\n").encode())
    print(json.dumps({"memory": memory, "accuracy": accuracy}) if args.json else text)


if __name__ == "__main__":
    sys.exit(main())
