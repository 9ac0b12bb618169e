"""Compile a .tflite with Arm Vela for an Ethos-U configuration and read back its estimates.

Used by the benchmark and the tests to check that every op lands on the NPU and to compare
models on Vela's performance estimate. Vela is run as its command-line tool in a temporary
folder with its default system configuration and memory mode for the accelerator. Its
printed network summary gives the CPU/NPU operator counts and the SRAM it needs (the summary
CSV does not carry the operator counts); the summary CSV gives the estimated cycles,
inference time and NPU passes; with `per_layer=True` (`--verbose-performance`) the
per-layer CSV gives each NPU operation's cycles.

May import: csv, glob, os, re, subprocess, tempfile, rnnedge.errors.
"""

import csv
import glob
import os
import re
import subprocess
import tempfile

from rnnedge.errors import RnnedgeError

ACCELERATOR = "ethos-u55-128"
#: the configurations the export benchmark reports (Vela's names).
ACCELERATORS = ("ethos-u55-128", "ethos-u55-256", "ethos-u65-256", "ethos-u85-256")
_FIELDS = {"cpu_ops": r"CPU operators = (\d+)", "npu_ops": r"NPU operators = (\d+)",
           "sram_kib": r"Total SRAM used\s+([\d.]+) KiB"}
_SUMMARY_FIELDS = {"cycles": ("cycles_total", float), "inference_s": ("inference_time", float),
                   "npu_passes": ("passes_after_fusing", int)}


def _read_csv(folder, suffix):
    """The rows of the one Vela CSV in `folder` whose name ends with `suffix`."""
    found = glob.glob(os.path.join(folder, f"*{suffix}"))
    if len(found) != 1:
        raise RnnedgeError(f"vela wrote no *{suffix} file")
    with open(found[0], newline="") as handle:
        return list(csv.DictReader(handle))


def _per_layer(rows):
    """Vela's per-layer rows as {"op", "npu_op", "cycles", "mac_count", "name"} dicts."""
    return [{"op": row["Original Operator"], "npu_op": row["NNG Operator"],
             "cycles": float(row["Op Cycles"]), "mac_count": int(float(row["MAC Count"])),
             "name": row["Name"].strip()} for row in rows]


def vela_summary(tflite_path, accelerator=ACCELERATOR, per_layer=False, timeout=600):
    """Vela's figures for `tflite_path` compiled for `accelerator` (default system config):
    {"accelerator", "cpu_ops", "npu_ops", "sram_kib", "cycles", "inference_s", "npu_passes"}
    and, with `per_layer`, "layers": one dict per NPU operation in execution order."""
    argv = ["vela", "--accelerator-config", accelerator, str(tflite_path)]
    if per_layer:
        argv.append("--verbose-performance")
    with tempfile.TemporaryDirectory() as out:
        try:
            proc = subprocess.run(argv + ["--output-dir", out], capture_output=True, text=True,
                                  timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RnnedgeError(f"vela did not run: {exc}") from None
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines() or ["(no output)"]
            raise RnnedgeError(f"vela failed: {lines[-1][:300]}")
        found = {"accelerator": accelerator}
        for key, pattern in _FIELDS.items():
            match = re.search(pattern, proc.stdout)
            if match is None:
                raise RnnedgeError(f"vela printed no '{pattern.split(' ')[0]}' summary line")
            found[key] = float(match.group(1)) if key == "sram_kib" else int(match.group(1))
        summary = _read_csv(out, "_summary_*.csv")
        for key, (column, kind) in _SUMMARY_FIELDS.items():
            found[key] = kind(float(summary[0][column]))
        if per_layer:
            found["layers"] = _per_layer(_read_csv(out, "_per-layer.csv"))
    return found
