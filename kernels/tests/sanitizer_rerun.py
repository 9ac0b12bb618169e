"""Run a kernel test file again on the sanitizer builds (ASan + UBSan, fatal): the optimised
kernels' masked tails, gathers and packed blocks must not read or write out of bounds, nor
hit undefined behaviour, on the same cases that check their bytes.

May import: subprocess, sys, pytest, rnnedge.kernels.build.
"""

import subprocess
import sys

import pytest

from rnnedge.kernels import build


def rerun_under_sanitizers(test_file: str) -> None:
    """`test_file`'s not-slow tests in a child process on the sanitizer builds; asserts they
    pass with no runtime error. Inside that child the calling test skips itself."""
    if build.asan_preloaded():
        pytest.skip("already inside the sanitizer run")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                           "-m", "not slow", test_file], env=build.sanitizer_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "passed" in proc.stdout and "runtime error" not in proc.stderr
