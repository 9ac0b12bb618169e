"""Recurrent models (int8 and 16x8 LSTMs, SVDFs) through the firmware stack, against TFLM's successive invocations (state
carried from one to the next, then TFLM's reset): the firmware_sim runtime (debug mode, every
planner), `rnnedge run --backend c` == `--backend tflm` over a batch of samples (each sample
one invocation, the state carried), and the `rnnedge firmware` host build fed the same
samples, its `rn_model_reset()` restoring the state TFLM's reset gives."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("tflite_micro", reason="tflite-micro (the TFLM oracle) is not installed")

from tflite_micro.python.tflite_micro import runtime as tflm  # noqa: E402

from rnnedge.cli import main  # noqa: E402
from rnnedge.errors import RnnedgeError  # noqa: E402
from rnnedge.firmware_sim import codegen, toolchain  # noqa: E402
from rnnedge.firmware_sim.compiler import compile_model  # noqa: E402
from rnnedge.firmware_sim.runtime import Runtime  # noqa: E402

from recurrent_models import lstm_model, svdf_model  # noqa: E402

MODELS = {
    "lstm_last_step": lambda: lstm_model(batch=2, time=5, n_input=3, n_cell=6, last_step=True),
    "lstm_time_major": lambda: lstm_model(batch=2, time=4, n_input=5, n_cell=4,
                                          time_major=True, seed=3),
    "svdf_int16": lambda: svdf_model(batch=1, n_input=8, n_units=5, rank=2, memory=6),
    "svdf_int8": lambda: svdf_model(batch=2, state_dtype=np.int8, seed=4),
    "lstm_16x8": lambda: lstm_model(batch=2, time=4, n_input=3, n_cell=5, seed=21,
                                    dtype=np.int16),
    "lstm_16x8_time_major": lambda: lstm_model(batch=2, time=3, n_input=4, n_cell=6,
                                               time_major=True, seed=22, dtype=np.int16),
}


def _tflm(model: bytes, xs):
    """TFLM's outputs for each sample in turn, then for xs[0] after reset."""
    interp = tflm.Interpreter.from_bytes(model)
    outs = []
    for x in list(xs) + [None]:
        if x is None:
            interp.reset()
            x = xs[0]
        interp.set_input(x, 0)
        interp.invoke()
        outs.append(interp.get_output(0).copy())
    return outs


def _inputs(program, n=3, seed=0):
    """Random samples over the input dtype's whole range (int8, or int16 for 16x8)."""
    rng = np.random.default_rng(seed)
    port = program.inputs[0]
    info = np.iinfo(port.dtype)
    return [rng.integers(info.min, info.max + 1, port.shape).astype(port.dtype)
            for _ in range(n)]


@pytest.mark.parametrize("planner", ["best", "inplace", "tflm"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_runtime_keeps_state_like_tflm(name, planner):
    model = MODELS[name]()
    program = compile_model(model, planner)
    assert program.variables, "the state tensors must live in the variable buffer"
    xs = _inputs(program)
    expected = _tflm(model, xs)
    rt = Runtime(program, debug=True)
    got = [rt.invoke(x)[0] for x in xs]
    rt.reset()
    got.append(rt.invoke(xs[0])[0])
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g.reshape(e.shape), e)
    assert not np.array_equal(expected[0], expected[1]), "the state had no effect"


def test_variables_sit_outside_the_arena_with_their_reset_value():
    model = lstm_model(batch=2, time=3, n_input=3, n_cell=5, hidden_zp=-7)
    program = compile_model(model, "best")
    by_name = {v.name: v for v in program.variables}
    assert by_name["output_state"].fill == (-7) & 0xFF and by_name["cell_state"].fill == 0
    assert by_name["output_state"].nbytes == 2 * 5 and by_name["cell_state"].nbytes == 2 * 5 * 2
    assert all(v.offset % 16 == 0 for v in program.variables)
    tensors = {t.name: t.index for t in program.model.main.tensors}
    assert tensors["output_state"] not in program.plan.tensor_offsets


def test_lstm_without_variable_state_is_refused(tmp_path):
    model = bytearray(lstm_model())
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb
    import flatbuffers
    m = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(model, 0))
    for t in m.subgraphs[0].tensors:
        t.isVariable = False
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    with pytest.raises(RnnedgeError, match="must be a variable tensor"):
        compile_model(bytes(b.Output()), "best")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm_last_step", "svdf_int16", "lstm_16x8"])
def test_run_cli_c_equals_tflm(name, tmp_path):
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(MODELS[name]())
    program = compile_model(str(path), "best")
    xs = _inputs(program, 4)
    shape = program.inputs[0].shape
    batch = np.stack([x.reshape(shape[1:]) if shape[0] == 1 else x for x in xs])
    npy = tmp_path / "x.npy"
    np.save(npy, batch)
    outs = {}
    for backend in ("c", "tflm"):
        out = tmp_path / f"{backend}.npy"
        result = CliRunner().invoke(main, ["run", str(path), "--input", str(npy), "--output",
                                           str(out), "--backend", backend])
        assert result.exit_code == 0, result.output
        outs[backend] = np.load(out)
    np.testing.assert_array_equal(outs["c"], outs["tflm"])
    expected = _tflm(path.read_bytes(), xs)[:-1]  # one invocation per sample, state carried
    np.testing.assert_array_equal(outs["c"].reshape(-1), np.concatenate(
        [e.reshape(-1) for e in expected]))

@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm_last_step", "lstm_time_major", "svdf_int8",
                                  "lstm_16x8"])
def test_host_firmware_keeps_state_like_tflm(name, tmp_path):
    model = MODELS[name]()
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    out = tmp_path / "fw"
    result = CliRunner().invoke(main, ["firmware", str(path), "-o", str(out), "--build", "host",
                                       "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["arena_bytes"] >= 0
    text = (out / "model.c").read_text()
    assert "void rn_model_reset(void)" in text and "memset(rn_variables.bytes" in text
    program = compile_model(model, "best")
    xs = _inputs(program, 3, seed=5)
    expected = _tflm(model, xs)
    stream = b"".join(x.tobytes() for x in xs)
    assert toolchain.run_host(out / "firmware", stream) == \
        b"".join(e.tobytes() for e in expected[:-1])
    # a new process starts from rn_model_reset(): its first output is TFLM's after reset
    assert toolchain.run_host(out / "firmware", xs[0].tobytes()) == expected[-1].tobytes()


def test_16x8_lstm_runs_with_int16_pointers_and_int64_biases():
    """The 16x8 LSTM compiles to the int16 entry point: int16 input, state and output
    pointers, the int64 biases in flash."""
    program = compile_model(MODELS["lstm_16x8"](), "best")
    (call,) = [c for step in program.steps for c in step.calls]
    assert call.entry == "rn_unidirectional_sequence_lstm_int16"
    assert call.args[0].ctype == "int16_t" and call.args[-1].ctype == "int16_t"
    assert any(c.data.dtype == np.int64 for c in program.constants)
