"""Training speed of the recurrent layers' two forms on this machine's CPU.

For cifar-resnet18-rnn in its reference form (the paper's equations stepped literally) and its
static form (the unrolled graph `rnnedge train` uses), and the -thin CNN baseline (no
recurrence) as the peer, it times full training steps (forward, cross-entropy, backward,
Adam step) on one batch and prints a markdown table: images/s by wall clock and by CPU time
(the machine may be shared), and each ratio to the reference form.

    python benchmarks/training.py [--batch 128] [--steps 4] [--threads N] [--json]
"""

import argparse
import json
import time

import torch

from rnnedge import zoo
from rnnedge.layers import set_form

CASES = (("cifar-resnet18-rnn", "reference"), ("cifar-resnet18-rnn", "static"),
         ("cifar-resnet18-thin", "reference"))


def measure(name, form, batch, steps):
    """(wall images/s, CPU images/s) of training steps of zoo model `name` in `form`."""
    torch.manual_seed(0)
    model = zoo.build(name, num_classes=10)
    set_form(model, form)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images, labels = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))

    def step():
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # warm-up: first-call allocations
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return batch * steps / wall, batch * steps / cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for name, form in CASES:
        wall, cpu = measure(name, form, args.batch, args.steps)
        rows.append({"model": name, "form": form, "images_per_s": wall, "images_per_cpu_s": cpu})
    base = rows[0]
    for row in rows:
        row["cpu_ratio"] = row["images_per_cpu_s"] / base["images_per_cpu_s"]
    if args.json:
        print(json.dumps({"threads": torch.get_num_threads(), "batch": args.batch, "rows": rows}))
        return
    print(f"training steps, batch {args.batch}, {torch.get_num_threads()} threads\n")
    print("| model | form | images/s (wall) | images per CPU-s | vs reference (CPU) |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['model']} | {row['form']} | {row['images_per_s']:.0f} | "
              f"{row['images_per_cpu_s']:.1f} | {row['cpu_ratio']:.2f}x |")


if __name__ == "__main__":
    main()
