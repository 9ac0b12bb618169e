"""`rnnedge run`: run an int8 .tflite on one or a batch of inputs with a chosen backend;
several inputs (one .npy each, or one .npz keyed by input name) and outputs (one .npz).

Parses arguments, calls rnnedge.firmware_sim.backends, and prints or saves the raw outputs.
Holds no model logic.
"""

import json
import os
import sys

import click
import numpy as np

from rnnedge.budget import DATA_BYTES, check_bytes
from rnnedge.cli.options import max_arena_option, max_recompute_option
from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_output
from rnnedge.kernels.build import KERNEL_SETS
from rnnedge.planner import PLANNERS
from rnnedge.sensor import FORMATS


def load_input(path: str) -> np.ndarray:
    """The array stored in `path` (.npy, no pickles); its header is read first and an array
    larger than the file or than rnnedge.budget.DATA_BYTES is refused before allocation."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            readers = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}
            if version not in readers:
                raise ValueError(f"unsupported .npy version {version}")
            shape, _, dtype = readers[version](f, max_header_size=1 << 16)
            if dtype.hasobject or dtype.kind not in "biuf":
                raise ValueError(f"dtype {dtype} is not numeric")
            nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            available = os.fstat(f.fileno()).st_size - f.tell()
            if nbytes > available:
                raise ValueError(f"its header declares {nbytes:,} bytes of data but the file "
                                 f"holds {available:,}")
            check_bytes(f"input {path}", nbytes, DATA_BYTES, "the input size limit")
            f.seek(0)
            return np.load(f, allow_pickle=False)
    except (OSError, ValueError, EOFError, SyntaxError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise RnnedgeError(f"cannot read input {path}: {detail}") from None


def load_inputs(paths: tuple, names: list) -> list:
    """One array per graph input (`names`, in the model's order): several .npy files in that
    order, or one .npz keyed by input name (or arr_0, arr_1, ... in order); no pickles."""
    if len(paths) == 1 and paths[0].endswith(".npz"):
        return _load_npz(paths[0], names)
    if any(p.endswith(".npz") for p in paths):
        raise RnnedgeError("give either one .npz holding every input or one .npy per input")
    if len(paths) != len(names):
        raise RnnedgeError(f"the model takes {len(names)} inputs ({', '.join(names)}), got "
                           f"{len(paths)} --input files; give one .npy per input in this "
                           "order, or one .npz keyed by input name")
    return [load_input(p) for p in paths]


def _load_npz(path: str, names: list) -> list:
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.files)
            positional = [f"arr_{i}" for i in range(len(names))]
            if sorted(keys) == sorted(names):
                order = names
            elif sorted(keys) == positional:
                order = positional
            else:
                raise RnnedgeError(f"{path} holds {sorted(keys)}; the model's inputs are "
                                   f"{names} (or arr_0..arr_{len(names) - 1} in that order)")
            for key in order:
                header = data.zip.getinfo(key + ".npy").file_size
                check_bytes(f"input {path}[{key}]", header, DATA_BYTES, "the input size limit")
            arrays = [data[k] for k in order]
    except (OSError, ValueError, EOFError, KeyError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise RnnedgeError(f"cannot read inputs {path}: {detail}") from None
    for key, a in zip(order, arrays):
        if a.dtype.hasobject or a.dtype.kind not in "biuf":
            raise RnnedgeError(f"input {path}[{key}]: dtype {a.dtype} is not numeric")
    return arrays


def save_outputs(path: str, outputs: list, names: list | None = None) -> None:
    """Save one output as .npy, several as one .npz keyed by output tensor name (arr_0,
    arr_1, ... when names repeat), atomically."""
    if len(outputs) > 1 and not path.endswith(".npz"):
        raise RnnedgeError(f"the model has {len(outputs)} outputs: give an --output ending "
                           "in .npz")
    names = names or []
    keys = names if len(set(names)) == len(outputs) == len(names) else [
        f"arr_{i}" for i in range(len(outputs))]
    with atomic_output(path, suffix=os.path.splitext(path)[1]) as tmp:
        with open(tmp, "wb") as f:
            if len(outputs) == 1 and not path.endswith(".npz"):
                np.save(f, outputs[0])
            else:
                np.savez(f, **dict(zip(keys, outputs)))


@click.command("run")
@click.argument("model_path", type=click.Path(dir_okay=False))
@click.option("--input", "input_paths", multiple=True, type=click.Path(dir_okay=False),
              help="x.npy: one input of the model's shape, or N stacked on the first axis; "
              "repeat once per input for a multi-input model (model order), or give one .npz "
              "keyed by input name.")
@click.option("--frame", "frame_path", type=click.Path(dir_okay=False),
              help="Instead of --input: one raw camera frame (.npy uint8 or 8-bit PGM; the "
                   "Bayer mosaic as the sensor reads it out), converted to the int8 input as "
                   "the firmware's sensor input does.")
@click.option("--input-format", type=click.Choice(FORMATS),
              help="With --frame: assert the model's camera format.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False),
              help="Save the outputs here (.npy; .npz keyed by output name for several) "
              "instead of printing.")
@click.option("--backend", type=click.Choice(["c", "tflite", "tflm"]), default="c",
              show_default=True, help="c: rnnedge's C kernels in one static arena; tflite: "
              "TFLite reference kernels; tflm: tflite-micro.")
@click.option("--planner", type=click.Choice(PLANNERS), default="best", show_default=True,
              help="Arena layout for the c backend.")
@click.option("--kernels", type=click.Choice(KERNEL_SETS), default=KERNEL_SETS[0],
              show_default=True, help="c backend: the optimised C kernels (same bytes, "
              "faster) or the readable reference ones.")
@click.option("--stream-input", is_flag=True, help="c backend, --planner fused: pull the "
              "graph input row by row from outside the arena.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--debug", is_flag=True, help="c backend: poison dead tensors and check guard "
              "bytes and live tensors after every op.")
@max_arena_option
@max_recompute_option
def run(model_path, input_paths, frame_path, input_format, output_path, backend, planner,
        kernels, stream_input, as_json, debug, max_arena, max_recompute):
    """Run MODEL_PATH on the inputs in --input and print or save the raw outputs."""
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.firmware_sim.compiler import load_model

    if not os.path.isfile(model_path):
        raise RnnedgeError(f"model file {model_path} does not exist")
    if debug and backend != "c":
        raise RnnedgeError("--debug applies to the c backend only")
    model = load_model(model_path)
    sg = model.main
    if bool(input_paths) == (frame_path is not None):
        raise RnnedgeError("give --input x.npy or --frame RAW (one of them)")
    if stream_input and (backend != "c" or planner != "fused"):
        raise RnnedgeError("--stream-input needs --backend c --planner fused")
    if max_recompute and (backend != "c" or planner != "fused"):
        raise RnnedgeError("--max-recompute needs --backend c --planner fused")
    if frame_path is not None:
        from rnnedge.firmware_sim.sensor_input import frame_file_input
        inputs = [frame_file_input(model_path, frame_path, input_format)]
    else:
        inputs = load_inputs(tuple(input_paths), [sg.tensors[t].name for t in sg.inputs])
    runner = make_backend(backend, model_path, planner=planner, debug=debug,
                          max_arena=max_arena, kernels=kernels, stream_input=stream_input,
                          max_recompute=max_recompute)
    outputs = runner(*inputs)
    if output_path:
        save_outputs(output_path, outputs, [sg.tensors[t].name for t in sg.outputs])
    runtime = getattr(runner, "runtime", None)
    if as_json:
        report = {"model": model_path, "backend": backend, "samples": int(outputs[0].shape[0]),
                  "outputs": [{"dtype": str(o.dtype), "shape": list(o.shape),
                               **({"file": output_path} if output_path else
                                  {"values": o.tolist()})} for o in outputs]}
        if runtime is not None:
            report.update(planner=planner, kernels=kernels, arena_bytes=runtime.program.arena,
                          row_scratch_bytes=runtime.program.scratch,
                          variable_bytes=runtime.program.variable_bytes,
                          flash_bytes=runtime.program.flash_bytes, debug=debug,
                          steps=runtime.counters())
        click.echo(json.dumps(report))
        return
    if output_path:
        click.echo(f"saved {len(outputs)} output(s) of {outputs[0].shape[0]} sample(s) to "
                   f"{output_path}")
        return
    for i, o in enumerate(outputs):
        click.echo(f"output {i}: {o.dtype} {list(o.shape)}")
        click.echo(np.array2string(o, threshold=sys.maxsize, max_line_width=100))
