"""Benchmark `rnnedge export` on the zoo, and against the standard route.

    python benchmarks/export.py [--models NAME ...] [--no-standard | --side-by-side-only]
                                [--no-npu] [--layout inplace|stacked|pairs]
                                [--recurrent-step conv|fc] [--out DIR]

Part 1, every zoo model (or --models): rnnedge's int8 export in a fresh child process each,
with wall time and peak RSS of that child, op count, recurrent ops per time step, weight
duplication factor, .tflite size, int8-vs-float agreement, TFLM runs (bit-exact with the
reference kernels) and Vela's CPU/NPU op split for ethos-u55-128.

Part 2, side by side for (A) cifar-resnet18-rnn and (B) one SWS-BiRNN detection head
(57x60x80 input, 65/65 hidden): the standard route (the model as written, recurrence
unrolled in a Python loop = the layers' reference form, exported with torch.onnx, converted by
onnx2tf 1.29.24 with -oiqt, full-integer model) against rnnedge's export of the same weights.
onnx2tf pins tensorflow 2.19 / numpy 1.26, so it runs from its own venv under
~/.cache/rnnedge-bench/onnx2tf-venv (created on first use, torch not installed there: it is
fed the ONNX file). If that venv cannot be set up, the standard route's figures are taken from
/work/shared/baseline.md and marked "from baseline.md". That route (the onnx2tf venv, the
conversion and the measurement of its .tflite) is benchmarks/onnx2tf_route.py.

Part 3, the NPU comparison (issue 21): every CRNN beside its CNN twin (same parameter
budget: Table 6 / Table 1 / Table 2), compiled by Vela for ethos-u55-128, -u55-256, -u65-256
and -u85-256 with each one's default system config: ops, NPU passes, estimated cycles and
time, SRAM, CPU ops, and the CRNN's recurrent head (Vela --verbose-performance, every NPU
operation from the first TRANSPOSE, the row pass's H<->W swap, on) cycles by operation.
Then TFLM's head + tail of each CRNN and its twin (measured by tflite-micro) against the
issue's 1.1x target, with the floors of an unrolled recurrence on TFLM. `--layout
stacked|pairs` exports the CRNNs with another SWS-BiRNN layout (rnnedge.layers.static),
`--recurrent-step fc` with per-tensor FULLY_CONNECTED steps (rnnedge.export.fc_steps; a
model without a recurrence exports as it does without it); the comparison itself is
benchmarks/npu_compare.py.

Every figure is measured by a tool independent of the exporter: graph_stats reads the
flatbuffer, agreement uses TFLite's reference kernels, TFLM and Vela run as they ship.
Prints markdown tables (and writes them to DIR/export_benchmark.md, the reports to
DIR/export_benchmark.json).
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

from onnx2tf_route import (BASELINE, case_key, ensure_venv, measure_standard, run_child,
                           run_onnx2tf)

HEAD_SHAPE = (57, 60, 80)
NORM = {"mean": [0.5], "std": [0.25]}
CHECK_SAMPLES = {"default": 100, "det": 4, "head": 8}


def _peak_rss_mb():
    """This process's peak resident set size in MB."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _build(case, layout="inplace"):
    """(model, meta) for a zoo name or the detection head "head", SWS-BiRNNs in `layout`."""
    import torch
    from rnnedge.layers import set_layout
    torch.manual_seed(0)
    if case == "head":
        from rnnedge.layers import SWSBiRNN
        return (SWSBiRNN(57, 65, 65, layout=layout).eval(),
                {"input_shape": list(HEAD_SHAPE), "normalization": NORM})
    from rnnedge import zoo
    return set_layout(zoo.build(case).eval(), layout), {"input_shape": list(zoo.get(case).input_shape),
                                                        "normalization": NORM}


def _checks(case):
    """Check-set size for a case."""
    if case == "head":
        return CHECK_SAMPLES["head"]
    return CHECK_SAMPLES["det"] if case.startswith("det") else CHECK_SAMPLES["default"]


def child_rnnedge(case, out_dir, layout="inplace", recurrent_step="conv"):
    """Child: rnnedge export of one case; prints one JSON object (Vela for every config in
    `vela_check.ACCELERATORS`, per-layer cycles for the first)."""
    from rnnedge.export.pipeline import export_int8
    from rnnedge.export.vela_check import ACCELERATOR, ACCELERATORS, vela_summary
    model, meta = _build(case, layout)
    path = os.path.join(out_dir, f"{case}.tflite")
    start = time.perf_counter()
    report = export_int8(model, meta, path, check_samples=_checks(case),
                         recurrent_step=recurrent_step)
    report["wall_s"] = time.perf_counter() - start
    report["vela_all"] = {acc: vela_summary(path, acc, per_layer=(acc == ACCELERATOR))
                          for acc in ACCELERATORS}
    report["vela"] = report["vela_all"][ACCELERATOR]
    report["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(report))


def child_standard_onnx(case, out_dir):
    """Child: the model as written (reference form, Python-loop recurrence) -> ONNX with
    torch.onnx, plus the float outputs and calibration/check inputs for the venv side."""
    import warnings
    import onnx
    import torch
    from rnnedge.export import calibration, verify
    model, meta = _build(case)
    shape = tuple(meta["input_shape"])
    path = os.path.join(out_dir, f"{case}_standard.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, *shape),), path, dynamo=False,
                          opset_version=17, input_names=["input"])
    norm = (meta["normalization"]["mean"], meta["normalization"]["std"])
    calib = np.concatenate(calibration.calibration_inputs("synthetic", 64, shape, norm))
    check = calibration.check_inputs("synthetic", _checks(case), shape, norm)
    np.save(os.path.join(out_dir, f"{case}_calib_nhwc.npy"), calib.transpose(0, 2, 3, 1))
    reference = verify.torch_outputs(model, check)
    np.savez(os.path.join(out_dir, f"{case}_check.npz"), inputs=np.concatenate(check),
             **{f"ref_{i}": np.concatenate([r[i] for r in reference])
                for i in range(len(reference[0]))})
    print(json.dumps({"onnx_nodes": len(onnx.load(path).graph.node), "onnx": path}))


def _child(kind, *args):
    """Run this script as a child process in `kind` mode."""
    return run_child([sys.executable, os.path.abspath(__file__), "--child", kind, *args])


def _json_or_error(rc, out, err, what):
    """The child's JSON report, or {"error": ...} when it failed."""
    if rc != 0:
        last = (err.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"{what} failed: {last}"}
    return json.loads(out.strip().splitlines()[-1])


def zoo_table(names, out_dir, layout="inplace", recurrent_step="conv"):
    """Markdown table of rnnedge exports of `names`, and the reports."""
    rows = ["| model | export s | child wall s | peak RSS MB | ops | ops/step | dup. factor | .tflite KB "
            "| argmax agree (ties) | max abs diff | TFLM runs | Vela CPU / NPU ops |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    reports = {}
    for name in names:
        rc, out, err, wall = _child("rnnedge", name, out_dir, layout, recurrent_step)
        r = _json_or_error(rc, out, err, f"export of {name}")
        reports[name] = r
        if "error" in r:
            rows.append(f"| {name} | - | {wall:.1f} | - | - | - | - | - | - | - | - | {r['error']} |")
            continue
        s, v = r["stats"], r["verification"]
        rows.append(
            f"| {name} | {r['timings']['export_s']:.1f} | {wall:.1f} | {r['peak_rss_mb']:.0f} | "
            f"{s['ops']} | "
            f"{s['ops_per_step'] if s['ops_per_step'] is not None else '-'} | "
            f"{s['duplication_factor']:.2f} | {s['size_bytes'] / 1024:.0f} | "
            f"{100 * v['argmax_agreement']:.1f}% ({100 * v['argmax_agreement_ties']:.1f}%) | "
            f"{v['max_abs_diff']:.3g} | {_tflm(v)} | "
            f"{r['vela']['cpu_ops']} / {r['vela']['npu_ops']} |")
    return "\n".join(rows), reports


def _tflm(v):
    """'yes (bit-exact)', 'yes (<= n LSB vs reference kernels)' or 'no (why)'."""
    if not v["tflm_runs"]:
        return f"no ({v['tflm_error']})"
    if v["tflm_matches_reference"]:
        return "yes (bit-exact)"
    return f"yes (<= {v['tflm_max_lsb_diff']} LSB vs reference kernels)"


def _top_ops(counts, n=6):
    """The n most frequent ops as "KIND count, ..."."""
    return ", ".join(f"{k} {v}" for k, v in list(counts.items())[:n])


def side_by_side(case, label, out_dir, python, ours):
    """Markdown table: standard route vs rnnedge for one case."""
    rc, out, err, _ = _child("standard-onnx", case, out_dir)
    std = _json_or_error(rc, out, err, "torch.onnx export of the reference form")
    source = "measured here"
    if python and "error" not in std:
        channels = HEAD_SHAPE[0] if case == "head" else 3
        tflite, wall, peak, last = run_onnx2tf(python, case, out_dir, channels)
        if tflite:
            m = measure_standard(case, out_dir, tflite)
            a = m["agreement"]
            std.update({
                "ops": m["stats"]["ops"], "op_list": _top_ops(m["stats"]["op_counts"]),
                "ops_per_step": m["stats"]["ops_per_step"], "convert_s": wall,
                "peak_rss_mb": peak, "size_kb": m["stats"]["size_bytes"] / 1024,
                "duplication_factor": m["stats"]["duplication_factor"],
                "tflm_runs": _tflm(m["tflm"]),
                "vela_cpu_ops": m["vela"].get("cpu_ops", m["vela"].get("error")),
                "vela_npu_ops": m["vela"].get("npu_ops", "-"),
                "agreement": (f"{100 * a['argmax_agreement']:.1f}%, max |diff| {a['max_abs_diff']:.3g}"
                              if "error" not in a else a["error"]),
                "max_concat": m["stats"]["max_concat_inputs"]})
            if "float_agreement" in m:
                f = m["float_agreement"]
                std["float_tflite"] = (f"{100 * f['argmax_agreement']:.1f}%, max |diff| "
                                       f"{f['max_abs_diff']:.3g}")
        else:
            std = dict(BASELINE[case_key(case)], onnx2tf_error=last)
            source = "from baseline.md (onnx2tf failed here: " + last[:120] + ")"
    else:
        std = dict(BASELINE[case_key(case)])
        source = "from baseline.md (onnx2tf venv unavailable)"
    s, v = ours["stats"], ours["verification"]
    rnnedge_col = {
        "onnx_nodes": ours.get("onnx_nodes", "-"), "ops": s["ops"], "op_list": _top_ops(s["op_counts"]),
        "ops_per_step": s["ops_per_step"], "convert_s": ours["timings"]["export_s"],
        "peak_rss_mb": ours["peak_rss_mb"], "size_kb": s["size_bytes"] / 1024,
        "duplication_factor": s["duplication_factor"],
        "tflm_runs": _tflm(v),
        "vela_cpu_ops": ours["vela"]["cpu_ops"], "vela_npu_ops": ours["vela"]["npu_ops"],
        "agreement": f"{100 * v['argmax_agreement']:.1f}%, max |diff| {v['max_abs_diff']:.3g}",
        "max_concat": s["max_concat_inputs"]}
    fields = [("ONNX nodes", "onnx_nodes"), ("int8 ops", "ops"), ("top ops", "op_list"),
              ("ops per recurrent step", "ops_per_step"), ("max CONCATENATION inputs", "max_concat"),
              ("conversion wall s", "convert_s"), ("peak RSS MB", "peak_rss_mb"),
              (".tflite KB", "size_kb"), ("duplication factor", "duplication_factor"),
              ("TFLM", "tflm_runs"), ("Vela CPU ops", "vela_cpu_ops"), ("Vela NPU ops", "vela_npu_ops"),
              ("int8 vs float PyTorch", "agreement"),
              ("converter's float32 .tflite vs PyTorch", "float_tflite")]
    rows = [f"**{label}** (standard route: {source})", "",
            "| | standard route (torch.onnx + onnx2tf) | rnnedge export |", "|---|---|---|"]
    for title, key in fields:
        rows.append(f"| {title} | {_fmt(std.get(key, '-'))} | {_fmt(rnnedge_col.get(key, '-'))} |")
    return "\n".join(rows)


def _fmt(value):
    """A table cell."""
    if isinstance(value, float):
        return f"{value:.3g}" if value < 100 else f"{value:.0f}"
    return str(value)


def main(argv=None):
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="zoo names (default: all)")
    parser.add_argument("--no-standard", action="store_true", help="skip the side-by-side part")
    parser.add_argument("--side-by-side-only", action="store_true", help="skip the zoo table")
    parser.add_argument("--no-npu", action="store_true", help="skip the NPU comparison part")
    from rnnedge.layers import LAYOUTS
    parser.add_argument("--layout", default=LAYOUTS[0], choices=LAYOUTS,
                        help="SWS-BiRNN layout of the exported CRNNs")
    from rnnedge.export.fc_steps import RECURRENT_STEPS
    parser.add_argument("--recurrent-step", default=RECURRENT_STEPS[0], choices=RECURRENT_STEPS,
                        help="op of the CRNNs' recurrent 1x1 convolutions")
    parser.add_argument("--out", default=None, help="folder for models and the report")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, case, out_dir, *rest = args.child
        {"rnnedge": child_rnnedge, "standard-onnx": child_standard_onnx}[kind](case, out_dir, *rest)
        return
    from rnnedge import zoo
    out_dir = os.path.abspath(args.out or tempfile.mkdtemp(prefix="rnnedge-bench-"))
    os.makedirs(out_dir, exist_ok=True)
    parts, reports = [], {}
    if not args.side_by_side_only:
        table, reports = zoo_table(args.models or zoo.names(), out_dir, args.layout,
                                   args.recurrent_step)
        parts = ["## rnnedge export, per zoo model", "", table]
        if not args.no_npu:
            from npu_compare import npu_table
            parts += ["", f"## The NPU comparison (Vela, SWS-BiRNN layout {args.layout}, "
                      f"recurrent step {args.recurrent_step})", "",
                      npu_table(reports)]
    if not args.no_standard:
        python = ensure_venv()
        rc, out, err, _ = _child("rnnedge", "head", out_dir)
        head = _json_or_error(rc, out, err, "export of the detection head")
        cifar = reports.get("cifar-resnet18-rnn")
        if cifar is None or "error" in cifar:
            rc, out, err, _ = _child("rnnedge", "cifar-resnet18-rnn", out_dir)
            cifar = _json_or_error(rc, out, err, "export of cifar-resnet18-rnn")
        parts += ["", "## Standard route vs rnnedge", ""]
        for case, label, ours in (("cifar-resnet18-rnn", "A: cifar-resnet18-rnn (1x3x32x32)", cifar),
                                  ("head", "B: one SWS-BiRNN detection head (57x60x80, 65/65)", head)):
            if "error" in ours:
                parts += [f"**{label}**: rnnedge export failed: {ours['error']}", ""]
                continue
            parts += [side_by_side(case, label, out_dir, python, ours), ""]
    text = "\n".join(parts)
    print(text)
    from rnnedge.files import atomic_write
    atomic_write(os.path.join(out_dir, "export_benchmark.md"), text + "\n")
    atomic_write(os.path.join(out_dir, "export_benchmark.json"), json.dumps(reports))


if __name__ == "__main__":
    main()
