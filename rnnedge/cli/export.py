"""`rnnedge export`: a checkpoint (or a fresh zoo model) -> fully int8 .tflite.

    rnnedge export model.pt --int8 [-o model.tflite] [--calib DIR|synthetic]
                   [--calib-samples N] [--check-samples N] [--keep-onnx] [--json]
                   [--trust-pickle] [--input-shape C,H,W] [--rnn-layout inplace|stacked]
                   [--npu NAME]
    rnnedge export --zoo NAME --int8 [...]

Parses arguments, loads the model (rnnedge.checkpoint), calls rnnedge.export.pipeline and
prints the verification block (or one JSON object with --json). `--npu NAME` then compiles
the written file with Vela (rnnedge.report.npu_split) and prints its NPU/CPU split. `--trust-pickle` is UNSAFE:
it unpickles the file, which runs any code the file contains; use it only for files you made.
"""

import json
import os

import click

from rnnedge.errors import RnnedgeError
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
    """click callback: "C,H,W" -> (C, H, W)."""
    if value is None:
        return None
    from rnnedge.checkpoint import MAX_INPUT_ELEMENTS, MAX_SIDE
    try:
        dims = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("expected C,H,W, e.g. 3,32,32") from None
    if len(dims) != 3 or min(dims) < 1 or max(dims) > MAX_SIDE or dims[0] * dims[1] * dims[2] > MAX_INPUT_ELEMENTS:
        raise click.BadParameter(f"expected three positive integers C,H,W (each at most "
                                 f"{MAX_SIDE}, {MAX_INPUT_ELEMENTS:,} values in all)")
    return dims


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
        f"argmax agreement {100 * v['argmax_agreement']:.1f}%",
        f"    ({100 * v['argmax_agreement_ties']:.1f}% counting int8 ties), max |diff| "
        f"{v['max_abs_diff']:.4g}, mean |diff| {v['mean_abs_diff']:.4g}",
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
    inp = report["input"]
    lines.append(f"  input: {inp['format']} int8 NHWC {inp['shape_nhwc']}, scale {inp['scale']:.6g}, zero point "
                 f"{inp['zero_point']}; normalise with mean {inp['normalization']['mean']} "
                 f"std {inp['normalization']['std']}")
    click.echo("\n".join(lines))


@click.command("export")
@click.argument("checkpoint", required=False, type=click.Path(dir_okay=False))
@click.option("--zoo", "zoo_name", metavar="NAME",
              help="Export a freshly initialised zoo model (weights from seed 0).")
@click.option("--int8", "int8", is_flag=True, required=True,
              help="Fully integer TFLite (int8 in/out, int8 weights, int32 biases). Required.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output .tflite path.")
@click.option("--calib", default="synthetic", show_default=True, metavar="DIR|synthetic",
              help="Calibration data: a dataset folder or the deterministic synthetic set.")
@click.option("--calib-samples", default=64, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--check-samples", default=100, show_default=True, type=click.IntRange(1, 100_000),
              help="Size of the calibration-independent check set.")
@click.option("--keep-onnx", is_flag=True, help="Also write the ONNX file next to the .tflite.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--trust-pickle", is_flag=True,
              help="UNSAFE: allow a whole pickled nn.Module; unpickling runs code from the file.")
@click.option("--input-shape", callback=_shape, metavar="C,H,W",
              help="Input shape (C,H,W): for a pickled module that does not record one, or "
                   "another H,W for a zoo model or checkpoint.")
@click.option("--rnn-layout", type=click.Choice(LAYOUTS), default=LAYOUTS[0], show_default=True,
              help="Static layout of the (S)WS-BiRNN layers: inplace (fewest Vela cycles, runs "
                   "in place) or stacked (fewest ops); docs/export.md.")
@click.option("--npu", type=click.Choice(list(ACCELERATORS)),
              help="Compile the result with Vela for this Ethos-U and print the NPU/CPU split.")
@click.option("--input-format", type=click.Choice(FORMATS),
              help="Camera format of a --zoo model's input (a checkpoint keeps the one it was "
                   "trained for): gray or a Bayer mosaic is 1 channel, demosaic folded into "
                   "conv 1 [default: rgb].")
def export(checkpoint, zoo_name, int8, output, calib, calib_samples, check_samples, keep_onnx,
           as_json, trust_pickle, input_shape, rnn_layout, npu, input_format):
    """Export a checkpoint (or --zoo NAME) to a fully int8 .tflite and verify it."""
    from rnnedge.export.pipeline import export_int8
    if npu:
        require_vela()  # before the export, so a missing Vela costs nothing
    model, meta, stem = _load(checkpoint, zoo_name, trust_pickle, input_shape, input_format)
    set_layout(model, rnn_layout)
    output = output or f"{stem}.tflite"
    report = export_int8(model, meta, output, calib=calib, calib_samples=calib_samples,
                         check_samples=check_samples, keep_onnx=keep_onnx)
    if npu:
        from rnnedge.report import npu_split
        report["npu"] = npu_split(output, npu)
    if as_json:
        click.echo(json.dumps(report))
        return
    _print_block(report)
    if npu:
        _print_npu(report["npu"])


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
