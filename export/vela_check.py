"""Compile a .tflite with Arm Vela for Ethos-U55-128 and read back where its ops run.

Used by the benchmark and the tests to check that every op lands on the NPU. Vela is run as
its command-line tool in a temporary folder; its printed network summary gives the CPU/NPU
operator counts and the SRAM it needs (the summary CSV does not carry the operator counts).

May import: re, subprocess, tempfile, rnnedge.errors.
"""

import re
import subprocess
import tempfile

from rnnedge.errors import RnnedgeError

ACCELERATOR = "ethos-u55-128"
_FIELDS = {"cpu_ops": r"CPU operators = (\d+)", "npu_ops": r"NPU operators = (\d+)",
           "sram_kib": r"Total SRAM used\s+([\d.]+) KiB"}


def vela_summary(tflite_path, timeout=600):
    """{"cpu_ops", "npu_ops", "sram_kib"} of `tflite_path` compiled for Ethos-U55-128."""
    with tempfile.TemporaryDirectory() as out:
        try:
            proc = subprocess.run(["vela", "--accelerator-config", ACCELERATOR,
                                   str(tflite_path), "--output-dir", out],
                                  capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RnnedgeError(f"vela did not run: {exc}") from None
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["(no output)"]
        raise RnnedgeError(f"vela failed: {lines[-1][:300]}")
    found = {}
    for key, pattern in _FIELDS.items():
        match = re.search(pattern, proc.stdout)
        if match is None:
            raise RnnedgeError(f"vela printed no '{pattern.split(' ')[0]}' summary line")
        found[key] = float(match.group(1)) if key == "sram_kib" else int(match.group(1))
    return found
