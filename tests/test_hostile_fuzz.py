"""Seeded mutation fuzzing (rnnedge.fuzz): a few hundred mutated .tflite files of four small
models through the reader, every planner, the compiler, a debug-mode C run on the ASan +
UBSan kernel build and code generation, and a sample through the real command line. Every
case must end "ok" or in a clean one-line refusal: no traceback, signal, sanitizer report,
timeout, memory blow-up or file left behind. The outcomes are classified by the harness
from the process's exit status and stderr, independently of the code under test."""

import pytest

from rnnedge import fuzz

STAGE_CASES = 240
CLI_CASES = 21  # three per command


def _report(result):
    return "; ".join(f"{seed} #{case}: {outcome} ({detail})"
                     for seed, case, outcome, detail in result["findings"][:10])


@pytest.mark.slow
def test_stages_under_sanitizers_find_nothing():
    result = fuzz.run_stages(fuzz.cases(STAGE_CASES), sanitize=True, timeout=120)
    counts = result["counts"]
    assert sum(counts.values()) == STAGE_CASES
    assert counts["ok"] + counts["error"] == STAGE_CASES, _report(result)
    assert counts["ok"] > 0 and counts["error"] > 0  # the mutations reach both ends


@pytest.mark.slow
def test_command_line_finds_nothing():
    result = fuzz.run_cli(fuzz.cases(CLI_CASES, start=50_000), timeout=180)
    assert result["counts"]["ok"] + result["counts"]["error"] == CLI_CASES, _report(result)


def test_mutations_are_deterministic_and_change_the_model():
    seed = fuzz.seed_models(("unet",))["unet"]
    first = [fuzz.mutate(seed, case) for case in range(20)]
    assert first == [fuzz.mutate(seed, case) for case in range(20)]
    assert all(m != seed for m in first)


def test_harness_classifies_a_crash_and_a_traceback(monkeypatch, tmp_path):
    """The classifier itself can fail: a dying worker is a signal, a stray exception a
    traceback (so a 0 count above means something)."""
    crash = tmp_path / "crash.py"
    crash.write_text("import os, sys\nfor line in sys.stdin:\n    os.abort()\n")
    stray = tmp_path / "stray.py"
    stray.write_text("import json, sys\nfor line in sys.stdin:\n"
                     "    print(json.dumps([0, 'traceback', 'ValueError: x']), flush=True)\n")
    for script, expected in ((crash, "signal"), (stray, "traceback")):
        monkeypatch.setattr(fuzz._Worker, "__init__", _fake_worker(script))
        result = fuzz.run_stages([("unet", 1)], sanitize=False, timeout=30, names=("unet",))
        assert result["counts"][expected] == 1, result


def _fake_worker(script):
    import subprocess
    import sys
    import tempfile

    def init(self, folder, sanitize):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
    return init


def test_worker_memory_is_its_own_not_its_parents():
    """Linux carries the starting process's resident size into a child's ru_maxrss: a fuzz
    worker started from a large test process must still measure only itself."""
    import subprocess
    import sys

    held = bytearray(600 << 20)
    held[::4096] = b"\1" * len(held[::4096])  # resident, not just reserved
    code = ("import resource; from rnnedge.fuzz import _own_peak_rss; "
            "print(_own_peak_rss() >> 20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10)")
    own, inherited = map(int, subprocess.run([sys.executable, "-c", code], capture_output=True,
                                             text=True, check=True).stdout.split())
    assert own < 300
    if sys.platform == "linux":
        assert inherited >= 600  # the premise: ru_maxrss alone would call this worker large
    del held
