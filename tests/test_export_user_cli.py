"""`rnnedge export` on models a user brings: an ONNX file with dynamic dimensions, a
`--module file.py:factory` with `--weights` (weights_only), the Python API on an nn.Module,
calibration files (.npy / .npz), and the one-line errors (exit 2, nothing written) for an op
outside the table, a dynamic dimension without --input-shape, bad calibration files and
opsets out of range; and docs/export.md's supported-op table equals `rnnedge ops --markdown`."""

import json
import os
import pathlib
import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from rnnedge.cli import main

FACTORY = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def make():
    return Net()
'''


def run(args):
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def one_line_error(code, output, *needles):
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in lines[0], output


def _onnx(tmp_path, module, shape, name="m", dynamic=None, opset=17):
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(shape),), str(path), opset_version=opset,
                          dynamo=False, input_names=["x"], dynamic_axes=dynamic)
    return path


class Seq(nn.Module):
    """(N, T, F) -> per-step FC -> mean over time: T is a dynamic axis when exported so."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        return torch.tanh(self.fc(x)).mean(1)


@pytest.mark.slow
def test_module_factory_with_weights(tmp_path):
    src = tmp_path / "net.py"
    src.write_text(FACTORY)
    torch.manual_seed(3)
    namespace = {}
    exec(compile(FACTORY, "net", "exec"), namespace)  # the same factory, to make weights
    net = namespace["make"]()
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    np.save(tmp_path / "calib.npy", np.random.default_rng(0).uniform(-1, 1, (30, 3, 8, 8))
            .astype(np.float32))
    out = tmp_path / "net.tflite"
    code, text = run(["export", "--module", f"{src}:make", "--weights", str(tmp_path / "sd.pt"),
                      "--input-shape", "1,3,8,8", "--int8", "--calib", str(tmp_path / "calib.npy"),
                      "-o", str(out), "--json"])
    assert code == 0, text
    report = json.loads(text)
    assert report["calibration"]["samples"] == 24 and report["verification"]["check_samples"] == 6
    assert report["calibration"]["method"] == "percentile"
    assert report["verification"]["ort_vs_torch_max_abs_diff"] < 1e-4
    assert report["verification"]["cosine"] >= 0.99 and out.exists()
    # the weights were loaded: the float reference is the saved network's
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_path=str(out))
    interp.allocate_tensors()
    x = np.random.default_rng(5).uniform(-1, 1, (1, 3, 8, 8)).astype(np.float32)
    d, o = interp.get_input_details()[0], interp.get_output_details()[0]
    q = np.clip(np.round(x.transpose(0, 2, 3, 1) / d["quantization"][0]) + d["quantization"][1],
                -128, 127).astype(np.int8)
    interp.set_tensor(d["index"], q)
    interp.invoke()
    got = (interp.get_tensor(o["index"]).astype(np.float32) - o["quantization"][1]) * \
        o["quantization"][0]
    with torch.no_grad():
        want = net.eval()(torch.from_numpy(x)).numpy()
    assert np.abs(got - want).max() < 0.05


def test_module_help_says_the_file_runs():
    code, text = run(["export", "--help"])
    assert code == 0 and "RUNS" in text and "weights_only=True" in text


def test_module_needs_input_shape(tmp_path):
    src = tmp_path / "net.py"
    src.write_text(FACTORY)
    code, text = run(["export", "--module", f"{src}:make", "--int8"])
    one_line_error(code, text, "--input-shape")


def test_weights_that_are_not_a_state_dict(tmp_path):
    src = tmp_path / "net.py"
    src.write_text(FACTORY)
    (tmp_path / "bad.pt").write_bytes(b"not a zip")
    code, text = run(["export", "--module", f"{src}:make", "--weights", str(tmp_path / "bad.pt"),
                      "--input-shape", "1,3,8,8", "--int8", "-o", str(tmp_path / "x.tflite")])
    one_line_error(code, text, "--weights")
    assert not (tmp_path / "x.tflite").exists()


@pytest.mark.slow
def test_dynamic_sequence_length_needs_input_shape(tmp_path):
    path = _onnx(tmp_path, Seq(), (1, 5, 6), dynamic={"x": {0: "batch", 1: "time"}})
    out = tmp_path / "seq.tflite"
    code, text = run(["export", str(path), "--int8", "-o", str(out)])
    one_line_error(code, text, "input x", "'time'", "--input-shape")
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]
    np.save(tmp_path / "c.npy", np.random.default_rng(0).standard_normal((20, 9, 6))
            .astype(np.float32))
    code, text = run(["export", str(path), "--int8", "-o", str(out), "--input-shape", "1,9,6",
                      "--calib", str(tmp_path / "c.npy"), "--json"])
    assert code == 0, text
    report = json.loads(text)
    assert report["inputs"][0]["shape"] == [1, 9, 6] and report["verification"]["cosine"] > 0.99


def test_op_outside_the_table(tmp_path):
    path = _onnx(tmp_path, nn.Sequential(nn.Conv2d(3, 4, 1), nn.Softplus()), (1, 3, 4, 4))
    out = tmp_path / "x.tflite"
    code, text = run(["export", str(path), "--int8", "-o", str(out)])
    one_line_error(code, text, "ONNX op Softplus", "node /1/Softplus", "nearest supported form")
    assert not out.exists()


def test_opset_out_of_range(tmp_path):
    path = _onnx(tmp_path, nn.Sequential(nn.Conv2d(3, 4, 1)), (1, 3, 4, 4), opset=11)
    code, text = run(["export", str(path), "--int8", "-o", str(tmp_path / "x.tflite")])
    one_line_error(code, text, "opset 11", "13-21")


@pytest.mark.parametrize("make, needle", [
    (lambda d: np.save(d / "c.npy", np.zeros((4, 3, 5, 5), np.float32)), "expected samples of"),
    (lambda d: np.savez(d / "c.npz", y=np.zeros((4, 3, 4, 4), np.float32),
                        z=np.zeros(2, np.float32)), "no array for input x"),
    (lambda d: np.save(d / "c.npy", np.full((4, 3, 4, 4), np.nan, np.float32)), "NaN"),
    (lambda d: (d / "c.npy").write_bytes(b"garbage"), "cannot read calibration file"),
])
def test_bad_calibration_files(tmp_path, make, needle):
    path = _onnx(tmp_path, nn.Sequential(nn.Conv2d(3, 4, 1)), (1, 3, 4, 4))
    make(tmp_path)
    calib = next(p for p in tmp_path.iterdir() if p.name.startswith("c."))
    out = tmp_path / "x.tflite"
    code, text = run(["export", str(path), "--int8", "--calib", str(calib), "-o", str(out)])
    one_line_error(code, text, needle)
    assert not out.exists()


@pytest.mark.slow
def test_python_api_takes_an_nn_module(tmp_path):
    from rnnedge.export import export_module
    torch.manual_seed(0)
    report = export_module(Seq(), [(1, 7, 6)], str(tmp_path / "s.tflite"),
                           calibration_method="mse", check_samples=8)
    assert report["calibration"]["method"] == "mse"
    assert report["verification"]["tflm_matches_reference"] is True
    assert report["stats"]["problems"] == []


def test_docs_table_is_the_generated_one():
    pytest.importorskip("ethosu.regor", reason="Vela (the table's placement column) is not "
                        "installed")
    from rnnedge.export import support_table
    doc = (pathlib.Path(__file__).parents[1] / "docs" / "export.md").read_text()
    begin, end = "<!-- ops-table:begin -->\n", "<!-- ops-table:end -->"
    assert begin in doc and end in doc
    assert doc.split(begin)[1].split(end)[0] == support_table.markdown(), \
        "docs/export.md is stale: paste `rnnedge ops --markdown` between the markers"


def test_every_lowered_op_is_in_the_support_table():
    from rnnedge.export import support_table
    from rnnedge.export.lowerers import LOWERERS
    from rnnedge.export.onnx_rewrite import REWRITTEN_OPS
    from rnnedge.op_table import OPS
    assert set(LOWERERS) | set(REWRITTEN_OPS) == set(support_table.SUPPORTED)
    for conditions, builtins in support_table.SUPPORTED.values():
        assert all(b in OPS for b in builtins), builtins


def test_vela_cpu_builtins_named_by_export():
    pytest.importorskip("ethosu.regor", reason="Vela is not installed")
    from rnnedge.export.vela_check import vela_cpu_builtins
    # Vela's SUPPORTED_OPS.md lists CONV_2D and PADV2 for Ethos-U55 and not GATHER; ARG_MAX
    # is ARGMAX there; SHAPE is listed for neither family
    assert vela_cpu_builtins(["CONV_2D", "GATHER", "GATHER", "PADV2", "ARG_MAX"]) == ["GATHER"]
    assert vela_cpu_builtins(["SHAPE", "CONV_2D"], "ethos-u85-256") == ["SHAPE"]


@pytest.mark.slow
def test_vela_places_a_max_pools_lowest_value_padv2_as_the_export_says(tmp_path):
    """A max pool padded as torch pads (1 before, not TFLite's SAME) after a BatchNorm that
    shifts below zero: PADV2 with -128 over an input whose zero point is not -128. The
    export's static verdict and Vela's own compilation must agree: on the NPU."""
    pytest.importorskip("ethosu.regor", reason="Vela is not installed")
    from rnnedge.export.pipeline import export_int8
    from rnnedge.export.vela_check import compile_for_npu
    from rnnedge.tflite import read_model
    torch.manual_seed(0)
    norm = torch.nn.BatchNorm2d(4)
    norm.bias.data.fill_(-0.6)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), norm,
                                torch.nn.MaxPool2d(3, 2, padding=1)).eval()
    path = str(tmp_path / "pool.tflite")
    report = export_int8(model, {"input_shape": [3, 16, 16], "normalization": {"mean": [0.5], "std": [0.25]}},
                         path, calib_samples=8, check_samples=2)
    graph = read_model(path).subgraphs[0]
    (pad,) = [op for op in graph.operators if op.opcode == "PADV2"]
    assert int(graph.tensors[pad.inputs[0]].quantization.zero_points[0]) != -128
    assert report["stats"]["vela_cpu_builtins"] == []
    assert compile_for_npu(path)["cpu_ops"] == 0
