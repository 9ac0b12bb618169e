"""Benchmark the family's layers at the CIFAR ResNet18-RNN head position against its SWS-BiRNN.

    python benchmarks/family.py [--heads NAME ...] [--cell tanh] [--train-epochs 2]
                                [--data synthetic:classes=4,n=4096,clutter=0,noise=4] [--check-samples 512]
                                [--threads 1] [--out DIR] [--json]

For every layer of `rnnedge.zoo.family.HEADS` (8x8x51 in, 102 out), in the same run as the
SWS-BiRNN it is compared with:
- parameters read from the module and from the formulas (rnnedge.accounting);
- MACs with the paper's convention (params x positions per direction) and the int8 graph's
  MACs (graph_stats reads the flatbuffer: conv/FC/elementwise/pool counts);
- recurrent ops per step and the weight duplication factor of rnnedge's int8 export of the
  layer alone, and its inplace arena (rnnedge's planner on that .tflite);
- int8 agreement: TFLM vs TFLite's reference kernels (max LSB) and int8 vs float (max |diff|);
- trained accuracy: `cifar-resnet18-<head>` (the head in the SWS-BiRNN's place) trained by
  `rnnedge.train.train` (what `rnnedge train` runs) with one budget for every head (data,
  epochs, batch, seed, threads), then exported to int8 and checked by `rnnedge.check.run_check`
  (what `rnnedge check` runs, TFLite's reference kernels) on the first --check-samples images
  of the check split: float and int8 top-1 and their top-1 agreement. `--train-epochs 0`
  skips it.
Ratios are to the SWS-BiRNN row. Progress goes to stderr; each row is printed (markdown, or
one JSON line with --json) as soon as it is measured, and DIR/family_benchmark.md and .json
are rewritten after every row, so an interrupted run keeps what it measured. With --out the
checkpoints and .tflite files stay in DIR (the test recomputes the accuracies from them).
"""

import argparse
import json
import os
import sys
import tempfile
import time

import torch

DEFAULT_DATA = "synthetic:classes=4,n=4096,clutter=0,noise=4"


def _layer_row(name, cell, folder):
    from rnnedge import accounting
    from rnnedge.export.pipeline import export_int8
    from rnnedge.layers import set_form
    from rnnedge.planner import plan
    from rnnedge.tflite import read_model
    from rnnedge.zoo.family import HEAD_IN, HEADS

    torch.manual_seed(0)
    layer = HEADS[name](cell).eval()
    shape = (HEAD_IN, 8, 8)
    macs = sum(v for m, v in accounting.count_macs(layer, shape).items())
    path = os.path.join(folder, f"{name}-layer.tflite")
    start = time.perf_counter()
    report = export_int8(set_form(layer, "static"), {"input_shape": list(shape),
                                                    "normalization": {"mean": [0.5], "std": [0.25]}},
                         path, calib_samples=32, check_samples=8)
    stats, v = report["stats"], report["verification"]
    return {"head": name, "params": accounting.module_params(layer),
            "formula_params": accounting.formula_params(layer), "paper_macs": int(macs),
            "graph_macs": stats["graph_macs"], "ops": stats["ops"], "ops_per_step": stats["ops_per_step"],
            "duplication_factor": stats["duplication_factor"],
            "inplace_arena": plan(read_model(path), "inplace").arena,
            "tflm_max_lsb_diff": v["tflm_max_lsb_diff"], "int8_max_abs_diff": v["max_abs_diff"],
            "export_s": round(time.perf_counter() - start, 1)}


def model_name(head):
    """The zoo network with `head` at the ResNet18-RNN head position."""
    return "cifar-resnet18-rnn" if head == "sws-birnn" else f"cifar-resnet18-{head}"


def _train_row(name, budget, folder, say):
    """Train, export and check `model_name(name)` with `budget`; the accuracy columns."""
    from rnnedge.check import run_check
    from rnnedge.checkpoint import load
    from rnnedge.export.pipeline import export_int8
    from rnnedge.layers import set_form
    from rnnedge.train import TrainConfig, train

    ckpt, tflite = os.path.join(folder, f"{name}.pt"), os.path.join(folder, f"{name}.tflite")
    start = time.perf_counter()
    result = train(model_name(name), budget["data"], out=ckpt, threads=budget["threads"],
                   config=TrainConfig(epochs=budget["epochs"], batch=budget["batch"], seed=budget["seed"]),
                   log=lambda line: say(f"{name}: {line}"))
    train_s = time.perf_counter() - start
    say(f"{name}: int8 export of the trained network")
    model, meta = load(ckpt)
    export_int8(set_form(model, "static"), meta, tflite, calib=budget["data"],
                calib_samples=budget["calib_samples"], check_samples=8)
    say(f"{name}: check ({budget['check_samples']} images, TFLite reference kernels)")
    check = run_check(tflite, budget["data"], float_checkpoint=ckpt, backend="tflite",
                      samples=budget["check_samples"])
    return {"val_acc": result.best_score, "float_top1": check.float["top1"], "int8_top1": check.int8["top1"],
            "int8_agreement": check.agreement, "check_samples": check.samples,
            "train_s": round(train_s, 1)}


def _table(rows, trained):
    base = rows[0]
    head = ("| head | params | x | paper MACs | graph MACs | x | ops/step | dup | inplace arena | x "
            "| TFLM LSB | int8 max diff |" + (" val % | float % | int8 % | agree % |" if trained else ""))
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        ops = "-" if r["ops_per_step"] is None else f"{r['ops_per_step']:.1f}"
        line = (f"| {r['head']} | {r['params']:,} | {r['params'] / base['params']:.2f} | {r['paper_macs']:,} "
                f"| {r['graph_macs']:,} | {r['graph_macs'] / base['graph_macs']:.2f} | {ops} "
                f"| {r['duplication_factor']:.2f} | {r['inplace_arena']:,} | {r['inplace_arena'] / base['inplace_arena']:.2f} "
                f"| {r['tflm_max_lsb_diff']} | {r['int8_max_abs_diff']:.4f} |")
        if trained:
            line += (f" {r['val_acc']:.1f} | {r['float_top1']:.1f} | {r['int8_top1']:.1f} "
                     f"| {r['int8_agreement']:.1f} |")
        lines.append(line)
    return "\n".join(lines)


def _title(args):
    text = (f"Family at the ResNet18-RNN head (8x8x51 -> 102, cell {args.cell}); x = ratio to SWS-BiRNN")
    if args.train_epochs:
        text += (f"; training: {args.data}, {args.train_epochs} epochs, batch {args.batch}, seed {args.seed}, "
                 f"{args.threads} thread(s); accuracies on the first {args.check_samples} check images")
    return text


def _save(out, text, document):
    from rnnedge.files import atomic_write

    os.makedirs(out, exist_ok=True)
    atomic_write(os.path.join(out, "family_benchmark.md"), (text + "\n").encode())
    atomic_write(os.path.join(out, "family_benchmark.json"), (json.dumps(document, indent=1) + "\n").encode())


def main(argv=None):
    from rnnedge.zoo.family import HEADS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", nargs="+", default=list(HEADS), choices=list(HEADS))
    parser.add_argument("--cell", default="tanh", choices=["tanh", "relu"])
    parser.add_argument("--train-epochs", type=int, default=2)
    parser.add_argument("--data", default=DEFAULT_DATA, help="the training / check set (rnnedge data spec)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calib-samples", type=int, default=64)
    parser.add_argument("--check-samples", type=int, default=512)
    parser.add_argument("--out", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.train_epochs and args.cell != "tanh":
        parser.error("the trained-accuracy columns train the zoo's tanh heads: give --train-epochs 0 "
                     "with another --cell")
    if args.train_epochs < 0 or min(args.batch, args.threads, args.calib_samples, args.check_samples) < 1:
        parser.error("--train-epochs must be >= 0 and --batch/--threads/--calib-samples/--check-samples >= 1")
    heads = ["sws-birnn"] + [h for h in args.heads if h != "sws-birnn"]
    budget = {"cell": args.cell, "data": args.data, "epochs": args.train_epochs, "batch": args.batch,
              "seed": args.seed, "threads": args.threads, "calib_samples": args.calib_samples,
              "check_samples": args.check_samples}
    started = time.perf_counter()

    def say(line):
        print(f"[family {time.perf_counter() - started:6.0f} s] {line}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.out or scratch
        os.makedirs(folder, exist_ok=True)
        rows = []
        for i, name in enumerate(heads):
            say(f"{i + 1}/{len(heads)} {name}: export of the layer alone")
            row = _layer_row(name, args.cell, folder)
            if args.train_epochs:
                say(f"{i + 1}/{len(heads)} {name}: train {model_name(name)}")
                row.update(_train_row(name, budget, folder, say))
            rows.append(row)
            text = _title(args) + "\n\n" + _table(rows, args.train_epochs > 0)
            print(json.dumps(row) if args.json else text.splitlines()[-1] if i else text, flush=True)
            if args.out:
                _save(args.out, text, {"budget": budget, "rows": rows})
    if args.json:
        print(json.dumps({"budget": budget, "rows": rows}))


if __name__ == "__main__":
    main()
