"""Latency of rnnedge's C kernels (optimised and reference) vs tflite-micro vs TFLite, output
bytes vs TFLM, and the images per second of the parallel check.

    python benchmarks/kernels.py [--zoo NAME ...] [--tinyml NAME ...] [--repeats 7]
                                 [--check-samples 4] [--planner best] [--jobs N]
                                 [--check-images 64] [--qemu-cpus m55 m4]
                                 [--qemu-max-macs 25000000] [--json]

For every model (rnnedge exports of the zoo models, and the public TinyML models of
rnnedge.tinyml_models), in one process and one run: the CPU time of one inference (the
inferring process's time.process_time, so that other jobs on a loaded host do not count;
backends interleaved round by round, single thread; the fastest of --repeats rounds, the
median in the JSON) on
  c               rnnedge.firmware_sim: the optimised C kernels (kernels/optimized/, -O3 and
                  the host's SIMD) in one static arena, dispatched from Python through ctypes
  c-reference     the same runtime on the readable reference C kernels (-O2)
  tflm            tflite-micro's host interpreter (Python wrapper, reference kernels)
  tflite          tf.lite.Interpreter with BUILTIN_REF kernels ("TFLite ref")
  tflite-default  tf.lite.Interpreter with its default optimised kernels (XNNPACK)
as milliseconds and as ratios to the optimised C kernels (> 1: slower than C); the speed-up
of both C kernel sets over TFLM and its geometric mean over the models; the number of output
bytes in which each C kernel set differs from TFLM over --check-samples random inputs, on
every arena planner (must be 0; the script exits 1 otherwise); and the images per second of
`rnnedge check`'s runner (firmware_sim.parallel) on --check-images inputs with 1 and --jobs
workers; and, when arm-none-eabi-gcc and qemu-system-arm are installed, the instructions per
inference of the generated firmware on both kernel sets for each of --qemu-cpus (M55: Helium,
M4: SMLAD) under QEMU (firmware_sim/instructions.py: -icount and SysTick), with the QEMU
run's output bytes vs TFLM added to the mismatch count (models over --qemu-max-macs MACs, or
whose arena exceeds the target's SRAM, are left out). Zoo exports are cached under --cache,
keyed by a hash of the zoo, layer and export sources. Prints a Markdown table (or one JSON object with --json).
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("c", "c-reference", "tflm", "tflite", "tflite-default")
LABELS = {"c": "C opt", "c-reference": "C ref", "tflm": "TFLM", "tflite": "TFLite ref",
          "tflite-default": "TFLite default"}
PLANNERS = ("best", "inplace", "tflm")


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


def _cpu_seconds(run, x) -> float:
    """CPU seconds of one call of backend `run` on `x`: the child's own time for an isolated
    interpreter (run.child), else this process's."""
    start = time.process_time()
    run(x)
    child = getattr(run, "child", None)
    return child.cpu_s if child is not None else time.process_time() - start


def _latency_ms(runners: dict, x: np.ndarray, repeats: int) -> tuple:
    """({backend: fastest CPU ms of one inference}, {backend: median ms}); the backends take
    turns in every round. CPU time leaves out the time other processes of a loaded host take
    from the run; the fastest round is reported because a preemption still costs a short
    inference relatively more (cache refills) than a long one."""
    times = {b: [] for b in runners}
    for run in runners.values():
        run(x)  # warm-up (first-call allocation, caches)
    for _ in range(repeats):
        for b, run in runners.items():
            times[b].append(_cpu_seconds(run, x))
    return ({b: 1e3 * min(t) for b, t in times.items()},
            {b: 1e3 * statistics.median(t) for b, t in times.items()})


def _runner(backend: str, path: Path, planner: str):
    """A make_backend callable; "c-reference" is the c backend on the reference kernels."""
    from rnnedge.firmware_sim.backends import make_backend

    if backend.startswith("c"):
        kernels = "reference" if backend == "c-reference" else "optimized"
        return make_backend("c", str(path), planner=planner, kernels=kernels)
    return make_backend(backend, str(path))


def _mismatches(outputs, reference) -> int:
    return sum(int(np.count_nonzero(a != b)) for a, b in zip(outputs, reference))


def _images_per_second(path: Path, x: np.ndarray, jobs: int, planner: str) -> float:
    """Throughput of rnnedge check's runner (optimised kernels, built beforehand) on `x`."""
    from rnnedge.firmware_sim.parallel import ParallelRunner

    runner = ParallelRunner("c", str(path), jobs=jobs, planner=planner)
    try:
        runner(x[:1])
        start = time.perf_counter()
        runner(x)
        return len(x) / (time.perf_counter() - start)
    finally:
        runner.close()


def qemu_instructions(path: Path, x: np.ndarray, reference: list, cpus, max_macs: int,
                      macs: int) -> dict:
    """{cpu: {"reference", "optimized": instructions per inference, "ratio": reference /
    optimized, "mismatching_bytes": QEMU output bytes != TFLM over both sets, "checked_bytes"}}
    of the firmware (inplace plan) on the first sample of `x` under QEMU, or {"skipped":
    why}."""
    from rnnedge.errors import RnnedgeError
    from rnnedge.firmware_sim import codegen, instructions, toolchain
    from rnnedge.firmware_sim.compiler import compile_model
    from rnnedge.kernels import load

    tools = toolchain.arm_tools()
    if not (tools["cc"] and tools["qemu"]):
        return {"skipped": "arm-none-eabi-gcc or qemu-system-arm is not installed"}
    if macs > max_macs:
        return {"skipped": f"{macs:,} MACs > --qemu-max-macs"}
    expected = b"".join(np.ascontiguousarray(r[:len(x)]).tobytes() for r in reference)
    data, out = x.tobytes(), {}
    with tempfile.TemporaryDirectory() as tmp:
        for kernels in ("reference", "optimized"):
            try:
                program = compile_model(str(path), "inplace", lib=load(kernels=kernels),
                                        max_arena=codegen.TARGET_RAM["m55"])
            except RnnedgeError as exc:
                return {"skipped": str(exc)[:120]}
            directory = Path(tmp) / kernels
            codegen.write_firmware(program, directory, kernels)
            for cpu in cpus:
                got = instructions.count_instructions(
                    instructions.build_counting(directory, cpu), data)
                row = out.setdefault(cpu, {"mismatching_bytes": 0, "checked_bytes": 0})
                row["checked_bytes"] += len(expected)
                row[kernels] = got["instructions_per_inference"]
                row["mismatching_bytes"] += sum(a != b for a, b in zip(got["output"], expected))
                row["mismatching_bytes"] += abs(len(got["output"]) - len(expected))
            shutil.rmtree(directory)
    for row in out.values():
        row["ratio"] = row["reference"] / row["optimized"]
    return out


def bench_model(name: str, path: Path, repeats: int, check_samples: int, planner: str,
                jobs: int, check_images: int, qemu_cpus=(), qemu_max_macs: int = 0) -> dict:
    """One row: latency per backend, ratios, mismatching bytes vs TFLM, check throughput,
    QEMU instruction counts."""
    runners = {b: _runner(b, path, planner) for b in BACKENDS}
    one = _inputs(path, 1, seed=0)
    latency, median = _latency_ms(runners, one, repeats)
    check = _inputs(path, check_samples, seed=1)
    reference = runners["tflm"](check)
    mismatches = {}
    for kernels in ("c", "c-reference"):
        for p in PLANNERS:
            run = runners[kernels] if p == planner else _runner(kernels, path, p)
            mismatches[f"{kernels}/{p}"] = _mismatches(run(check), reference)
    program = runners["c"].runtime.program
    macs = sum(s.macs or 0 for s in program.steps)
    qemu = qemu_instructions(path, check[:1], reference, qemu_cpus, qemu_max_macs, macs) \
        if qemu_cpus else {}
    for cpu, row in qemu.items():
        if cpu != "skipped":
            mismatches[f"qemu-{cpu}"] = row["mismatching_bytes"]
    images = _inputs(path, check_images, seed=2)
    return {"model": name, "macs": macs, "arena_bytes": program.arena,
            "latency_ms": latency, "median_ms": median,
            "ratio_to_c": {b: latency[b] / latency["c"] for b in BACKENDS if b != "c"},
            "speedup_vs_tflm": {b: latency["tflm"] / latency[b] for b in ("c", "c-reference")},
            "mismatching_bytes_vs_tflm": mismatches,
            "checked_bytes": int(sum(o.nbytes for o in reference)),
            "check_images_per_s": {"1": _images_per_second(path, images, 1, planner),
                                   str(jobs): _images_per_second(path, images, jobs, planner)},
            "qemu_instructions": qemu}


def geomean(values) -> float:
    """Geometric mean of positive numbers."""
    values = list(values)
    return float(np.exp(np.mean(np.log(values)))) if values else float("nan")


def markdown(rows: list, jobs: int, cpus=()) -> str:
    """The results as a Markdown table."""
    head = ["model", "MACs"] + [f"{LABELS[b]} ms" for b in BACKENDS] + \
        ["TFLM / C opt", "TFLM / C ref", "C opt / TFLite default", "bytes != TFLM",
         "check img/s 1 job", f"check img/s {jobs} jobs"] + \
        [f"{cpu.upper()} insns ref / opt (ratio)" for cpu in cpus]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["model"], f"{r['macs']:,}"]
        cells += [f"{r['latency_ms'][b]:.2f}" for b in BACKENDS]
        cells += [f"{r['speedup_vs_tflm']['c']:.1f}", f"{r['speedup_vs_tflm']['c-reference']:.2f}",
                  f"{1 / r['ratio_to_c']['tflite-default']:.2f}"]
        checked = r["checked_bytes"] * len([k for k in r["mismatching_bytes_vs_tflm"]
                                            if not k.startswith("qemu-")])
        checked += sum(q["checked_bytes"] for q in r["qemu_instructions"].values()
                       if isinstance(q, dict))
        cells.append(f"{sum(r['mismatching_bytes_vs_tflm'].values())} / {checked}")
        ips = r["check_images_per_s"]
        cells += [f"{ips['1']:.0f}", f"{ips[str(jobs)]:.0f}"]
        for cpu in cpus:
            q = r["qemu_instructions"].get(cpu)
            cells.append(f"{q['reference'] / 1e6:.1f}M / {q['optimized'] / 1e6:.1f}M "
                         f"({q['ratio']:.1f}x)" if q else "-")
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
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--check-samples", type=int, default=4)
    parser.add_argument("--planner", default="best", choices=PLANNERS)
    parser.add_argument("--jobs", type=int, default=None,
                        help="workers of the parallel check row (default: available cores)")
    parser.add_argument("--check-images", type=int, default=64)
    parser.add_argument("--qemu-cpus", nargs="*", default=["m55", "m4"],
                        help="Cortex-M builds to count instructions of under QEMU (none: skip)")
    parser.add_argument("--qemu-max-macs", type=int, default=25_000_000,
                        help="leave models with more MACs out of the QEMU counts")
    parser.add_argument("--cache", type=Path,
                        default=Path(os.path.expanduser("~/.cache/rnnedge/bench")))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from rnnedge.firmware_sim.parallel import available_cores

    jobs = args.jobs or available_cores()
    zoo_names = list(zoo.names()) if args.zoo is None else args.zoo
    tiny_names = sorted(tinyml_models.BUILDERS) if args.tinyml is None else args.tinyml
    models = [(n, zoo_model(n, args.cache)) for n in zoo_names]
    models += [(n, Path(tinyml_models.tflite_path(n))) for n in tiny_names]
    rows = []
    for name, path in models:
        rows.append(bench_model(name, path, args.repeats, args.check_samples, args.planner,
                                jobs, args.check_images, args.qemu_cpus, args.qemu_max_macs))
        if not args.json:
            print(f"{name}: done", file=sys.stderr, flush=True)
    summary = {"geomean_speedup_vs_tflm": {
        b: geomean(r["speedup_vs_tflm"][b] for r in rows) for b in ("c", "c-reference")}}
    if args.json:
        print(json.dumps({"planner": args.planner, "repeats": args.repeats, "jobs": jobs,
                          "rows": rows, **summary}))
    else:
        print(f"CPU time of one inference (fastest of {args.repeats} interleaved rounds after "
              f"a warm-up, single thread), C kernels on the `{args.planner}` arena plan; bytes "
              f"!= TFLM summed over both kernel sets and the {', '.join(PLANNERS)} plans.\n")
        print(markdown(rows, jobs, args.qemu_cpus))
        g = summary["geomean_speedup_vs_tflm"]
        print(f"\nGeometric mean speed-up over TFLM: optimised C {g['c']:.1f}x, reference C "
              f"{g['c-reference']:.2f}x ({len(rows)} models).")
    return 1 if any(sum(r["mismatching_bytes_vs_tflm"].values()) for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
