"""Control flow and resource variables in the C runtime (firmware_sim/control.py) against
tflite-micro on TF-converted models (rnnedge.tflm_test_models): WHILE loops (a tf.while_loop,
Keras 3 LSTM and GRU layers with unroll=False), an IF (tf.cond), CALL_ONCE with
VAR_HANDLE / READ_VARIABLE / ASSIGN_VARIABLE (a tf.Variable state). Each runs several
invocations, a reset and one more invocation, on the best, inplace and tflm plans in debug
mode, and through `rnnedge run --backend c` and the generated host firmware: 0 bytes
different from TFLM every time."""

import dataclasses

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge.cli import main
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.compiler import compile_model
from rnnedge.firmware_sim.runtime import Runtime
from rnnedge.tflite import read_model

MODELS = ["while_int8", "lstm_while_int8", "gru_while_int8", "if_int8", "variable_int8"]


def _tflm(path):
    tflm = pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    return tflm.runtime.Interpreter.from_file(path, arena_size=1 << 20)


def _samples(program, rng, n):
    """n samples; the first two have opposite signs, so an IF on the input's sum takes both
    branches."""
    out = []
    for k in range(n):
        xs = [rng.integers(-128, 128, p.shape).astype(p.dtype) for p in program.inputs]
        if k < 2:
            xs = [np.abs(x.astype(np.int16)).clip(0, 127).astype(p.dtype) * (1 if k else -1)
                  for x, p in zip(xs, program.inputs)]
        out.append(xs)
    return out


def _tflm_outputs(interp, samples, n_outputs, reset_before=None):
    outs = []
    for k, xs in enumerate(samples):
        if k == reset_before:
            interp.reset()
        for i, x in enumerate(xs):
            interp.set_input(x, i)
        interp.invoke()
        outs.append([np.array(interp.get_output(i)) for i in range(n_outputs)])
    return outs


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("planner", ["best", "inplace", "tflm"])
def test_c_runtime_matches_tflm_across_invocations_and_reset(name, planner, tflm_model_paths):
    path = tflm_model_paths[name]
    program = compile_model(path, planner)
    assert program.subgraphs, "a control-flow model compiles its other subgraphs"
    runtime = Runtime(program, debug=True)
    samples = _samples(program, np.random.default_rng(7), 5)
    expected = _tflm_outputs(_tflm(path), samples, len(program.outputs), reset_before=4)
    for k, xs in enumerate(samples):
        if k == 4:
            runtime.reset()
        got = runtime.invoke(*xs)
        for e, g in zip(expected[k], got, strict=True):
            assert e.dtype == g.dtype and e.shape == g.shape
            assert np.count_nonzero(e.view(np.uint8) != g.view(np.uint8)) == 0, (name, k)


@pytest.mark.slow
def test_if_takes_both_branches_and_the_variable_carries_state(tflm_model_paths):
    """The IF model's two first samples take the else and the then branch (the condition
    byte the IF read, still in the arena after the run), and the variable model gives
    different outputs for the same input on successive invocations (its state carries);
    after a reset TFLM zeroes the variable without re-running CALL_ONCE's initial
    assignment, and so does the C runtime."""
    program = compile_model(tflm_model_paths["if_int8"], "best")
    (step,) = [s for s in program.steps if s.control is not None]
    assert step.control.opcode == "IF" and step.control.condition.space == "arena"
    runtime = Runtime(program)
    taken = []
    for xs in _samples(program, np.random.default_rng(7), 2):
        runtime.invoke(*xs)
        taken.append(int(runtime.arena[step.control.condition.offset]))
    assert taken == [0, 1]
    program = compile_model(tflm_model_paths["variable_int8"], "best")
    runtime = Runtime(program)
    x = np.full(program.inputs[0].shape, 40, np.int8)
    first, second = runtime.invoke(x)[0], runtime.invoke(x)[0]
    assert not np.array_equal(first, second), "the resource variable must carry state"
    runtime.reset()
    after_reset = runtime.invoke(x)[0]
    assert not np.array_equal(after_reset, first)
    interp = _tflm(tflm_model_paths["variable_int8"])
    expected = _tflm_outputs(interp, [[x], [x], [x]], 1, reset_before=2)
    assert [e[0].tobytes() for e in expected] == [first.tobytes(), second.tobytes(),
                                                  after_reset.tobytes()]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["while_int8", "if_int8", "variable_int8"])
def test_rnnedge_run_c_backend_equals_tflm_backend(name, tflm_model_paths, tmp_path):
    path = tflm_model_paths[name]
    sg = read_model(path).main
    shape = tuple(sg.tensors[sg.inputs[0]].shape)
    rng = np.random.default_rng(11)
    np.save(tmp_path / "x.npy", rng.integers(-128, 128, (4,) + shape[1:]).astype(np.int8))
    outputs = {}
    for backend in ("c", "tflm"):
        out = tmp_path / f"{backend}.npy"
        result = CliRunner().invoke(main, ["run", str(path), "--input", str(tmp_path / "x.npy"),
                                           "--backend", backend, "--output", str(out)])
        assert result.exit_code == 0, result.output
        outputs[backend] = np.load(out)
    assert outputs["c"].shape[0] == 4
    assert outputs["c"].tobytes() == outputs["tflm"].tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_host_firmware_matches_tflm(name, tflm_model_paths, tmp_path):
    from rnnedge.firmware_sim import toolchain
    from rnnedge.firmware_sim.codegen import write_firmware

    path = tflm_model_paths[name]
    program = compile_model(path, "inplace")
    write_firmware(program, tmp_path / "fw")
    text = (tmp_path / "fw" / "model.c").read_text()
    assert "static int rn_subgraph_" in text
    executable = toolchain.build_host(tmp_path / "fw")
    samples = _samples(program, np.random.default_rng(5), 4)
    got = toolchain.run_host(executable, b"".join(x.tobytes() for s in samples for x in s))
    expected = _tflm_outputs(_tflm(path), samples, len(program.outputs))
    assert got == b"".join(o.tobytes() for outs in expected for o in outs)


def test_while_whose_body_disagrees_is_refused_in_one_line(tflm_model_paths):
    """A WHILE body with one output fewer than the loop's inputs: TFLM's Prepare refuses it,
    and so does the compiler (an RnnedgeError naming the operator)."""
    model = read_model(tflm_model_paths["while_int8"])
    body = model.subgraphs[2]
    short = dataclasses.replace(body, outputs=tuple(body.outputs)[:-1])
    model = dataclasses.replace(model, subgraphs=model.subgraphs[:2] + (short,))
    with pytest.raises(RnnedgeError, match=r"^op 1 WHILE: .*disagree"):
        compile_model(model, "best")


def test_a_loop_that_never_ends_is_refused_in_one_line(tflm_model_paths, monkeypatch):
    """while_int8 with its counter step set to 0 never ends: the host runtime stops after
    MAX_WHILE_ITERATIONS with an RnnedgeError naming the WHILE (TFLM would hang)."""
    from rnnedge.firmware_sim import runtime as runtime_module

    model = read_model(tflm_model_paths["while_int8"])
    body = model.subgraphs[2]
    add = next(op for op in body.operators
               if op.opcode == "ADD" and body.tensors[op.inputs[0]].type_name == "INT32")
    step = add.inputs[1]
    assert int(np.asarray(body.tensors[step].data).reshape(-1)[0]) == 1
    tensors = list(body.tensors)
    tensors[step] = dataclasses.replace(tensors[step], data=np.zeros_like(tensors[step].data))
    model = dataclasses.replace(model, subgraphs=model.subgraphs[:2] + (
        dataclasses.replace(body, tensors=tuple(tensors)),))
    monkeypatch.setattr(runtime_module, "MAX_WHILE_ITERATIONS", 50)
    runtime = Runtime(compile_model(model, "best"))
    x = np.zeros(runtime.program.inputs[0].shape, np.int8)
    with pytest.raises(RnnedgeError, match=r"^op 1 WHILE: the loop ran 50 iterations"):
        runtime.invoke(x)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm_while_int8", "variable_int8"])
def test_cortex_m55_firmware_under_qemu_matches_tflm(name, tflm_model_paths, tmp_path):
    from rnnedge.firmware_sim import toolchain
    from rnnedge.firmware_sim.codegen import write_firmware

    tools = toolchain.arm_tools()
    if not tools["cc"] or not tools["qemu"]:
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm is not installed")
    path = tflm_model_paths[name]
    program = compile_model(path, "best")
    write_firmware(program, tmp_path / "fw")
    elf = toolchain.build_arm(tmp_path / "fw", "m55")
    samples = _samples(program, np.random.default_rng(9), 3)
    got = toolchain.run_qemu(elf, b"".join(x.tobytes() for s in samples for x in s))
    expected = _tflm_outputs(_tflm(path), samples, len(program.outputs))
    assert got == b"".join(o.tobytes() for outs in expected for o in outs)
