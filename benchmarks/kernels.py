"""Latency of rnnedge's C kernels vs tflite-micro vs TFLite, and output bytes vs TFLM.

    python benchmarks/kernels.py [--zoo NAME ...] [--tinyml NAME ...] [--repeats 5]
                                 [--check-samples 4] [--planner best] [--json]

For every model (rnnedge exports of the zoo models, and the public TinyML models of
rnnedge.tinyml_models), in one process and one run: the median latency of one inference
(backends interleaved round by round) on
  c               rnnedge.firmware_sim: C kernels (-O2 release build) in one static arena,
                  dispatched from Python through ctypes
  tflm            tflite-micro's host interpreter (Python wrapper, reference kernels)
  tflite          tf.lite.Interpreter with BUILTIN_REF kernels ("TFLite ref")
  tflite-default  tf.lite.Interpreter with its default optimised kernels
as milliseconds and as ratios to the C kernels (> 1: slower than C), plus the number of
output bytes in which `c` differs from TFLM over --check-samples random inputs (must be 0;
the script exits 1 otherwise). Zoo exports are cached under --cache, keyed by a hash of the
zoo, layer and export sources. Prints a Markdown table (or one JSON object with --json).
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("c", "tflm", "tflite", "tflite-default")
LABELS = {"c": "C kernels", "tflm": "TFLM", "tflite": "TFLite ref", "tflite-default":
          "TFLite default"}


def _source_hash() -> str:
    """Hash of the sources an export depends on (cache key)."""
    h = hashlib.sha256()
    for folder in ("export", "rnnedge/zoo", "rnnedge/layers"):
        for path in sorted((ROOT / folder).glob("*.py")):
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def zoo_model(name: str, cache: Path) -> Path:
    """The int8 export of zoo model `name`, exported on first use."""
    path = cache / f"{name}-{_source_hash()}.tflite"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "rnnedge", "export", "--zoo", name,
                               "--int8", "-o", str(path), "--calib-samples", "16",
                               "--check-samples", "2", "--json"],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"exporting {name} failed: {proc.stderr.strip()[-300:]}")
    return path


def _inputs(path: Path, n: int, seed: int) -> np.ndarray:
    """`n` random inputs of the model's input shape and dtype."""
    from rnnedge.tflite import read_model

    sg = read_model(str(path)).main
    tensor = sg.tensors[sg.inputs[0]]
    shape = tuple(tensor.shape[1:]) if tensor.shape[0] == 1 else tuple(tensor.shape)
    return np.random.default_rng(seed).integers(-128, 128, (n,) + shape,
                                                dtype=np.dtype(tensor.dtype))


def _median_ms(runners: dict, x: np.ndarray, repeats: int) -> dict:
    """{backend: median ms of one inference}; the backends take turns in every round, so
    that load from other processes hits them alike."""
    times = {b: [] for b in runners}
    for run in runners.values():
        run(x)  # warm-up (first-call allocation, caches)
    for _ in range(repeats):
        for b, run in runners.items():
            start = time.perf_counter()
            run(x)
            times[b].append(time.perf_counter() - start)
    return {b: 1e3 * statistics.median(t) for b, t in times.items()}


def bench_model(name: str, path: Path, repeats: int, check_samples: int, planner: str) -> dict:
    """One row: latency per backend, ratios to C, and mismatching bytes vs TFLM."""
    from rnnedge.firmware_sim.backends import make_backend

    runners = {b: make_backend(b, str(path), planner=planner) for b in BACKENDS}
    one = _inputs(path, 1, seed=0)
    latency = _median_ms(runners, one, repeats)
    check = _inputs(path, check_samples, seed=1)
    ours, reference = runners["c"](check), runners["tflm"](check)
    mismatches = sum(int(np.count_nonzero(a != b)) for a, b in zip(ours, reference))
    program = runners["c"].runtime.program
    macs = sum(s.macs or 0 for s in program.steps)
    return {"model": name, "macs": macs, "arena_bytes": program.arena,
            "latency_ms": latency,
            "ratio_to_c": {b: latency[b] / latency["c"] for b in BACKENDS if b != "c"},
            "mismatching_bytes_vs_tflm": mismatches,
            "checked_bytes": int(sum(o.nbytes for o in reference))}


def markdown(rows: list) -> str:
    """The results as a Markdown table."""
    head = ["model", "MACs", "arena B"] + [f"{LABELS[b]} ms" for b in BACKENDS] + \
        [f"{LABELS[b]} / C" for b in BACKENDS if b != "c"] + ["bytes != TFLM"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["model"], f"{r['macs']:,}", f"{r['arena_bytes']:,}"]
        cells += [f"{r['latency_ms'][b]:.2f}" for b in BACKENDS]
        cells += [f"{r['ratio_to_c'][b]:.2f}" for b in BACKENDS if b != "c"]
        cells.append(f"{r['mismatching_bytes_vs_tflm']} / {r['checked_bytes']}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Benchmark the selected models; exit status 1 on any mismatch vs TFLM."""
    from rnnedge import tinyml_models, zoo

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zoo", nargs="*", default=None,
                        help="zoo models to export and time (default: all)")
    parser.add_argument("--tinyml", nargs="*", default=None,
                        help="public TinyML models to time (default: all)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--check-samples", type=int, default=4)
    parser.add_argument("--planner", default="best", choices=("best", "tflm", "inplace"))
    parser.add_argument("--cache", type=Path,
                        default=Path(os.path.expanduser("~/.cache/rnnedge/bench")))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    zoo_names = list(zoo.names()) if args.zoo is None else args.zoo
    tiny_names = sorted(tinyml_models.BUILDERS) if args.tinyml is None else args.tinyml
    models = [(n, zoo_model(n, args.cache)) for n in zoo_names]
    models += [(n, Path(tinyml_models.tflite_path(n))) for n in tiny_names]
    rows = []
    for name, path in models:
        rows.append(bench_model(name, path, args.repeats, args.check_samples, args.planner))
        if not args.json:
            print(f"{name}: done", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"planner": args.planner, "repeats": args.repeats, "rows": rows}))
    else:
        print(f"Median latency of one inference ({args.repeats} interleaved rounds after a "
              f"warm-up), C kernels on the `{args.planner}` arena plan; ratios > 1: slower "
              "than C.\n")
        print(markdown(rows))
    return 1 if any(r["mismatching_bytes_vs_tflm"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
