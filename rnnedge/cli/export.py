"""`rnnedge export`: a checkpoint, an ONNX file, a PyTorch factory or a fresh zoo model ->
fully int8 .tflite.

    rnnedge export model.onnx --int8 [-o out.tflite] [--calib inputs.npy|inputs.npz]
                   [--input-shape 1,3,96,96[;...]] [--calibration minmax|percentile|mse]
    rnnedge export --module net.py:factory [--weights sd.pt] --input-shape 1,3,96,96 --int8
    rnnedge export model.pt --int8 [-o model.tflite] [--calib DIR|synthetic]
                   [--calib-samples N] [--check-samples N] [--keep-onnx] [--json]
                   [--trust-pickle] [--input-shape C,H,W] [--rnn-layout inplace|stacked|pairs]
                   [--lstm unrolled|fused] [--recurrent-step conv|fc] [--npu NAME]
    rnnedge export --zoo NAME --int8 [...]

Parses arguments, loads the model (rnnedge.checkpoint; an ONNX file or factory goes to
rnnedge.export.user_model, and `--module` imports the user's file, running their code by their
explicit choice), calls rnnedge.export.pipeline and
prints the verification block (or one JSON object with --json). `--npu NAME` then compiles
the written file with Vela (rnnedge.report.npu_split) and prints its NPU/CPU split. `--trust-pickle` is UNSAFE:
it unpickles the file, which runs any code the file contains; use it only for files you made.
"""

import json
import os

import click
import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.export.fc_steps import RECURRENT_STEPS
from rnnedge.export.lowerers_recurrent import LSTM_FORMS
from rnnedge.export.vela_check import ACCELERATORS, require_vela
from rnnedge.layers import LAYOUTS, set_layout
from rnnedge.sensor import FORMATS

ZOO_SEED = 0


def _load(checkpoint, zoo_name, trust_pickle, input_shape, input_format=None):
    """(model, meta, output stem) from a checkpoint file or a zoo name (built for
    `input_format`; a checkpoint keeps the format it was trained for)."""
    if (checkpoint is None) == (zoo_name is None):
        raise RnnedgeError("give a checkpoint file or --zoo NAME (not both)")
    if zoo_name is not None:
        import torch
        from rnnedge import zoo
        torch.manual_seed(ZOO_SEED)  # fresh weights, but the same ones on every run
        fmt = input_format or "rgb"
        model = zoo.build(zoo_name, input_format=fmt)
        default_shape = zoo.input_shape(zoo_name, fmt)
        if input_shape and input_shape[0] != default_shape[0]:
            raise RnnedgeError(f"--input-shape {','.join(map(str, input_shape))}: {zoo_name} "
                               f"takes {default_shape[0]} input channels")
        meta = {"input_shape": list(input_shape or default_shape),
                "normalization": {"mean": [0.5], "std": [0.25]},
                "zoo_name": zoo_name, "config": {} if fmt == "rgb" else {"input_format": fmt}}
        return model, meta, zoo_name
    from rnnedge.checkpoint import load
    model, meta = load(checkpoint, trust_pickle=trust_pickle)
    trained = (meta.get("config") or {}).get("input_format", "rgb")
    if input_format and input_format != trained:
        raise RnnedgeError(f"--input-format {input_format}: {checkpoint} was trained for "
                           f"{trained} input (train it with --input-format {input_format})")
    if input_shape:
        meta["input_shape"] = list(input_shape)
    return model, meta, os.path.splitext(os.path.basename(checkpoint))[0]


def _shape(ctx, param, value):
    """click callback: "C,H,W" (a checkpoint or zoo model) or, for an ONNX file or a
    factory, one full shape per input separated by ';' ("1,3,96,96;1,10") -> list of tuples."""
    if value is None:
        return None
    from rnnedge.checkpoint import MAX_INPUT_ELEMENTS, MAX_SIDE
    shapes = []
    for part in value.split(";"):
        try:
            dims = tuple(int(v) for v in part.split(","))
        except ValueError:
            raise click.BadParameter("expected comma-separated integers, e.g. 3,32,32") from None
        if min(dims) < 1 or max(dims) > MAX_SIDE or int(np.prod(dims)) > MAX_INPUT_ELEMENTS:
            raise click.BadParameter(f"expected positive integers (each at most {MAX_SIDE}, "
                                     f"{MAX_INPUT_ELEMENTS:,} values in all)")
        shapes.append(dims)
    return shapes


def _chw(input_shape):
    """The single C,H,W shape a checkpoint or zoo model takes from --input-shape."""
    if input_shape is None:
        return None
    if len(input_shape) != 1 or len(input_shape[0]) != 3:
        raise RnnedgeError("--input-shape: expected three positive integers C,H,W for a "
                           "checkpoint or zoo model")
    return input_shape[0]


def _print_block(report):
    """The human-readable verification block."""
    v, s = report["verification"], report["stats"]
    lines = [
        f"wrote {report['output']} ({s['size_bytes']:,} bytes, {s['ops']} ops)",
        "  ops: " + ", ".join(f"{k} {n}" for k, n in s["op_counts"].items()),
        f"  recurrent ops per time step: {s['ops_per_step'] if s['ops_per_step'] is not None else '-'}"
        f"; weight duplication factor {s['duplication_factor']:.2f}",
        f"  MACs: graph {s['graph_macs']:,} (RNN layers {s['rnn_graph_macs']:,}; "
        f"paper eq. 18 x2: {s['paper_rnn_macs']:,})",
        "verification:",
        f"  onnxruntime vs PyTorch: max |diff| {v['ort_vs_torch_max_abs_diff']:.3g}",
        f"  int8 (reference kernels) vs float PyTorch on {v['check_samples']} check inputs: "
        + (f"argmax agreement {100 * v['argmax_agreement']:.1f}%"
           f" ({100 * v['argmax_agreement_ties']:.1f}% counting int8 ties)," if "argmax_agreement" in v
           else "(a detector's raw prediction maps: `rnnedge check` compares its boxes by AP)"),
        f"    cosine similarity {v['cosine']:.4f}, max |diff| {v['max_abs_diff']:.4g}, "
        f"mean |diff| {v['mean_abs_diff']:.4g}",
    ]
    if "tflm_runs" in v:
        if not v["tflm_runs"] or v["tflm_max_lsb_diff"] is None:
            detail = v["tflm_error"]
        elif v["tflm_matches_reference"]:
            detail = "bit-exact with the reference kernels"
        else:
            detail = f"within {v['tflm_max_lsb_diff']} LSB of the reference kernels"
        lines.append(f"  tflite-micro runs it: {'yes' if v['tflm_runs'] else 'no'} ({detail})")
    if s["problems"]:
        lines.append("  problems: " + "; ".join(s["problems"]))
    if s.get("vela_cpu_builtins"):
        lines.append("  Vela cannot place " + ", ".join(s["vela_cpu_builtins"])
                     + " on the NPU (CPU ops; --npu NAME compiles and reports the split)")
    inp = report["input"]
    lines.append(f"  input: {inp['format']} int8 NHWC {inp['shape_nhwc']}, scale {inp['scale']:.6g}, zero point "
                 f"{inp['zero_point']}; normalise with mean {inp['normalization']['mean']} "
                 f"std {inp['normalization']['std']}")
    click.echo("\n".join(lines))


@click.command("export", epilog="--module imports and runs YOUR Python file (its top level and "
               "the factory): only point it at code you trust. An ONNX file or a .npz is read "
               "without running code; --weights loads with torch.load(weights_only=True).")
@click.argument("checkpoint", required=False, type=click.Path(dir_okay=False))
@click.option("--module", "factory", metavar="FILE.py:FACTORY",
              help="Export the nn.Module FACTORY() returns (needs --input-shape). This IMPORTS "
                   "AND RUNS the file: your explicit choice.")
@click.option("--weights", type=click.Path(dir_okay=False),
              help="state_dict for --module, loaded with torch.load(weights_only=True).")
@click.option("--zoo", "zoo_name", metavar="NAME",
              help="Export a freshly initialised zoo model (weights from seed 0).")
@click.option("--int8", "int8", is_flag=True,
              help="Fully integer TFLite (int8 in/out, int8 weights, int32 biases).")
@click.option("--int16x8", "int16x8", is_flag=True,
              help="TFLite's 16x8 mode instead (int16 activations and in/out, int8 weights, "
                   "int64 biases; TFLM's int16 kernels), for models whose int8 drop is too "
                   "large. ONNX files and --module only.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output .tflite path.")
@click.option("--calib", default=None, metavar="DIR|synthetic|FILE.npy|FILE.npz",
              help="Calibration data: a dataset folder or the synthetic set (checkpoints; "
                   "default synthetic), or for an ONNX file / --module a .npy (samples of the "
                   "one input stacked on axis 0) or .npz (one array per input name) whose "
                   "last fifth is held apart as the check set.")
@click.option("--calibration", "calibration_method", default=None,
              type=click.Choice(["minmax", "percentile", "mse"]),
              help="How each tensor's int8 range is chosen from the calibration run "
                   "[default: percentile for an ONNX file or --module (measured best, "
                   "docs/export.md), minmax for checkpoints and the zoo].")
@click.option("--calib-samples", default=64, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--check-samples", default=100, show_default=True, type=click.IntRange(1, 100_000),
              help="Size of the calibration-independent check set.")
@click.option("--keep-onnx", is_flag=True, help="Also write the ONNX file next to the .tflite.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--trust-pickle", is_flag=True,
              help="UNSAFE: allow a whole pickled nn.Module; unpickling runs code from the file.")
@click.option("--input-shape", callback=_shape, metavar="C,H,W | N,...[;N,...]",
              help="C,H,W for a checkpoint or zoo model (a pickled module that records none, or "
                   "another H,W); for an ONNX file or --module the full shape of each input, "
                   "batch included, ';' between inputs (fixes dynamic dimensions).")
@click.option("--rnn-layout", type=click.Choice(LAYOUTS), default=LAYOUTS[0], show_default=True,
              help="Static layout of the (S)WS-BiRNN layers: inplace (runs in place), stacked "
                   "(fewest ops) or pairs (no copy per step: fewest Vela cycles); "
                   "docs/export.md.")
@click.option("--lstm", type=click.Choice(LSTM_FORMS), default=LSTM_FORMS[0],
              show_default=True,
              help="nn.LSTM layers (ONNX LSTM nodes): unrolled into builtins with weights once "
                   "(NPU-placeable) or TFLM's UNIDIRECTIONAL_SEQUENCE_LSTM, one op a direction "
                   "(int16 cell; runs on the CPU); docs/export.md.")
@click.option("--recurrent-step", type=click.Choice(RECURRENT_STEPS), default=RECURRENT_STEPS[0],
              show_default=True,
              help="The unrolled recurrence's 1x1 convolutions (W_hh steps, W_ih projections): "
                   "CONV_2D (per-channel) or per-tensor FULLY_CONNECTED (no per-channel arrays "
                   "in TFLM's persistent tail; NPU-placeable); docs/export.md.")
@click.option("--npu", type=click.Choice(list(ACCELERATORS)),
              help="Compile the result with Vela for this Ethos-U and print the NPU/CPU split.")
@click.option("--input-format", type=click.Choice(FORMATS),
              help="Camera format of a --zoo model's input (a checkpoint keeps the one it was "
                   "trained for): gray or a Bayer mosaic is 1 channel, demosaic folded into "
                   "conv 1 [default: rgb].")
def export(checkpoint, factory, weights, zoo_name, int8, int16x8, output, calib,
           calibration_method, calib_samples, check_samples, keep_onnx, as_json, trust_pickle,
           input_shape, rnn_layout, lstm, recurrent_step, npu, input_format):
    """Export a checkpoint, an ONNX file, a PyTorch factory (--module) or --zoo NAME to a
    fully int8 .tflite and verify it."""
    if int8 == int16x8:
        raise RnnedgeError("give --int8 or --int16x8 (one of them)")
    if npu:
        require_vela()  # before the export, so a missing Vela costs nothing
    if factory is not None or (checkpoint or "").lower().endswith(".onnx"):
        if input_format is not None:
            raise RnnedgeError("--input-format applies to zoo models and checkpoints; an ONNX "
                               "file or --module takes the input shape it declares")
        report = _export_user_model(checkpoint, factory, weights, zoo_name, output, calib,
                                    calibration_method, calib_samples, check_samples,
                                    keep_onnx, input_shape, int16x8, lstm, recurrent_step)
        output = report["output"]
    else:
        if weights is not None:
            raise RnnedgeError("--weights goes with --module")
        if int16x8:
            raise RnnedgeError("--int16x8 takes an ONNX file or --module; checkpoints and the "
                               "zoo export int8")
        from rnnedge.export.pipeline import export_int8
        model, meta, stem = _load(checkpoint, zoo_name, trust_pickle, _chw(input_shape),
                                  input_format)
        set_layout(model, rnn_layout)
        output = output or f"{stem}.tflite"
        report = export_int8(model, meta, output, calib=calib or "synthetic",
                             calib_samples=calib_samples, check_samples=check_samples,
                             keep_onnx=keep_onnx, lstm=lstm,
                             calibration_method=calibration_method or "minmax",
                             recurrent_step=recurrent_step)
    if npu:
        from rnnedge.report import npu_split
        report["npu"] = npu_split(output, npu)
    if as_json:
        click.echo(json.dumps(report))
        return
    (_print_user_block if "inputs" in report else _print_block)(report)
    if npu:
        _print_npu(report["npu"])


def _export_user_model(path, factory, weights, zoo_name, output, calib, method, calib_samples,
                       check_samples, keep_onnx, input_shape, int16x8, lstm="unrolled",
                       recurrent_step="conv"):
    """The report of exporting an ONNX file or a --module factory (rnnedge.export.user_model)."""
    from rnnedge.export import user_model
    if (path is None) == (factory is None) or zoo_name is not None:
        raise RnnedgeError("give one model: an ONNX file, --module FILE.py:FACTORY or --zoo NAME")
    if weights is not None and factory is None:
        raise RnnedgeError("--weights goes with --module")
    if calib is not None and not calib.lower().endswith((".npy", ".npz")):
        raise RnnedgeError(f"--calib {calib}: an ONNX file or --module calibrates from a .npy "
                           "or .npz of input samples")
    options = dict(calib=calib, calib_samples=calib_samples, check_samples=check_samples,
                   calibration_method=method, keep_onnx=keep_onnx, int16x8=int16x8, lstm=lstm,
                   recurrent_step=recurrent_step)
    if factory is not None:
        if input_shape is None:
            raise RnnedgeError("--module needs --input-shape (e.g. --input-shape 1,3,96,96)")
        net = user_model.load_factory(factory, weights)
        stem = os.path.splitext(os.path.basename(factory.rpartition(":")[0]))[0]
        return user_model.export_module(net, input_shape, output or f"{stem}.tflite", **options)
    stem = os.path.splitext(os.path.basename(path))[0]
    return user_model.export_onnx_file(path, output or f"{stem}.tflite", input_shape, **options)


def _print_user_block(report):
    """The human-readable block of an ONNX / --module export."""
    v, s = report["verification"], report["stats"]
    lines = [f"wrote {report['output']} ({s['size_bytes']:,} bytes, {s['ops']} ops)",
             "  ops: " + ", ".join(f"{k} {n}" for k, n in s["op_counts"].items()),
             f"  MACs: {s['graph_macs']:,}; weight duplication factor "
             f"{s['duplication_factor']:.2f}",
             f"calibration: {report['calibration']['samples']} samples from "
             f"{report['calibration']['source']}, {report['calibration']['method']} ranges",
             f"verification on {v['check_samples']} check samples"
             + ("" if v.get("tflite_kernels", "BUILTIN_REF") == "BUILTIN_REF"
                else f" (TFLite's {v['tflite_kernels']} kernels: its reference SUM is wrong)")
             + ":"]
    if "ort_vs_torch_max_abs_diff" in v:
        lines.append(f"  onnxruntime vs PyTorch: max |diff| {v['ort_vs_torch_max_abs_diff']:.3g}")
    for k, o in enumerate(v["outputs"]):
        lines.append(f"  output {k}: int8 vs float cosine {o['cosine']:.4f}, max |diff| "
                     f"{o['max_abs_diff']:.4g}, argmax agreement "
                     f"{100 * o['argmax_agreement']:.1f}%")
    if "tflm_runs" in v:
        detail = (v["tflm_error"] if not v["tflm_runs"] or v["tflm_max_lsb_diff"] is None
                  else "bit-exact with the reference kernels" if v["tflm_matches_reference"]
                  else f"within {v['tflm_max_lsb_diff']} LSB of the reference kernels")
        lines.append(f"  tflite-micro runs it: {'yes' if v['tflm_runs'] else 'no'} ({detail})")
    if s["problems"]:
        lines.append("  problems: " + "; ".join(s["problems"]))
    if s.get("vela_cpu_builtins"):
        lines.append("  Vela cannot place " + ", ".join(s["vela_cpu_builtins"])
                     + " on the NPU (CPU ops; --npu NAME compiles and reports the split)")
    for p in report["inputs"]:
        lines.append(f"  input {p['name']}: {p['dtype']} {p['shape']}, scale {p['scale']:.6g}, zero "
                     f"point {p['zero_point']} (4-D inputs are NHWC)")
    click.echo("\n".join(lines))


def _print_npu(split):
    """The NPU/CPU split block of `export --npu`."""
    ops = split["tflite_ops"]
    lines = [f"Vela, {split['accelerator']} ({split['system_config']}, {split['memory_mode']}):",
             f"  {ops['NPU']} operators on the NPU, {ops['CPU']} on the CPU, {ops['removed']} "
             f"removed by Vela (Vela counts {split['vela_ops']['npu']} NPU / "
             f"{split['vela_ops']['cpu']} CPU operators)",
             f"  {split['cycles']:,} cycles = {split['time_ms']:.3f} ms at "
             f"{split['clock_mhz']:g} MHz; SRAM {split['sram_bytes']:,} B; flash "
             f"{split['flash']['total']:,} B"]
    lines += [f"  CPU: op {c['index']} {c['op']}: {c['reason']}" for c in split["cpu_operators"]]
    click.echo("\n".join(lines))
