"""Compile a .tflite with Arm Vela (the real tool, as a subprocess) and read back its results.

`compile_for_npu(path, accelerator)` runs the `vela` command line in a temporary folder with
`--verbose-performance` (the per-layer CSV) and `--enable-debug-db` (whose `source` table
maps each of Vela's operators back to the input file's operator index, `ext_key`, and whose
`group` table lists the operators fused into another one, e.g. a ReLU into its conv), and
returns one JSON-ready dict:

- `layers`: Vela's per-layer CSV rows, each with the TFLite operator index it came from and
  `fused` (not counted as an operator of its own in Vela's printed summary);
- `cpu_reasons`: {output tensor name: Vela's reason} from its "supported operators" warnings;
- `summary`: the fields of Vela's summary CSV (cycles, SRAM/flash use, core clock, ...);
- `npu_ops` / `cpu_ops`: the operator counts of Vela's printed network summary (as printed
  without `--show-cpu-operations`, which makes Vela count fused operators too);
- `flash`: command stream bytes, NPU weight bytes and the other constants of the compiled
  file (read with rnnedge.tflite).

Vela's configuration is explicit: the Arm config file, and for each accelerator the system
config and memory mode Vela itself picks by default (`ACCELERATORS`); both can be
overridden. `vela_summary` is the short form the tests and benchmarks use. Missing or
failing Vela gives one-line `RnnedgeError`s.

May import: csv, os, re, shutil, subprocess, tempfile, rnnedge.errors, rnnedge.tflite.
"""

import csv
import glob
import io
import os
import re
import shutil
import subprocess
import tempfile

from rnnedge.errors import RnnedgeError

CONFIG_FILE = "Arm/vela.ini"
#: accelerator -> (system config, memory mode): Vela 4.x/5.x's own defaults for each family.
ACCELERATORS = {
    "ethos-u55-128": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u55-256": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "ethos-u65-256": ("Ethos_U65_Client_Server", "Dedicated_Sram_384KB"),
    "ethos-u85-256": ("Ethos_U85_SYS_DRAM_Mid", "Dedicated_Sram_384KB"),
}
ACCELERATOR = "ethos-u55-128"
COMMAND_STREAM = "ethos_u_command_stream"
_COUNTS = {"cpu_ops": r"^CPU operators = (\d+)", "npu_ops": r"^NPU operators = (\d+)"}
_WARNING = re.compile(r"^Warning \(supported operators\) operator: (\S+), ofm: '(.*)'\n"
                      r"Reason: (.*)$", re.M)
_TABLE = re.compile(r'<table name="(\w+)">\s*<!\[CDATA\[(.*?)\]\]>', re.S)


def vela_cpu_builtins(opcodes, accelerator=ACCELERATOR):
    """The builtins among `opcodes` that Vela's TFLite operator set for `accelerator` lacks
    (Vela leaves every such op on the CPU; an op it supports may still fall back for its
    parameters, which `rnnedge export --npu` reports), sorted; None without Vela.

    The table is the one Vela 5 compiles with: its C++ core's (regor)
    `tflite_operator_constraints`, what `vela --supported-ops-report` prints. It names
    builtins without underscores (ARGMAX for ARG_MAX). The deprecated Python core's
    `TFLiteSupportedOperators` is not asked: it lacks ops regor places on the NPU (PADV2,
    SUM, REDUCE_MAX, ...).
    """
    try:
        from ethosu import regor
    except ImportError:
        return None
    family = "EthosU85" if accelerator.startswith("ethos-u85") else "EthosU55"
    supported = {name.replace("_", "") for name in regor.tflite_operator_constraints(family)}
    return sorted(name for name in set(opcodes) if name.replace("_", "") not in supported)


def require_vela():
    """Raise the one-line error when the `vela` command is not on PATH."""
    if shutil.which("vela") is None:
        raise RnnedgeError("vela is not installed (pip install ethos-u-vela)")


def _run_vela(args, timeout):
    require_vela()
    try:
        proc = subprocess.run(["vela", *args], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RnnedgeError(f"vela did not run: {exc}") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + "\n" + proc.stdout).strip().splitlines()
                 if ln.strip()] or ["(no output)"]
        raise RnnedgeError(f"vela failed (exit {proc.returncode}): {lines[-1][:300]}")
    return proc.stdout


def _one(folder, pattern, what):
    found = sorted(glob.glob(os.path.join(folder, pattern)))
    if len(found) != 1:
        raise RnnedgeError(f"vela wrote {len(found)} {what} files (expected 1)")
    return found[0]


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _debug_tables(path):
    """{table name: list of row dicts} of Vela's debug database XML."""
    with open(path) as f:
        text = f.read()
    return {name: list(csv.DictReader(io.StringIO(body.strip())))
            for name, body in _TABLE.findall(text)}


def _number(value):
    """A summary CSV field as int, float or (names) str."""
    for kind in (int, float):
        try:
            return kind(value)
        except (TypeError, ValueError):
            pass
    return value


def _layers(per_layer, tables):
    """Per-layer CSV rows with the TFLite operator index (debug db perf -> source ext_key)."""
    perf, source = tables.get("perf", []), tables.get("source", [])
    if len(perf) != len(per_layer):
        raise RnnedgeError(f"vela's debug database has {len(perf)} performance rows, its "
                           f"per-layer CSV {len(per_layer)}")
    ext_key = {row["id"]: int(row["ext_key"]) for row in source}
    fused = {row["id"] for row in tables.get("group", []) if row["id"] != row["group_id"]}
    layers = []
    for row, debug in zip(per_layer, perf):
        if debug["name"] != row["Name"] or debug["source_id"] not in ext_key:
            raise RnnedgeError(f"vela's debug database does not match its per-layer CSV at "
                               f"{row['Name'][:80]!r}")
        layers.append({"op_index": ext_key[debug["source_id"]],
                       "original_op": row["Original Operator"], "vela_op": row["NNG Operator"],
                       "target": row["Target"], "cycles": int(row["Op Cycles"]),
                       "npu_cycles": int(row["NPU"]), "macs": int(row["MAC Count"]),
                       "staging_bytes": int(row["Staging Usage"]), "name": row["Name"],
                       "fused": debug["id"] in fused})
    return layers


def _flash(compiled_path):
    """Bytes of the compiled file: Ethos-U command streams, NPU weights (the custom ops'
    read-only buffers) and the constants left to CPU operators."""
    from rnnedge.tflite import read_model

    sg = read_model(compiled_path).main
    seen, stream, npu_weights, cpu_constants = set(), 0, 0, 0
    for op in sg.operators:
        for slot, t in enumerate(op.inputs):
            tensor = sg.tensors[t] if t >= 0 else None
            if tensor is None or not tensor.is_constant or t in seen:
                continue
            seen.add(t)
            if op.opcode != "ethos-u":
                cpu_constants += tensor.nbytes
            elif tensor.name == COMMAND_STREAM or slot == 0:
                stream += tensor.nbytes
            else:
                npu_weights += tensor.nbytes
    return {"command_stream": stream, "npu_weights": npu_weights, "cpu_constants": cpu_constants,
            "total": stream + npu_weights + cpu_constants,
            "file_bytes": os.path.getsize(compiled_path)}


def compile_for_npu(tflite_path, accelerator=ACCELERATOR, system_config=None, memory_mode=None,
                    config_file=CONFIG_FILE, timeout=600) -> dict:
    """Compile `tflite_path` with Vela for `accelerator` and return its results (see module
    docstring)."""
    if accelerator not in ACCELERATORS:
        raise RnnedgeError(f"unknown NPU {accelerator!r}; choose one of "
                           f"{', '.join(ACCELERATORS)}")
    default_system, default_mode = ACCELERATORS[accelerator]
    system_config, memory_mode = system_config or default_system, memory_mode or default_mode
    with tempfile.TemporaryDirectory() as out:
        stdout = _run_vela([os.path.abspath(str(tflite_path)), "--output-dir", out,
                            "--accelerator-config", accelerator, "--config", config_file,
                            "--system-config", system_config, "--memory-mode", memory_mode,
                            "--verbose-performance", "--enable-debug-db"], timeout)
        counts = {}
        for key, pattern in _COUNTS.items():
            match = re.search(pattern, stdout, re.M)
            if match is None:
                raise RnnedgeError(f"vela printed no '{pattern[1:].split(' =')[0]}' summary line")
            counts[key] = int(match.group(1))
        summary_rows = _read_csv(_one(out, "*_summary_*.csv", "summary CSV"))
        if len(summary_rows) != 1:
            raise RnnedgeError(f"vela's summary CSV has {len(summary_rows)} rows (expected 1)")
        layers = _layers(_read_csv(_one(out, "*_per-layer.csv", "per-layer CSV")),
                         _debug_tables(_one(out, "*_debug.xml", "debug database")))
        flash = _flash(_one(out, "*_vela.tflite", "compiled .tflite"))
    reasons = {}
    for _, ofm, reason in _WARNING.findall(stdout):
        reasons.setdefault(ofm, reason.strip())
    return {"accelerator": accelerator, "system_config": system_config,
            "memory_mode": memory_mode, "config_file": config_file, **counts,
            "summary": {k: _number(v) for k, v in summary_rows[0].items()},
            "layers": layers, "cpu_reasons": reasons, "flash": flash}


def vela_summary(tflite_path, accelerator=ACCELERATOR, per_layer=False, timeout=600):
    """The short form the tests and benchmarks use: {"accelerator", "cpu_ops", "npu_ops",
    "sram_kib", "cycles", "inference_s", "npu_passes"} of `tflite_path` compiled for
    `accelerator`, and with `per_layer` "layers": one {"op", "npu_op", "cycles", "mac_count",
    "name"} per Vela operation in execution order."""
    result = compile_for_npu(tflite_path, accelerator, timeout=timeout)
    summary = result["summary"]
    found = {"accelerator": accelerator, "cpu_ops": result["cpu_ops"],
             "npu_ops": result["npu_ops"], "sram_kib": float(summary["sram_memory_used"]),
             "cycles": float(summary["cycles_total"]),
             "inference_s": float(summary["inference_time"]),
             "npu_passes": int(float(summary["passes_after_fusing"]))}
    if per_layer:
        found["layers"] = [{"op": layer["original_op"], "npu_op": layer["vela_op"],
                            "cycles": layer["cycles"], "mac_count": layer["macs"],
                            "name": layer["name"].strip()} for layer in result["layers"]]
    return found
