"""The deployment report's data: one JSON-ready dict for one or several .tflite files.

`build_report(paths, npu=..., clock_mhz=..., planner=...)` reads each file, takes its memory
accounting from `rnnedge.arena_report` (per-op params, weight bytes, MACs, live bytes per
planner, arenas, TFLM tail estimate: the same numbers `rnnedge arena` prints), adds the
input shapes, and, with `npu`, compiles the file with Vela (`rnnedge.export.vela_check`) and
attributes Vela's per-layer cycles and placement to each operator through Vela's own
operator-index mapping. Totals: flash, RAM, MACs, NPU cycles and the inference time they
mean at the clock; for a zoo export (its `rnnedge_model` metadata) the paper's Table 3/4/6
figures. Schema in docs/report.md.

May import: os, rnnedge.errors, rnnedge.tflite, rnnedge.arena_report, rnnedge.provenance,
rnnedge.zoo.paper_tables, rnnedge.export.vela_check.
"""

import os

from rnnedge import provenance
from rnnedge.arena_report import arena_report
from rnnedge.errors import RnnedgeError
from rnnedge.export.vela_check import compile_for_npu
from rnnedge.tflite import read_model
from rnnedge.zoo.paper_tables import STATED_MEMORY

SCHEMA = "rnnedge.report/1"
MAX_CLOCK_MHZ = 10000.0
REMOVED_REASON = "not in Vela's output (folded or merged away)"
TIME_CONVENTION = ("Vela's estimated cycles for the NPU part divided by the clock; operators "
                   "Vela leaves to the CPU are not estimated (their count is given)")


def _shapes(sg, indices):
    """Shapes of the non-constant tensors among `indices` (activations, not weights)."""
    return [list(sg.tensors[t].shape) for t in indices
            if t >= 0 and not sg.tensors[t].is_constant]


def _placement(op, sg, rows, reasons, total_cycles):
    """Where Vela runs operator `op`: target, reason (CPU), Vela's ops, cycles, share."""
    if not rows:
        target, reason = "removed", REMOVED_REASON
    else:
        targets = sorted({r["target"] for r in rows})
        target = targets[0] if len(targets) == 1 else "+".join(targets)
        reason = None
        if "CPU" in targets:
            names = [sg.tensors[t].name for t in op.outputs] + [r["name"] for r in rows]
            reason = next((reasons[n] for n in names if n in reasons), "Vela gave no reason")
    cycles = sum(r["cycles"] for r in rows)
    return {"target": target, "reason": reason, "vela_ops": [r["vela_op"] for r in rows],
            "vela_fused": [r["fused"] for r in rows],
            "cycles": cycles, "npu_cycles": sum(r["npu_cycles"] for r in rows),
            "vela_macs": sum(r["macs"] for r in rows),
            "share": cycles / total_cycles if total_cycles else 0.0}


def _npu_totals(vela, placements, clock_mhz):
    summary = vela["summary"]
    clock_hz = clock_mhz * 1e6 if clock_mhz else float(summary["core_clock"])
    cycles = int(summary["cycles_total"])
    counts = {"NPU": 0, "CPU": 0, "removed": 0}
    for p in placements:
        counts[p["target"]] = counts.get(p["target"], 0) + 1
    return {
        "accelerator": vela["accelerator"], "system_config": vela["system_config"],
        "memory_mode": vela["memory_mode"], "config_file": vela["config_file"],
        "vela_ops": {"npu": vela["npu_ops"], "cpu": vela["cpu_ops"]}, "tflite_ops": counts,
        "cycles": cycles, "npu_cycles": int(summary["cycles_npu"]),
        "clock_mhz": clock_hz / 1e6, "vela_clock_mhz": float(summary["core_clock"]) / 1e6,
        "time_ms": 1e3 * cycles / clock_hz, "time_convention": TIME_CONVENTION,
        "sram_bytes": round(float(summary["sram_memory_used"]) * 1024),
        "off_chip_bytes": round(1024 * sum(float(summary.get(k) or 0) for k in (
            "dram_memory_used", "on_chip_flash_memory_used", "off_chip_flash_memory_used"))),
        "flash": vela["flash"],
        "unattributed_cycles": cycles - sum(p["cycles"] for p in placements),
    }


def npu_placement(model, vela, clock_mhz=None):
    """(placement per operator, totals) of `model` from a `compile_for_npu` result."""
    sg = model.main
    by_op = {}
    for row in vela["layers"]:
        by_op.setdefault(row["op_index"], []).append(row)
    total = int(vela["summary"]["cycles_total"])
    placements = [_placement(op, sg, by_op.get(op.index, []), vela["cpu_reasons"], total)
                  for op in sg.operators]
    return placements, _npu_totals(vela, placements, clock_mhz)


def npu_split(path, npu, system_config=None, memory_mode=None, clock_mhz=None) -> dict:
    """The NPU/CPU split of one .tflite (what `export --npu` prints): the totals of
    `model_report`'s "npu" plus the operators left to the CPU, with Vela's reasons."""
    model = read_model(path)
    placements, totals = npu_placement(model, compile_for_npu(path, npu, system_config,
                                                              memory_mode), clock_mhz)
    totals["cpu_operators"] = [{"index": op.index, "op": op.opcode, "reason": p["reason"]}
                               for op, p in zip(model.main.operators, placements)
                               if "CPU" in p["target"]]
    return totals


def _paper(model, arena, weight_bytes, params, planner):
    """The paper's figures beside the measured ones, for a zoo export."""
    origin = provenance.decode(model)
    if origin is None or origin["zoo_name"] not in STATED_MEMORY:
        return None
    stated = STATED_MEMORY[origin["zoo_name"]]
    return {"zoo_name": origin["zoo_name"], "config": origin["config"], **stated,
            "measured": {"params": params, "arena": arena[planner], "planner": planner,
                         "total_memory": weight_bytes + arena[planner]}}


def model_report(path, npu=None, planner="best", clock_mhz=None, system_config=None,
                 memory_mode=None) -> dict:
    """The report of one .tflite (one entry of `build_report`'s `models`)."""
    if not os.path.isfile(path):
        raise RnnedgeError(f"no such model file: {path}")
    model = read_model(path)
    sg = model.main
    memory = arena_report(model, path, planner)
    placements, totals = [None] * len(sg.operators), None
    if npu:
        placements, totals = npu_placement(
            model, compile_for_npu(path, npu, system_config, memory_mode), clock_mhz)
    ops = []
    for op, entry, placement in zip(sg.operators, memory["ops"], placements):
        layer = {"index": op.index, "op": op.opcode, "name": sg.tensors[op.outputs[0]].name
                 if op.outputs else "",
                 "input_shapes": _shapes(sg, op.inputs), "output_shapes": _shapes(sg, op.outputs),
                 "params": entry["params"],
                 "weight_bytes": sum(entry["weight_bytes"].values()),
                 "weight_bytes_by_dtype": entry["weight_bytes"], "macs": entry["macs"],
                 "live_bytes": entry["live_bytes"]}
        if placement is not None:
            layer["npu"] = placement
        ops.append(layer)
    arena = memory["arena"]
    report = {
        "model": path, "name": os.path.splitext(os.path.basename(path))[0],
        "flags": memory["flags"], "planner": planner, "ops": ops,
        "params": memory["params"]["count"],
        "macs": memory["macs"], "macs_complete": memory["macs_complete"],
        "mac_convention": memory["mac_convention"],
        "flash": {"weights": memory["weight_bytes"], "file_bytes": os.path.getsize(path)},
        "ram": {"arena": {k: v for k, v in arena.items() if k != "lower_bound"},
                "lower_bound": arena["lower_bound"],
                "tflm_tail_estimate": memory["tail_estimate"],
                "tail_convention": memory["tail_convention"]},
        "total_memory": memory["total_memory"],
        "timeline": {"live": memory["live"], "placement": memory["placement"]},
        "paper": _paper(model, arena, memory["weight_bytes"], memory["params"]["count"],
                        planner),
    }
    if totals:
        report["npu"] = totals
        report["flash"]["npu"] = totals["flash"]["total"]
        report["ram"]["vela_sram"] = report["npu"]["sram_bytes"]
    return report


def build_report(paths, npu=None, planner="best", clock_mhz=None, system_config=None,
                 memory_mode=None, progress=None) -> dict:
    """{"schema", "npu", "planner", "clock_mhz", "models": [model_report, ...]};
    `progress(path)` is called after each file."""
    if not paths:
        raise RnnedgeError("give at least one .tflite file")
    if clock_mhz is not None and not 0 < clock_mhz <= MAX_CLOCK_MHZ:
        raise RnnedgeError(f"--clock-mhz must be in (0, {MAX_CLOCK_MHZ:g}], got {clock_mhz}")
    models = []
    for path in paths:
        models.append(model_report(path, npu, planner, clock_mhz, system_config, memory_mode))
        if progress:
            progress(path)
    return {"schema": SCHEMA, "npu": npu, "planner": planner, "clock_mhz": clock_mhz,
            "models": models}
