"""The paper's Table 6 beside ours: the four CIFAR variants trained with the same budget.

    python benchmarks/accuracy.py [--data synthetic|PATH/cifar-100-python] [--epochs N]
                                  [--workdir DIR] [--backend c|tflite|tflm] [--json]

Each of cifar-resnet18, -rnn, -thin and -short is trained with the same settings on the
same data (the synthetic set by default, real CIFAR-100 when a path is given), exported to
int8, planned and checked on the host exactly as `rnnedge pipeline` does
(`rnnedge.pipeline.measure_model`). Printed as a markdown table: parameters, tensor arena
(inplace and TFLM-greedy plans), total memory, float and int8 top-1, the drop, and the
paper's Table 6 row. Accuracy on the synthetic set is not CIFAR-100 accuracy: compare the
ordering and the int8 drop, not the values.
"""

import argparse
import json
import os
import sys

from rnnedge.pipeline import PAPER_TABLE_6, PipelineSettings, measure_model


def _row(m):
    p = m["paper"]
    return (f"| {m['model']} | {m['params']:,} | {m['arena']['inplace']:,} | {m['arena']['tflm']:,} | "
            f"{m['total_memory']:,} | {m['float_top1']:.2f} | {m['int8_top1']:.2f} | {m['drop_pp']:+.2f} | "
            f"{p['params']} | {p['arena']} | {p['total_memory']} | {p['accuracy']} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--workdir", default="benchmarks/results/accuracy")
    parser.add_argument("--backend", default="c", choices=["c", "tflite", "tflm"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = PipelineSettings(workdir=args.workdir, models=tuple(PAPER_TABLE_6), data=args.data, epochs=args.epochs,
                                backend=args.backend, progress=sys.stderr.isatty(),
                                log=lambda message: print(message, file=sys.stderr))
    os.makedirs(settings.workdir, exist_ok=True)
    rows = [measure_model(name, settings) for name in settings.models]
    if args.json:
        print(json.dumps({"settings": vars(args), "models": rows}))
        return
    print(f"Same budget for every model: {args.epochs} epochs on {args.data}; int8 on the {args.backend} kernels.\n")
    print("| model | params | arena inplace B | arena TFLM B | total memory B | float top-1 % | int8 top-1 % | drop pp "
          "| paper params | paper arena | paper total | paper acc % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in rows:
        print(_row(m))


if __name__ == "__main__":
    main()
