"""Mutation fuzzing of rnnedge's model-handling stages and of its command line.

A case is (seed model, case number): `mutate(seed_bytes, case)` derives a mutated .tflite
deterministically, so any finding is reproducible from two numbers. Mutations favour the
flatbuffer's structure over its weight bytes (offsets, dimensions, strides, quantisation
parameters, opcode indices): an int32 set to a boundary value, a float32 set to 0, NaN, inf
or an extreme, bit flips, a copied span, a truncation.

Two harnesses, both counting outcomes in OUTCOMES:
  `run_stages(cases)`  reader -> planners -> compiler -> C run -> code generation, in a worker
                       process (with `sanitize=True` on the ASan + UBSan kernel build); a worker
                       that dies is restarted, its case counted as signal / sanitizer / timeout.
  `run_cli(cases)`     the real `rnnedge` commands in subprocesses: exit 0, or exit 2 with
                       one `error:` line and nothing left at the output path, is good.
A good outcome is "ok" or "error" (a clean one-line refusal); everything else is a bug.
`tests/test_hostile_fuzz.py` runs a few hundred cases; `benchmarks/fuzz.py` runs long ones.

May import: numpy, the standard library, rnnedge (every stage, in the worker) and
rnnedge.kernels.build (the sanitizer environment).
"""

import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

OUTCOMES = ("ok", "error", "traceback", "signal", "sanitizer", "timeout", "memory", "leftover")
GOOD = ("ok", "error")
MEMORY_LIMIT = 1536 << 20  # the 1.5 GB every command must stay under
INT_VALUES = (0, 1, -1, 2, 3, 7, 127, 128, 255, 256, 65535, 1 << 16, 1 << 20, 1 << 24,
              1 << 30, 2**31 - 1, -2**31, -2, -128)
FLOAT_VALUES = (0.0, -0.0, -1.0, 1e-30, 1e30, float("nan"), float("inf"), -float("inf"),
                3.4e38, 1e-45)
SEED_MODELS = ("unet", "ds_cnn", "resnet8", "mobilenet_v1_025")


def seed_models(names=SEED_MODELS) -> dict:
    """{name: .tflite bytes} of the seed models (rnnedge.tinyml_models, built once, cached)."""
    from rnnedge import tinyml_models

    return {name: tinyml_models.tflite_bytes(name) for name in names}


def _data_spans(data: bytes) -> list:
    """(start, end) of the buffers' payloads (weights), which mutations mostly avoid."""
    from rnnedge.tflite import read_model

    try:
        model = read_model(data)
    except Exception:  # noqa: BLE001 - a seed that does not parse has no known spans
        return []
    return [(b.file_offset, b.file_offset + b.size) for b in model.buffers if b.size]


def mutate(data: bytes, case: int, spans=None) -> bytes:
    """The mutated model of case number `case` (1..4 mutations, deterministic)."""
    rng = np.random.default_rng([0x5EED, case])
    spans = _data_spans(data) if spans is None else spans
    out = bytearray(data)

    def position(width):
        for _ in range(20):
            at = int(rng.integers(0, max(1, len(out) - width))) & ~3
            if rng.random() < 0.1 or not any(s <= at < e for s, e in spans):
                return at
        return at

    for _ in range(int(rng.integers(1, 5))):
        kind = rng.random()
        if kind < 0.45:
            at = position(4)
            struct.pack_into("<i", out, at, int(INT_VALUES[rng.integers(len(INT_VALUES))]))
        elif kind < 0.6:
            at = position(4)
            struct.pack_into("<f", out, at, float(FLOAT_VALUES[rng.integers(len(FLOAT_VALUES))]))
        elif kind < 0.85:
            at = position(1)
            out[at] ^= 1 << int(rng.integers(0, 8))
        elif kind < 0.95:
            size = int(rng.integers(4, 64))
            src, dst = position(size), position(size)
            out[dst:dst + size] = out[src:src + size]
        else:
            out = out[:int(rng.integers(8, len(out)))]
    return bytes(out[:len(out)])


# -- in-process stages (run in the worker) ------------------------------------------------
def run_model_stages(data: bytes, directory: str) -> str:
    """Reader, every planner, the compiler, one C run and code generation on one model;
    "ok" or "error" (RnnedgeError). Any other exception propagates: it is a finding."""
    from rnnedge.errors import RnnedgeError
    from rnnedge.firmware_sim import codegen
    from rnnedge.firmware_sim.compiler import compile_model
    from rnnedge.firmware_sim.runtime import Runtime
    from rnnedge.planner import PLANNERS, plan
    from rnnedge.tflite import read_model

    try:
        model = read_model(data)
        for name in PLANNERS:
            plan(model, name)
        program = compile_model(model, "inplace")
        runtime = Runtime(program, debug=True)
        inputs = [np.zeros(p.shape, p.dtype) for p in program.inputs]
        runtime.invoke(*inputs)
        codegen.write_firmware(program, os.path.join(directory, "fw"))
    except RnnedgeError:
        return "error"
    finally:
        shutil.rmtree(os.path.join(directory, "fw"), ignore_errors=True)
    return "ok"


def _own_peak_rss() -> int:
    """Peak resident bytes of this process's own memory image: Linux's VmHWM. (ru_maxrss
    is not that: Linux carries into it the image of the process that started this one, up
    to its exec, so a worker started by a large test process would look large from its first
    case.) Elsewhere ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _worker():
    """Worker loop: read "seed case" lines, answer "case outcome detail" lines. The seed
    models come as files in folder argv[2] (TensorFlow, which builds them, cannot be
    imported with libasan preloaded)."""
    folder = sys.argv[2]
    seeds = {}
    for file in sorted(os.listdir(folder)):
        with open(os.path.join(folder, file), "rb") as f:
            seeds[file] = f.read()
    spans = {name: _data_spans(data) for name, data in seeds.items()}
    with tempfile.TemporaryDirectory() as tmp:
        for line in sys.stdin:
            name, case = line.split()
            data = mutate(seeds[name], int(case), spans[name])
            try:
                outcome, detail = run_model_stages(data, tmp), ""
            except MemoryError:
                outcome, detail = "memory", "MemoryError"
            except Exception as exc:  # noqa: BLE001 - classified, reported, not hidden
                outcome, detail = "traceback", f"{type(exc).__name__}: {str(exc)[:150]}"
            if _own_peak_rss() > MEMORY_LIMIT:
                outcome, detail = "memory", "worker exceeded the memory limit"
            print(json.dumps([case, outcome, detail]), flush=True)


class _Worker:
    """A worker process (see `_worker`) fed the seed models through `folder`."""

    def __init__(self, folder, sanitize):
        from rnnedge.kernels import build

        env = build.sanitizer_env() if sanitize else dict(os.environ)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-m", "rnnedge.fuzz", "worker",
                                      folder], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, env=env,
                                     text=True)

    def run(self, name, case, timeout):
        import selectors

        self.proc.stdin.write(f"{name} {case}\n")
        self.proc.stdin.flush()
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                self.close()
                return "timeout", f"no answer within {timeout} s"
        line = self.proc.stdout.readline()
        if line:
            _, outcome, detail = json.loads(line)
            return outcome, detail
        code = self.proc.wait()
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace")
        report = next((ln.strip() for ln in text.splitlines()
                       if "runtime error" in ln or "AddressSanitizer" in ln), None)
        self.close()
        if report:
            return "sanitizer", report[:200]
        return "signal", f"worker exited with {code}"

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_stages(cases, sanitize=True, timeout=60, names=SEED_MODELS, progress=None) -> dict:
    """Run (seed name, case) pairs through the stages in a worker; returns
    {"counts": {outcome: n}, "findings": [(seed, case, outcome, detail)]}."""
    counts, findings = dict.fromkeys(OUTCOMES, 0), []
    worker = None
    with tempfile.TemporaryDirectory() as folder:
        for name, data in seed_models(names).items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        for i, (name, case) in enumerate(cases):
            if worker is None or worker.proc.poll() is not None:
                worker = _Worker(folder, sanitize)
            outcome, detail = worker.run(name, case, timeout)
            counts[outcome] += 1
            if outcome not in GOOD:
                findings.append((name, case, outcome, detail))
            if progress:
                progress(i + 1)
        if worker is not None:
            worker.close()
    return {"counts": counts, "findings": findings}


# -- the command line ---------------------------------------------------------------------
CLI_COMMANDS = (
    ("arena", ["arena", "{model}", "--json"]),
    ("run-c", ["run", "{model}", "--input", "{input}", "--backend", "c", "--output", "{out}.npy"]),
    ("run-tflite", ["run", "{model}", "--input", "{input}", "--backend", "tflite",
                    "--output", "{out}.npy"]),
    ("run-tflm", ["run", "{model}", "--input", "{input}", "--backend", "tflm",
                  "--output", "{out}.npy"]),
    ("firmware", ["firmware", "{model}", "-o", "{out}", "--planner", "inplace"]),
    ("check", ["check", "{model}", "--data", "synthetic:n=4", "--backend", "c", "--json"]),
    ("check-tflite", ["check", "{model}", "--data", "synthetic:n=4", "--json"]),
)


def _input_for(data: bytes, path: str):
    """A zero input of the model's first graph input (or a tiny array when unreadable)."""
    from rnnedge.tflite import read_model

    try:
        sg = read_model(data).main
        t = sg.tensors[sg.inputs[0]]
        array = np.zeros(t.shape, t.dtype if t.dtype is not None else np.int8)
        if array.nbytes > 1 << 24:
            array = np.zeros(4, np.int8)
    except Exception:  # noqa: BLE001 - any input will do for a model that does not parse
        array = np.zeros((1, 4), np.int8)
    np.save(path, array)


def run_cli_case(command, data: bytes, timeout=120) -> tuple:
    """(outcome, detail) of one `rnnedge` command on model bytes `data`."""
    with tempfile.TemporaryDirectory() as tmp:
        model, x, out = (os.path.join(tmp, n) for n in ("m.tflite", "x.npy", "out"))
        with open(model, "wb") as f:
            f.write(data)
        _input_for(data, x)
        args = [a.format(model=model, input=x, out=out) for a in dict(CLI_COMMANDS)[command]]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        proc = subprocess.Popen([sys.executable, "-m", "rnnedge", *args], cwd=tmp,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return "timeout", f"{command}: no exit within {timeout} s"
        # the children's peak only rises: a rise past the limit belongs to this command
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        usage = after * 1024 if after > before else 0
        err = stderr.decode("utf-8", "replace").strip()
        lines = [ln for ln in err.splitlines() if ln.strip()]
        leftover = [n for n in os.listdir(tmp) if n.startswith("out")]
        if proc.returncode < 0:
            return "signal", f"{command}: signal {-proc.returncode}"
        if "Traceback" in err or "internal error" in err:
            return "traceback", f"{command}: {(lines or [''])[-1][:200]}"
        if usage > MEMORY_LIMIT:
            return "memory", f"{command}: max RSS {usage >> 20} MB"
        if proc.returncode == 0:
            return "ok", ""
        if proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "):
            if leftover:
                return "leftover", f"{command}: left {leftover} after failing"
            return "error", ""
        return "traceback", f"{command}: exit {proc.returncode}: {(lines or [''])[-1][:200]}"


def run_cli(cases, commands=None, timeout=120, names=SEED_MODELS, progress=None) -> dict:
    """Run (seed name, case) pairs through `commands` (default: all of CLI_COMMANDS, one
    per case in turn); same result shape as run_stages."""
    commands = commands or [c for c, _ in CLI_COMMANDS]
    seeds = seed_models(names)
    spans = {name: _data_spans(data) for name, data in seeds.items()}
    counts, findings = dict.fromkeys(OUTCOMES, 0), []
    for i, (name, case) in enumerate(cases):
        command = commands[i % len(commands)]
        outcome, detail = run_cli_case(command, mutate(seeds[name], case, spans[name]), timeout)
        counts[outcome] += 1
        if outcome not in GOOD:
            findings.append((name, case, outcome, detail))
        if progress:
            progress(i + 1)
    return {"counts": counts, "findings": findings}


def cases(count: int, start: int = 0, names=SEED_MODELS) -> list:
    """`count` (seed name, case) pairs, cycling through the seeds."""
    return [(names[i % len(names)], start + i) for i in range(count)]


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    _worker()
