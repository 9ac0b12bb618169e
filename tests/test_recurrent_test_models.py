"""The recurrent TFLM test models of rnnedge.tflm_test_models (SVDF with an int16 or int8
state, UNIDIRECTIONAL_SEQUENCE_LSTM int8; written by the arena work, not by the kernel tests)
run by `rnnedge run --backend c` with the bytes of `--backend tflm`, over a batch of samples
(one invocation each, the state carried), on the best and inplace plans, and in the debug
runtime with a reset between two passes."""

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge.cli import main
from rnnedge.firmware_sim.backends import make_backend

RECURRENT = ["svdf_int8", "svdf_int8_state8", "lstm_int8"]


def _batch(path, n=4, seed=0):
    backend = make_backend("c", path)
    shape = backend.runtime.program.inputs[0].shape
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, (n,) + tuple(shape[1:])).astype(np.int8)


@pytest.mark.slow
@pytest.mark.parametrize("planner", ["best", "inplace"])
@pytest.mark.parametrize("name", RECURRENT)
def test_run_c_equals_tflm(tflm_model_paths, name, planner, tmp_path):
    path = tflm_model_paths[name]
    npy = tmp_path / "x.npy"
    np.save(npy, _batch(path))
    outs = {}
    for backend in ("c", "tflm"):
        out = tmp_path / f"{backend}.npy"
        result = CliRunner().invoke(main, ["run", path, "--input", str(npy), "--output",
                                           str(out), "--backend", backend, "--planner", planner])
        assert result.exit_code == 0, result.output
        outs[backend] = np.load(out)
    np.testing.assert_array_equal(outs["c"], outs["tflm"])
    assert not np.array_equal(outs["c"][0], outs["c"][1])


@pytest.mark.parametrize("name", RECURRENT)
def test_debug_runtime_reset_repeats_the_first_pass(tflm_model_paths, name):
    path = tflm_model_paths[name]
    run = make_backend("c", path, planner="inplace", debug=True)
    x = _batch(path, 3, seed=1)
    first = run(x)[0]
    second = run(x)[0]  # the state carried on: not the same bytes
    assert not np.array_equal(first, second)
    run.runtime.reset()
    np.testing.assert_array_equal(run(x)[0], first)
    np.testing.assert_array_equal(first, make_backend("tflm", path)(x)[0])
