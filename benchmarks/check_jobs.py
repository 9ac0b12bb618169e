"""Wall time of the whole `rnnedge check --backend c` command with 1 and with N jobs: what a
user waits for, start-up, data and model compilation included.

    python benchmarks/check_jobs.py [--zoo cifar-resnet18-rnn ...] [--images 1000]
                                    [--jobs 2] [--repeats 7] [--json]

For every zoo model (its int8 export, cached as benchmarks/kernels.py caches it) the command
`rnnedge check MODEL --data synthetic:n=IMAGES --backend c --jobs J --json` runs --repeats
times for J = 1 and J = --jobs, interleaved so that a change in the host's load hits both;
the report gives the median and the fastest wall time of each, their ratio (N jobs / 1 job),
and whether every run printed the same JSON (the script exits 1 if not). The fixed part of a
check (interpreter start-up, imports, data generation, quantisation) runs once whatever the
jobs, so the ratio cannot reach 1 / N: docs/firmware.md ("Parallel check") splits it.
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path



def zoo_model(name: str, cache: Path) -> Path:
    """benchmarks/kernels.py's cached zoo export (loaded by path: `kernels` is also the name
    of rnnedge's kernel package folder)."""
    spec = importlib.util.spec_from_file_location("rnnedge_benchmark_kernels",
                                                  Path(__file__).with_name("kernels.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.zoo_model(name, cache)


def time_check(model: Path, images: int, jobs: int) -> tuple[float, str]:
    """(wall seconds, JSON printed) of one `rnnedge check` run."""
    command = [sys.executable, "-m", "rnnedge", "check", str(model), "--data",
               f"synthetic:n={images}", "--backend", "c", "--jobs", str(jobs), "--json"]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"rnnedge check failed: {proc.stderr.strip()[-300:]}")
    return wall, proc.stdout


def measure(name: str, model: Path, images: int, jobs: int, repeats: int) -> dict:
    """The row of one model (module docstring)."""
    walls, outputs = {1: [], jobs: []}, set()
    for _ in range(repeats):
        for j in (1, jobs):
            wall, printed = time_check(model, images, j)
            walls[j].append(wall)
            outputs.add(printed)
    one, many = statistics.median(walls[1]), statistics.median(walls[jobs])
    return {"model": name, "images": images, "jobs": jobs, "repeats": repeats,
            "median_s": {"1": one, str(jobs): many},
            "fastest_s": {"1": min(walls[1]), str(jobs): min(walls[jobs])},
            "ratio_median": many / one, "ratio_fastest": min(walls[jobs]) / min(walls[1]),
            "identical_json": len(outputs) == 1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zoo", nargs="+", default=["cifar-resnet18-rnn"])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cache", type=Path,
                        default=Path(os.path.expanduser("~/.cache/rnnedge/bench")))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(n, zoo_model(n, args.cache), args.images, args.jobs, args.repeats)
            for n in args.zoo]
    if args.json:
        print(json.dumps(rows))
    else:
        print(f"| model | images | 1 job s (median / fastest) | {args.jobs} jobs s | "
              f"ratio (median / fastest) | same JSON |\n|---|---:|---:|---:|---:|---|")
        for r in rows:
            j = str(r["jobs"])
            print(f"| {r['model']} | {r['images']:,} | {r['median_s']['1']:.2f} / "
                  f"{r['fastest_s']['1']:.2f} | {r['median_s'][j]:.2f} / {r['fastest_s'][j]:.2f}"
                  f" | {r['ratio_median']:.2f} / {r['ratio_fastest']:.2f} | "
                  f"{'yes' if r['identical_json'] else 'NO'} |")
    return 0 if all(r["identical_json"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
