"""Benchmark the family's layers at the CIFAR ResNet18-RNN head position against its SWS-BiRNN.

    python benchmarks/family.py [--heads NAME ...] [--cell tanh] [--train-epochs 2]
                                [--train-samples 512] [--out DIR] [--json]

For every layer of `rnnedge.zoo.family.HEADS` (8x8x51 in, 102 out), in the same run as the
SWS-BiRNN it is compared with:
- parameters read from the module and from the formulas (rnnedge.accounting);
- MACs with the paper's convention (params x positions per direction) and the int8 graph's
  MACs (graph_stats reads the flatbuffer: conv/FC/elementwise/pool counts);
- recurrent ops per step and the weight duplication factor of rnnedge's int8 export of the
  layer alone, and its inplace arena (rnnedge's planner on that .tflite);
- int8 agreement: TFLM vs TFLite's reference kernels (max LSB) and int8 vs float (max |diff|);
- trained accuracy: `cifar-resnet18-<head>` (the head in the SWS-BiRNN's place) trained on
  the synthetic set with the same budget (epochs, samples, seed) as `cifar-resnet18-rnn`;
  `--train-epochs 0` skips it.
Ratios are to the SWS-BiRNN row. Prints a markdown table (also DIR/family_benchmark.md).
"""

import argparse
import json
import os
import sys
import tempfile
import time

import torch


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
    path = os.path.join(folder, f"{name}.tflite")
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


def _train(name, cell, epochs, samples, folder):
    from rnnedge.train import TrainConfig, fit
    from rnnedge.data import open_dataset
    from rnnedge import zoo

    model_name = "cifar-resnet18-rnn" if name == "sws-birnn" else f"cifar-resnet18-{name}"
    data = f"synthetic:n={samples}"
    entry = zoo.get(model_name)
    train_set = open_dataset(data, "train", entry.input_shape)
    val_set = open_dataset(data, "val", entry.input_shape)
    config = {"num_classes": train_set.num_classes, "cell": cell}
    torch.manual_seed(0)
    model = zoo.build(model_name, **config)
    result = fit(model, train_set, val_set, out=os.path.join(folder, f"{name}.pt"),
                 config=TrainConfig(epochs=epochs, batch=64), input_shape=entry.input_shape,
                 zoo_name=model_name, model_config=config)
    return result.best_score


def _table(rows, trained):
    base = rows[0]
    head = ("| head | params | x | paper MACs | graph MACs | x | ops/step | dup | inplace arena | x "
            "| TFLM LSB | int8 max diff |" + (" val acc % |" if trained else ""))
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        ops = "-" if r["ops_per_step"] is None else f"{r['ops_per_step']:.1f}"
        line = (f"| {r['head']} | {r['params']:,} | {r['params'] / base['params']:.2f} | {r['paper_macs']:,} "
                f"| {r['graph_macs']:,} | {r['graph_macs'] / base['graph_macs']:.2f} | {ops} "
                f"| {r['duplication_factor']:.2f} | {r['inplace_arena']:,} | {r['inplace_arena'] / base['inplace_arena']:.2f} "
                f"| {r['tflm_max_lsb_diff']} | {r['int8_max_abs_diff']:.4f} |")
        if trained:
            line += f" {r['val_acc']:.1f} |"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None):
    from rnnedge.zoo.family import HEADS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", nargs="+", default=list(HEADS), choices=list(HEADS))
    parser.add_argument("--cell", default="tanh", choices=["tanh", "relu"])
    parser.add_argument("--train-epochs", type=int, default=2)
    parser.add_argument("--train-samples", type=int, default=512)
    parser.add_argument("--out", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    heads = ["sws-birnn"] + [h for h in args.heads if h != "sws-birnn"]
    with tempfile.TemporaryDirectory() as folder:
        rows = []
        for name in heads:
            print(f"[family] {name}: export", file=sys.stderr, flush=True)
            row = _layer_row(name, args.cell, folder)
            if args.train_epochs:
                print(f"[family] {name}: train", file=sys.stderr, flush=True)
                row["val_acc"] = _train(name, args.cell, args.train_epochs, args.train_samples, folder)
            rows.append(row)
    budget = {"cell": args.cell, "train_epochs": args.train_epochs, "train_samples": args.train_samples}
    if args.json:
        print(json.dumps({"budget": budget, "rows": rows}))
        return
    text = (f"Family at the ResNet18-RNN head (8x8x51 -> 102, cell {args.cell}); x = ratio to SWS-BiRNN; "
            f"training: synthetic n={args.train_samples}, {args.train_epochs} epochs\n\n" + _table(rows, args.train_epochs > 0))
    print(text)
    if args.out:
        from rnnedge.files import atomic_write
        os.makedirs(args.out, exist_ok=True)
        atomic_write(os.path.join(args.out, "family_benchmark.md"), (text + "\n").encode())


if __name__ == "__main__":
    main()
