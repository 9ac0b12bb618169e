"""`rnnedge run` with several inputs and outputs (one .npy per input, or one .npz keyed by
input name; outputs in one .npz keyed by output name), checked against tflite-micro on random
inputs, and its one-line refusals (input count, float model); control flow runs
(tests/test_tflm_control_flow.py)."""

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge.cli import main
from rnnedge.tflite import read_model
from rnnedge.tflm_probe import run_tflm


def _run(*args):
    return CliRunner().invoke(main, ["run", *map(str, args)])


def _io(path):
    sg = read_model(open(path, "rb").read()).main
    return ([sg.tensors[t] for t in sg.inputs], [sg.tensors[t] for t in sg.outputs])


@pytest.mark.slow
def test_two_inputs_two_outputs_match_tflm(tflm_model_paths, tmp_path):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    path = tflm_model_paths["two_input_int8"]
    inputs, outputs = _io(path)
    rng = np.random.default_rng(3)
    xs = [rng.integers(-128, 128, (4,) + tuple(t.shape[1:])).astype(np.int8) for t in inputs]
    files = []
    for i, x in enumerate(xs):
        files.append(tmp_path / f"x{i}.npy")
        np.save(files[-1], x)
    result = _run(path, *[a for f in files for a in ("--input", f)], "--backend", "c",
                  "--output", tmp_path / "c.npz")
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "c.npz") as saved:
        assert saved.files == [t.name for t in outputs]
        got = [saved[t.name] for t in outputs]
    for n in range(4):
        want = run_tflm(path, [x[n:n + 1] for x in xs])
        for g, w in zip(got, want):
            assert np.array_equal(g[n:n + 1], w)
    # the same inputs as one .npz keyed by input name give the same bytes
    np.savez(tmp_path / "in.npz", **{t.name: x for t, x in zip(inputs, xs)})
    again = _run(path, "--input", tmp_path / "in.npz", "--output", tmp_path / "again.npz")
    assert again.exit_code == 0, again.output
    with np.load(tmp_path / "again.npz") as saved:
        assert all(np.array_equal(saved[t.name], g) for t, g in zip(outputs, got))


def test_input_count_and_npz_key_errors(tflm_model_paths, tmp_path):
    path = tflm_model_paths["two_input_int8"]
    inputs, _ = _io(path)
    np.save(tmp_path / "x.npy", np.zeros(inputs[0].shape, np.int8))
    result = _run(path, "--input", tmp_path / "x.npy")
    assert result.exit_code == 2
    assert "takes 2 inputs" in result.output and inputs[1].name in result.output
    np.savez(tmp_path / "bad.npz", nope=np.zeros(3, np.int8))
    result = _run(path, "--input", tmp_path / "bad.npz")
    assert result.exit_code == 2 and "the model's inputs are" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_float_model_says_float_and_how_to_get_int8(tmp_path):
    from rnnedge.tflm_schema_models import Graph
    from ai_edge_litert import schema_py_generated as fb
    g = Graph()
    x = g.tensor("x", (1, 4), np.float32)
    y = g.tensor("y", (1, 4), np.float32)
    g.op(fb.BuiltinOperator.RELU, [x], [y])
    path = tmp_path / "float.tflite"
    path.write_bytes(g.pack([x], [y], "float"))
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.float32))
    result = _run(path, "--input", tmp_path / "x.npy")
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "float" in line and "rnnedge export" in line and "--int8" in line
