"""`rnnedge run`: backends agree byte for byte with TFLM, batches stack on the first axis,
--output/--json formats, and bad arguments exit 2 with one line."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge import tinyml_models
from rnnedge.cli import main
from rnnedge.firmware_sim.backends import make_backend
from rnnedge.planner import plan
from rnnedge.tflite import read_model


def _run(*args, check=True):
    """`rnnedge run ARGS` in-process: the click result (exit_code, stdout, stderr)."""
    result = CliRunner().invoke(main, ["run", *map(str, args)])
    if check:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def resnet8(tmp_path_factory):
    """(model path, a .npy of 3 stacked inputs, TFLM's outputs for them)."""
    path = tinyml_models.tflite_path("resnet8")
    x = np.random.default_rng(7).integers(-128, 128, (3, 32, 32, 3), dtype=np.int8)
    npy = tmp_path_factory.mktemp("run") / "x.npy"
    np.save(npy, x)
    return path, npy, make_backend("tflm", path)(x)[0]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["c", "tflm", "tflite"])
def test_backends_save_stacked_outputs(resnet8, tmp_path, backend):
    path, npy, expected = resnet8
    out = tmp_path / "y.npy"
    _run(path, "--input", npy, "--output", out, "--backend", backend, "--planner", "inplace")
    y = np.load(out)
    assert y.dtype == np.int8 and y.shape == (3, 10)
    if backend == "tflite":  # TFLite's reference kernels may round per-channel FC ties apart
        assert np.max(np.abs(y.astype(int) - expected)) <= 1
    else:
        assert y.tobytes() == expected.tobytes()


@pytest.mark.slow
def test_json_report(resnet8):
    path, npy, expected = resnet8
    report = json.loads(_run(path, "--input", npy, "--json", "--debug").stdout)
    assert report["samples"] == 3
    assert np.array_equal(np.array(report["outputs"][0]["values"], np.int8), expected)
    assert report["arena_bytes"] == plan(read_model(path), "best").arena
    assert len(report["steps"]) == len(read_model(path).main.operators)


@pytest.mark.slow
def test_single_input_of_model_shape(resnet8, tmp_path):
    path, npy, expected = resnet8
    one = tmp_path / "one.npy"
    np.save(one, np.load(npy)[:1])  # (1, 32, 32, 3): the model's own input shape
    out = tmp_path / "y.npy"
    _run(path, "--input", one, "--output", out)
    assert np.load(out).tobytes() == expected[:1].tobytes()
    text = _run(path, "--input", one).stdout
    assert text.startswith("output 0: int8 [1, 10]")


@pytest.mark.slow
def test_bad_arguments_exit_2(resnet8, tmp_path):
    path, npy, _ = resnet8
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((2, 16, 16, 3), np.int8))
    floats = tmp_path / "floats.npy"
    np.save(floats, np.zeros((1, 32, 32, 3), np.float32))
    for args in ([path, "--input", wrong], [path, "--input", floats],
                 [path, "--input", npy, "--backend", "tflm", "--debug"],
                 [tmp_path / "missing.tflite", "--input", npy]):
        result = _run(*args, check=False)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), \
            result.stderr
    assert not list(tmp_path.glob("*.tmp"))
