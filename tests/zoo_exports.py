"""rnnedge's int8 exports of zoo models, made once per test session and shared by the test
modules through the session's base temp dir (a subprocess, as a user runs `rnnedge export`)."""

import subprocess
import sys

import pytest


def export_zoo_model(tmp_path_factory, name: str) -> str:
    """The .tflite path of rnnedge's int8 export of zoo model `name` (fresh weights); the
    test is skipped when the export cannot run here."""
    path = tmp_path_factory.getbasetemp() / f"{name}.tflite"
    if not path.exists():
        proc = subprocess.run([sys.executable, "-m", "rnnedge", "export", "--zoo", name,
                               "--int8", "-o", str(path), "--calib-samples", "8",
                               "--check-samples", "2", "--json"],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            pytest.skip(f"rnnedge export is not usable here: {proc.stderr.strip()[-200:]}")
    return str(path)
