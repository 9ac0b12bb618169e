"""Export a model the user brings: an ONNX file (any exporter, opset 13-21) or a PyTorch
factory / nn.Module, with any number of inputs and outputs of any rank (images, (N, T, F)
sequences, vectors), to a fully int8 .tflite, verified on a held-apart check set.

Order: fix the input shapes (dynamic batch -> 1; other dynamic dims from --input-shape, or a
one-line error naming the input) -> calibration samples (a .npy/.npz file, its tail held
apart as the check set; deterministic synthetic inputs when none is given) -> the converter
(the one boundary) -> a temporary file beside the target -> verification (the int8 model on
TFLite's reference kernels vs the float model, onnxruntime for an ONNX file or PyTorch for a
module: cosine and max |diff| per output; TFLM runs it and gives the reference kernels'
bytes) -> os.replace into place -> graph statistics. Nothing is written when any step fails.

`load_factory` imports the user's Python file: that runs their code, by their explicit
choice (the CLI says so in --help). Weights load with torch.load(weights_only=True).

May import: numpy, onnx, onnxruntime, torch, rnnedge.errors, rnnedge.files, rnnedge.tflite,
rnnedge.preprocessing, rnnedge.tflm_probe, rnnedge.tflite, rnnedge.export.{calibration,
converter, graph_stats, verify}.
"""

import importlib.util
import io
import os
import time
import warnings

import numpy as np
import onnx

from rnnedge.errors import RnnedgeError
from rnnedge.export import calibration, graph_stats
from rnnedge.export.converter import to_int8_tflite
from rnnedge.files import atomic_output, atomic_write

OPSETS = (13, 21)
OPSET = 17           # what a module is exported with
DEFAULT_CALIBRATION = "percentile"   # measured best on user models (docs/export.md)
SYNTHETIC_SEEDS = {"calibration": 20240611, "check": 7_000_001}


def read_onnx(path):
    """The ONNX model at `path` (external data beside it is loaded too)."""
    if not os.path.isfile(path):
        raise RnnedgeError(f"{path} does not exist")
    try:
        model = onnx.load(path)
    except Exception as exc:  # protobuf raises its own DecodeError, onnx ValidationError
        raise RnnedgeError(f"{path} is not an ONNX model: {type(exc).__name__}") from None
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is None or not OPSETS[0] <= opset <= OPSETS[1]:
        raise RnnedgeError(f"{path} uses ONNX opset {opset}; rnnedge takes opsets "
                           f"{OPSETS[0]}-{OPSETS[1]} (re-export with opset_version={OPSET})")
    return model


def static_inputs(model, shapes=None):
    """(model with every graph input's shape fixed, [(name, shape)]). A dynamic first axis
    becomes 1; other dynamic axes take `shapes` (one per input, in order) or raise."""
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    consts = {t.name for t in fixed.graph.initializer}
    graph_inputs = [i for i in fixed.graph.input if i.name not in consts]
    if shapes is not None and len(shapes) != len(graph_inputs):
        raise RnnedgeError(f"--input-shape gives {len(shapes)} shapes but the model has "
                           f"{len(graph_inputs)} inputs ({', '.join(i.name for i in graph_inputs)})")
    result = []
    for k, inp in enumerate(graph_inputs):
        t = inp.type.tensor_type
        if t.elem_type != onnx.TensorProto.FLOAT:
            raise RnnedgeError(f"input {inp.name} is {onnx.TensorProto.DataType.Name(t.elem_type)}"
                               "; the int8 exporter takes float32 inputs")
        dims = list(t.shape.dim)
        wanted = shapes[k] if shapes is not None else None
        if wanted is not None and len(wanted) != len(dims) and dims:
            raise RnnedgeError(f"--input-shape {','.join(map(str, wanted))} has rank "
                               f"{len(wanted)} but input {inp.name} has rank {len(dims)}")
        if not dims and wanted is None:
            raise RnnedgeError(f"input {inp.name} has no shape; give it with --input-shape")
        shape = []
        for axis, d in enumerate(dims if dims else wanted):
            static = d if isinstance(d, int) else (d.dim_value if d.HasField("dim_value") else None)
            if wanted is not None:
                if static not in (None, wanted[axis]):
                    raise RnnedgeError(f"--input-shape {','.join(map(str, wanted))} conflicts "
                                       f"with input {inp.name}'s static shape")
                static = wanted[axis]
            elif static is None and axis == 0:
                static = 1
            elif static is None:
                name = d.dim_param or "?"
                raise RnnedgeError(f"input {inp.name} has a dynamic dimension '{name}' at axis "
                                   f"{axis}; fix it with --input-shape (e.g. --input-shape "
                                   "1,3,96,96)")
            shape.append(int(static))
        t.shape.Clear()
        for d in shape:
            t.shape.dim.add().dim_value = d
        result.append((inp.name, tuple(shape)))
    del fixed.graph.value_info[:]
    for out in fixed.graph.output:
        out.type.tensor_type.ClearField("shape")
    return fixed, result


def load_factory(spec, weights=None):
    """The nn.Module made by `path.py:factory` (this runs the user's file), with a state_dict
    from `weights` loaded by torch.load(weights_only=True)."""
    import torch
    path, sep, name = spec.rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise RnnedgeError(f"--module {spec}: expected path/to/file.py:factory")
    if not os.path.isfile(path):
        raise RnnedgeError(f"--module {spec}: {path} does not exist")
    module_spec = importlib.util.spec_from_file_location(f"rnnedge_user_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the user's file may raise anything
        raise RnnedgeError(f"--module {spec}: importing {path} failed: "
                           f"{type(exc).__name__}: {exc}") from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise RnnedgeError(f"--module {spec}: {path} has no callable {name}")
    try:
        net = factory()
    except Exception as exc:
        raise RnnedgeError(f"--module {spec}: {name}() failed: {type(exc).__name__}: {exc}") \
            from None
    if not isinstance(net, torch.nn.Module):
        raise RnnedgeError(f"--module {spec}: {name}() returned {type(net).__name__}, not an "
                           "nn.Module")
    if weights is not None:
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as exc:  # unpickling errors, missing files, wrong formats
            raise RnnedgeError(f"--weights {weights}: cannot load a state_dict "
                               f"({type(exc).__name__})") from None
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        try:
            net.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as exc:
            raise RnnedgeError(f"--weights {weights}: {str(exc).splitlines()[0]}") from None
    return net.eval()


def module_to_onnx(net, shapes):
    """torch.onnx.export of an nn.Module on zero inputs of `shapes` (batch included)."""
    import torch
    from rnnedge.layers import set_form
    import copy
    net = copy.deepcopy(net).eval()
    set_form(net, "static")
    examples = tuple(torch.zeros(s) for s in shapes)
    names = ["input"] if len(shapes) == 1 else [f"input_{i}" for i in range(len(shapes))]
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(net, examples, buffer, opset_version=OPSET, dynamo=False,
                              do_constant_folding=True, input_names=names)
    except Exception as exc:  # the exporter raises many types for models it cannot trace
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RnnedgeError(f"torch.onnx.export failed: {first}") from None
    return onnx.load_from_string(buffer.getvalue()), net


def _samples(calib, inputs, calib_samples, check_samples):
    """(calibration set, check set, source description)."""
    if calib:
        samples = calibration.load_calibration_file(calib, inputs)
        cal, check = calibration.split_calibration(samples, calib_samples, check_samples)
        held = "same samples (the file has one)" if cal is check else f"last {len(check)} held apart"
        return cal, check, f"{calib} ({held})"
    return (calibration.synthetic_inputs(inputs, calib_samples, SYNTHETIC_SEEDS["calibration"]),
            calibration.synthetic_inputs(inputs, check_samples, SYNTHETIC_SEEDS["check"]),
            "synthetic (deterministic random inputs; pass --calib with real samples)")


def export_model(model, output, *, inputs, calib=None, calib_samples=64, check_samples=100,
                 calibration_method=None, reference=None, keep_onnx=False, run_tflm=True,
                 int16x8=False, lstm="unrolled", recurrent_step="conv"):
    """Export the static-shaped ONNX `model` (inputs: its [(name, shape)]) to `output`;
    returns the report dict. reference: callable(sample) -> float outputs (PyTorch for a
    module); onnxruntime on `model` when None. calibration_method: None for
    DEFAULT_CALIBRATION. int16x8: TFLite's 16x8 mode (int16 activations, int8 weights).
    lstm: ONNX LSTM nodes unrolled or as UNIDIRECTIONAL_SEQUENCE_LSTM (converter).
    recurrent_step: unrolled recurrences' 1x1 convolutions as CONV_2D or FC (converter)."""
    calibration_method = calibration_method or DEFAULT_CALIBRATION
    from rnnedge.export import verify_user
    from rnnedge.tflite import read_model
    timings, start = {}, time.perf_counter()
    cal, check, source = _samples(calib, inputs, calib_samples, check_samples)
    converted = to_int8_tflite(model, cal, method=calibration_method, int16x8=int16x8,
                               lstm=lstm, recurrent_step=recurrent_step)
    timings["convert_s"] = time.perf_counter() - start
    written = read_model(converted.tflite)
    t = time.perf_counter()
    with atomic_output(output) as tmp:
        with open(tmp, "wb") as f:
            f.write(converted.tflite)
        floats = verify_user.float_outputs(model, check)
        verification = {"check_samples": len(check), "check_source": source}
        if reference is not None:
            mine = [reference(s) for s in check]
            verification["ort_vs_torch_max_abs_diff"] = max(
                float(np.max(np.abs(a - b))) for got, want in zip(floats, mine)
                for a, b in zip(got, want))
            floats = mine
        verification.update(verify_user.int8_vs_float(converted.tflite, floats, check))
        if run_tflm:
            verification.update(verify_user.tflm_check(tmp, written, check[0]))
        if keep_onnx:
            atomic_write(os.path.splitext(output)[0] + ".onnx", model.SerializeToString())
    timings["verify_s"] = time.perf_counter() - t
    stats = graph_stats.graph_stats(written)
    return {
        "output": os.path.abspath(output),
        "onnx_nodes": len(model.graph.node),
        "activations": "int16" if int16x8 else "int8",
        "inputs": [{"name": n, "shape": list(p.shape), "dtype": "int16" if int16x8 else "int8",
                    "scale": p.scale,
                    "zero_point": p.zero_point} for (n, _), p in zip(inputs, converted.inputs)],
        "outputs": [{"shape": list(p.shape), "scale": p.scale, "zero_point": p.zero_point}
                    for p in converted.outputs],
        "calibration": {"source": source, "samples": len(cal), "method": calibration_method},
        "verification": verification,
        "stats": stats,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def export_module(net, input_shapes, output, **options):
    """Python API: export an nn.Module taking inputs of `input_shapes` (batch included, one
    shape per input) to `output`; options as export_model's. Returns the report dict."""
    import torch
    shapes = [tuple(int(d) for d in s) for s in input_shapes]
    model, static = module_to_onnx(net, shapes)
    model, inputs = static_inputs(model, shapes)

    def reference(sample):
        with torch.no_grad():
            out = static(*[torch.from_numpy(np.asarray(a)) for a in sample])
        outs = out if isinstance(out, (tuple, list)) else [out]
        return [o.numpy() for o in outs]
    return export_model(model, output, inputs=inputs, reference=reference, **options)


def export_onnx_file(path, output, input_shapes=None, **options):
    """Export the ONNX file at `path` to `output` (input_shapes: one per input, for dynamic
    dims); options as export_model's. Returns the report dict."""
    model, inputs = static_inputs(read_onnx(path), input_shapes)
    return export_model(model, output, inputs=inputs, **options)
