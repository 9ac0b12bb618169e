"""Arena benchmark: every planner against TFLite Micro's measured head, per model.

    python benchmarks/arena.py [--out DIR] [--no-tflm] [--no-vela] [--models a,b]

Models: rnnedge's int8 exports of the paper's zoo (fresh weights; exported once into the
cache directory), the public TinyML architectures of rnnedge.tinyml_models and Keras'
MobileNetV2 at 96 (alpha 0.35) and 224 (alpha 1.0).
For each model: arena bytes of the tflm, best, inplace and fused planners (fused also with
the graph input streamed row by row, and its recompute overhead: rows are computed once, so
0%; and the fused plan whose column tiles may recompute up to 10% of the MACs, with the
share it recomputes), the live-set lower bound, TFLM's measured head (tflite-micro in a
subprocess), the SRAM Arm Vela reports for Ethos-U55-128 (Sram_Only; a different runtime, shown for reference), best/tflm and
inplace/tflm, fused/tflm and streamed/tflm (with their geometric means), weight bytes and
MACs. Writes DIR/arena.md (a markdown table, also printed) and
DIR/arena.png (grouped bars relative to TFLM). To add a model, add one line to MODELS: a name and a function
(cache directory -> .tflite path).
"""

import argparse
import functools
import math
import os
import re
import subprocess
import sys
import tempfile

from rnnedge import tinyml_models, zoo
from rnnedge.arena_report import arena_report
from rnnedge.errors import RnnedgeError
from rnnedge.planner import plan
from rnnedge.tflite import read_model
from rnnedge.tflm_probe import measure_tflm

CACHE = os.path.expanduser("~/.cache/rnnedge-bench/arena")
TILE_BUDGET = 0.10  # the "fused, <= 10% recompute" column (planner/fused_tiles.py)


def zoo_export(name: str, directory=None) -> str:
    """rnnedge's int8 export of zoo model `name` (fresh weights), made once per cache dir."""
    directory = directory or CACHE
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{name}.tflite")
    if not os.path.exists(path):
        proc = subprocess.run([sys.executable, "-m", "rnnedge", "export", "--zoo", name,
                               "--int8", "-o", path, "--calib-samples", "8",
                               "--check-samples", "2", "--json"],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RnnedgeError(f"rnnedge export --zoo {name} failed: {proc.stderr.strip()[-300:]}")
    return path


def mobilenet_v2(size: int, alpha: float, directory=None) -> str:
    """Keras MobileNetV2 (`alpha`) at size x size without its classifier (random weights, full
    int8), converted once into the cache directory: the public MobileNetV2 class."""
    directory = directory or CACHE
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"mobilenet_v2_{size}_{alpha}.tflite")
    if not os.path.exists(path):
        import tensorflow as tf

        tf.keras.utils.set_random_seed(0)
        model = tf.keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=alpha,
                                                  weights=None, include_top=False,
                                                  pooling="avg")
        with open(path + ".tmp", "wb") as f:
            f.write(tinyml_models.to_int8_tflite(model, samples=4))
        os.replace(path + ".tmp", path)
    return path


MODELS = {name: functools.partial(zoo_export, name) for name in zoo.names()}
MODELS |= {name: functools.partial(tinyml_models.tflite_path, name)
           for name in sorted(tinyml_models.BUILDERS)}
MODELS |= {"mobilenet_v2_96": functools.partial(mobilenet_v2, 96, 0.35),
           "mobilenet_v2_224": functools.partial(mobilenet_v2, 224, 1.0)}


def vela_sram(path: str):
    """Total SRAM (bytes) Vela reports for Ethos-U55-128 in Sram_Only mode, or None when
    Vela is missing or fails."""
    with tempfile.TemporaryDirectory() as out:
        try:
            proc = subprocess.run(
                ["vela", path, "--accelerator-config", "ethos-u55-128", "--system-config",
                 "Ethos_U55_High_End_Embedded", "--memory-mode", "Sram_Only",
                 "--output-dir", out], capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired):
            return None
    found = re.search(r"Total SRAM used\s+([\d.]+) KiB", proc.stdout)
    return round(float(found.group(1)) * 1024) if found else None


def measure(name: str, path: str, tflm: bool, vela: bool) -> dict:
    """One benchmark row."""
    report = arena_report(read_model(path), path, stream_input=True)
    row = {"model": name} | report["arena"]
    row["fused_stream"] = report["fused"]["stream_input_arena"]
    row["recompute"] = report["fused"]["recompute_fraction"]
    tiled = plan(read_model(path), "fused", True, max_recompute=TILE_BUDGET)
    row["fused_tiled"] = tiled.arena
    row["tiled_recompute"] = tiled.recompute_macs / report["macs"] if report["macs"] else 0.0
    row["tflm_measured"] = measure_tflm(path)["head"] if tflm else None
    row["vela_sram"] = vela_sram(path) if vela else None
    row["weight_bytes"], row["macs"] = report["weight_bytes"], report["macs"]
    return row


def markdown(rows: list) -> str:
    """The rows as a markdown table."""
    head = ("| model | tflm planner | TFLM measured head | Vela U55 SRAM | best | lower bound | "
            "inplace | fused | fused, streamed input | fused, <=10% recompute | "
            "its recompute | best/tflm | inplace/tflm | fused/tflm | "
            "streamed/tflm | <=10%/tflm | recompute | weight bytes | MACs |")
    lines = [head, "|" + "---|" * 19]
    for r in rows:
        measured = "n/a" if r["tflm_measured"] is None else f"{r['tflm_measured']:,}"
        vela = "n/a" if r["vela_sram"] is None else f"{r['vela_sram']:,}"
        lines.append(f"| {r['model']} | {r['tflm']:,} | {measured} | {vela} | {r['best']:,} | "
                     f"{r['lower_bound']:,} | {r['inplace']:,} | {r['fused']:,} | "
                     f"{r['fused_stream']:,} | {r['fused_tiled']:,} | "
                     f"{100 * r['tiled_recompute']:.1f}% | {r['best'] / r['tflm']:.2f} | "
                     f"{r['inplace'] / r['tflm']:.2f} | {r['fused'] / r['tflm']:.2f} | "
                     f"{r['fused_stream'] / r['tflm']:.2f} | {r['fused_tiled'] / r['tflm']:.2f} | "
                     f"{100 * r['recompute']:.0f}% | "
                     f"{r['weight_bytes']:,} | {r['macs']:,} |")
    ratios = [r["fused"] / r["tflm"] for r in rows]
    streamed = [r["fused_stream"] / r["tflm"] for r in rows]
    tiled = [r["fused_tiled"] / r["tflm"] for r in rows]
    lines.append("")
    lines.append(f"geometric mean over {len(rows)} models: fused/tflm {geomean(ratios):.2f}, "
                 f"streamed/tflm {geomean(streamed):.2f}, <=10% recompute/tflm "
                 f"{geomean(tiled):.2f}")
    return "\n".join(lines)


def geomean(values: list) -> float:
    """Geometric mean of positive `values`."""
    return math.exp(sum(math.log(v) for v in values) / len(values))


def plot(rows: list, path: str):
    """Grouped bars of each planner's arena relative to the tflm planner (= TFLM's head), per
    model, with TFLM's arena in KiB written above each group: the models span 768 B to
    1.8 MB, so ratios are what can be compared on one axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["tflm", "best", "lower_bound", "inplace", "fused", "fused_stream"]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(rows)), 4))
    width = 0.8 / len(keys)
    for k, key in enumerate(keys):
        xs = [i + (k - (len(keys) - 1) / 2) * width for i in range(len(rows))]
        ax.bar(xs, [r[key] / r["tflm"] for r in rows], width, label=key)
    for i, r in enumerate(rows):
        ax.text(i, 1.03, f"{r['tflm'] / 1024:,.0f}K", ha="center", fontsize=7)
    ax.set_xticks(range(len(rows)), [r["model"] for r in rows], rotation=25, fontsize=8,
                  ha="right")
    ax.set_ylim(0, 1.3)
    ax.set_ylabel("arena / TFLM's arena")
    ax.set_title("tensor arena per planner, relative to TFLM (tflm planner == TFLM's measured "
                 "head; KiB above)")
    ax.legend(fontsize=8, loc="upper right", ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results", help="output directory")
    parser.add_argument("--no-tflm", action="store_true", help="skip the TFLM measurement")
    parser.add_argument("--no-vela", action="store_true", help="skip the Vela compilation")
    parser.add_argument("--models", help="comma-separated subset of: " + ", ".join(MODELS))
    args = parser.parse_args(argv)
    names = args.models.split(",") if args.models else list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"unknown models {unknown}")
    os.makedirs(args.out, exist_ok=True)
    rows = [measure(n, MODELS[n](None), not args.no_tflm, not args.no_vela) for n in names]
    table = markdown(rows)
    with open(os.path.join(args.out, "arena.md"), "w") as f:
        f.write(table + "\n")
    plot(rows, os.path.join(args.out, "arena.png"))
    print(table)
    mismatched = [r["model"] for r in rows
                  if r["tflm_measured"] is not None and r["tflm_measured"] != r["tflm"]]
    if mismatched:
        print(f"tflm planner differs from TFLM's head on: {', '.join(mismatched)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
