"""Run tflite-micro on a model in a child process and report what it allocated.

TFLM can crash the whole process (SIGSEGV) on a too-small arena or a malformed model, and it
prints its allocation summary (`print_allocations()`) on the C-level stderr, so every call
here runs a fresh Python child (`python -m rnnedge.tflm_probe`) and parses that child's
stderr. `measure_tflm(path)` gives TFLM's arena head (the planned, non-persistent bytes),
tail (persistent bytes) and the per-type records; `run_tflm(path, inputs)` returns the
outputs of one invocation. `tflm_arena_size(model)` is the one arena size rnnedge gives TFLM
to run a model (the export's check, the `tflm` backend); the arena never exceeds
rnnedge.budget.default_max_arena(). Imports numpy, rnnedge.budget, rnnedge.errors,
rnnedge.op_table and rnnedge.planner (sizing); the child imports tflite_micro.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

from rnnedge.budget import check_bytes, default_max_arena
from rnnedge.errors import RnnedgeError

DEFAULT_ARENA = 16 << 20  # generous: TFLM only needs head + tail of it
TFLM_MARGIN = 1 << 20  # bytes added to the planned TFLM arena (head + tail estimate)
MAX_ARENA = 1 << 30  # an automatic arena grows x4 from DEFAULT_ARENA up to this
_TOTAL = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")
_RECORD = re.compile(r"'([^']+)' used (\d+) bytes with alignment overhead "
                     r"\(requested (\d+) bytes for (\d+) ")


def parse_allocations(text: str) -> dict:
    """Parse RecordingMicroAllocator's print-out into {"total", "head", "tail", "records":
    {name: {"used", "requested", "count"}}}; raises RnnedgeError when it is missing."""
    out = {k: int(v) for k, v in _TOTAL.findall(text)}
    if not {"total", "head", "tail"} <= out.keys():
        raise RnnedgeError("tflite-micro printed no allocation summary: "
                           + (text.strip().splitlines() or ["(no output)"])[-1][:200])
    out["records"] = {name: {"used": int(u), "requested": int(r), "count": int(c)}
                      for name, u, r, c in _RECORD.findall(text)}
    return out


def tflm_arena_size(model) -> int:
    """Arena bytes to give tflite-micro for `model` (rnnedge.tflite Model): rnnedge's `tflm`
    plan (TFLM's own planner, exactly) plus twice the persistent-tail estimate plus
    TFLM_MARGIN."""
    from rnnedge.op_table import tail_estimate
    from rnnedge.planner import plan

    return plan(model, "tflm").arena + 2 * tail_estimate(model) + TFLM_MARGIN


def _run_child(args: list, timeout: float):
    try:
        proc = subprocess.run([sys.executable, "-m", "rnnedge.tflm_probe", *args],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RnnedgeError(f"tflite-micro did not finish within {timeout:.0f} s") from None
    if proc.returncode < 0:
        raise RnnedgeError(f"tflite-micro crashed on this model (signal {-proc.returncode}); "
                           "the arena may be too small or the model malformed or unsupported")
    return proc


def _run_sized(args: list, arena_size, timeout: float, what: str):
    """Run the child with `arena_size` bytes, or (None) with DEFAULT_ARENA growing x4 up to
    MAX_ARENA while TFLM reports that the arena is too small; returns (process, size)."""
    limit = default_max_arena()
    if arena_size is not None:
        check_bytes("the tflite-micro arena", arena_size, limit)
    size = min(DEFAULT_ARENA, limit) if arena_size is None else arena_size
    while True:
        proc = _run_child([args[0], args[1], str(size), *args[2:]], timeout)
        if proc.returncode == 0:
            return proc, size
        text = proc.stderr + proc.stdout
        if arena_size is not None or size >= min(MAX_ARENA, limit) or "allocate" not in text:
            raise RnnedgeError(f"tflite-micro {what}: {_last_line(text)}")
        size = min(size * 4, MAX_ARENA, limit)


def measure_tflm(path, arena_size: int | None = None, invoke: bool = False,
                 timeout: float = 300) -> dict:
    """TFLM's allocation of model `path`: {"head", "tail", "total", "records",
    "arena_size"}. The arena is `arena_size` bytes, or grows automatically when None;
    `invoke` runs one inference (zero input) first, so kernels' lazily-allocated memory
    is counted too."""
    proc, size = _run_sized(["measure", os.fspath(path), str(int(invoke))], arena_size,
                            timeout, "could not load the model")
    result = parse_allocations(proc.stderr)
    result["arena_size"] = size
    return result


def run_tflm(path, inputs: list, arena_size: int | None = None, timeout: float = 300) -> list:
    """Invoke TFLM once on model `path` with `inputs` (numpy arrays, one per graph input)
    and return the outputs as numpy arrays (arena as in measure_tflm)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, *inputs)
        _run_sized(["run", os.fspath(path), src, dst], arena_size, timeout,
                   "failed to run the model")
        with np.load(dst) as data:
            return [data[f"arr_{i}"] for i in range(len(data.files))]


def _last_line(text: str) -> str:
    """TFLM's own first complaint plus the final error line, on one line."""
    lines = [ln.strip() for ln in text.strip().splitlines()
             if ln.strip() and not ln.startswith((" ", "Traceback", "\t"))]
    if not lines:
        return "(no output)"
    picked = lines[:1] + lines[-1:] if lines[0] != lines[-1] else lines[:1]
    return "; ".join(picked)[:300]


def _child(argv: list):
    """Entry point of the child process (see module docstring)."""
    from tflite_micro import runtime

    mode, path, arena = argv[0], argv[1], int(argv[2])
    interpreter = runtime.Interpreter.from_file(path, arena_size=arena)
    if mode == "measure":
        if argv[3] == "1":
            _invoke(interpreter, None)
        sys.stdout.flush()
        interpreter.print_allocations()
    else:
        with np.load(argv[3]) as data:
            inputs = [data[f"arr_{i}"] for i in range(len(data.files))]
        outputs = _invoke(interpreter, inputs)
        np.savez(argv[4], *outputs)
    print(json.dumps({"ok": True}))


def _invoke(interpreter, inputs):
    details = interpreter.get_input_details
    n_inputs = 0
    while True:
        try:
            detail = details(n_inputs)
        except (IndexError, RuntimeError, ValueError):
            break
        x = (np.zeros(detail["shape"], detail["dtype"]) if inputs is None
             else np.asarray(inputs[n_inputs], detail["dtype"]).reshape(detail["shape"]))
        interpreter.set_input(x, n_inputs)
        n_inputs += 1
        if inputs is not None and n_inputs == len(inputs):
            break
    interpreter.invoke()
    outputs = []
    while True:
        try:
            outputs.append(np.array(interpreter.get_output(len(outputs))))
        except (IndexError, RuntimeError, ValueError):
            return outputs


if __name__ == "__main__":
    _child(sys.argv[1:])
