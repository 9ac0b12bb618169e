"""firmware_sim runtime: whole models give TFLM's output bytes in the `best` and `inplace`
arena layouts (release and sanitizer kernel builds), debug mode catches unsafe plans, and
unsupported or malformed models fail with one RnnedgeError naming the op."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge import tinyml_models
from rnnedge.cli import main
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.backends import make_backend
from rnnedge.firmware_sim.compiler import compile_model
from rnnedge.firmware_sim.program import Call, Ref
from rnnedge.firmware_sim.runtime import Runtime
from rnnedge.kernels import build, structs
from rnnedge.planner import plan
from rnnedge.planner.lifetimes import tensor_lifetimes
from rnnedge.tflite import read_model
from helpers import (assert_c_equals_tflm, compile_with, export_zoo_model, model_inputs, ops_model,
                     raw_inplace_plan)

TINYML = sorted(tinyml_models.BUILDERS)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{name: .tflite path}: the public TinyML models, rnnedge's RNN export and ops_model."""
    paths = {name: tinyml_models.tflite_path(name) for name in TINYML}
    paths["cifar-resnet18-rnn"] = export_zoo_model(tmp_path_factory, "cifar-resnet18-rnn")
    paths["ops"] = ops_model(tmp_path_factory)
    return paths


@pytest.fixture(scope="module")
def references(models):
    """{name: (inputs, TFLM outputs)}."""
    out = {}
    for name, path in models.items():
        x = model_inputs(path)
        out[name] = (x, make_backend("tflm", path)(x))
    return out


@pytest.mark.slow
def test_backend_c_bit_exact_with_tflm(models, references):
    for name, path in models.items():
        x, expected = references[name]
        got = make_backend("c", path, planner="inplace")(x)
        assert [g.tobytes() for g in got] == [e.tobytes() for e in expected], name
        assert [g.shape for g in got] == [e.shape for e in expected]


@pytest.mark.slow
@pytest.mark.parametrize("planner", ["best", "inplace", "inplace-raw", "tflm"])
def test_models_bit_exact_with_tflm_in_debug_mode(models, references, planner):
    for name, path in models.items():
        x, expected = references[name]
        runtime = Runtime(compile_with(path, planner), debug=True)
        got = np.stack([runtime.invoke(sample[None])[0] for sample in x])
        mismatches = np.count_nonzero(got.reshape(expected[0].shape) != expected[0])
        assert mismatches == 0, f"{name} ({planner}): {mismatches} bytes differ from TFLM"


@pytest.mark.slow
def test_inplace_rules_are_exercised(models):
    """The raw inplace plans of these models use every in-place rule of the planner."""
    fired = set()
    for path in models.values():
        fired |= {r["rule"] for r in raw_inplace_plan(read_model(path)).rules}
    assert {"fused_residual_add", "elementwise", "concat_in_output", "view"} <= fired


_SANITIZER_SCRIPT = """
import sys
import numpy as np
from rnnedge import kernels
from rnnedge.firmware_sim.runtime import Runtime
from helpers import compile_with
assert kernels.sanitize_requested()
data = np.load(sys.argv[1])
for i, path in enumerate(sys.argv[2:]):
    x = data[f"x{i}"]
    for planner in ("best", "inplace", "inplace-raw"):
        rt = Runtime(compile_with(path, planner), debug=True)
        got = np.concatenate([rt.invoke(s[None])[0].reshape(1, -1) for s in x])
        assert got.tobytes() == data[f"y{i}"].tobytes(), (path, planner)
print("ok")
"""


@pytest.mark.slow
def test_models_bit_exact_under_sanitizers(models, references, tmp_path):
    try:
        env = build.sanitizer_env()
    except RnnedgeError as exc:
        pytest.skip(str(exc))
    names = list(models)
    arrays = {}
    for i, name in enumerate(names):
        arrays[f"x{i}"], arrays[f"y{i}"] = references[name][0], references[name][1][0]
    np.savez(tmp_path / "ref.npz", **arrays)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(__file__), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-c", _SANITIZER_SCRIPT, str(tmp_path / "ref.npz"),
                           *[models[n] for n in names]], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]


_FUZZ_SCRIPT = """
import json
import sys
import numpy as np
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.compiler import compile_model
from rnnedge.firmware_sim.runtime import Runtime
rng = np.random.default_rng(0)
counts = {"ok": 0, "error": 0}
for path in sys.argv[1:]:
    raw = open(path, "rb").read()
    for _ in range(60):
        data = bytearray(raw)
        for _ in range(4):  # the flatbuffer tables sit near both ends of the file
            pos = int(rng.integers(0, len(data) // 4))
            data[pos if rng.random() < 0.5 else len(data) - 1 - pos] = int(rng.integers(256))
        try:
            program = compile_model(bytes(data), "inplace")
            Runtime(program, debug=True).invoke(*[np.zeros(p.shape, p.dtype)
                                                  for p in program.inputs])
            counts["ok"] += 1
        except RnnedgeError:
            counts["error"] += 1
print(json.dumps(counts))
"""


@pytest.mark.slow
def test_corrupted_models_fail_cleanly_under_sanitizers():
    """Randomly corrupted models either run or raise RnnedgeError: no crash, no
    out-of-bounds access or undefined behaviour under ASan + UBSan."""
    try:
        env = build.sanitizer_env()
    except RnnedgeError as exc:
        pytest.skip(str(exc))
    paths = [tinyml_models.tflite_path(n) for n in ("ds_cnn", "resnet8")]
    proc = subprocess.run([sys.executable, "-c", _FUZZ_SCRIPT, *paths], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert counts["ok"] + counts["error"] == 120 and counts["error"] > 0


def _live_pair(model, p):
    """Two arena tensors live at the same time and not operands of one operator: the second
    is produced while the first still waits for a later reader."""
    sg = model.main
    life = tensor_lifetimes(sg, p.steps)
    same_op = {frozenset((a, b)) for op in sg.operators
               for a in op.inputs + op.outputs for b in op.inputs + op.outputs}
    for a, (fa, la) in life.items():
        for b, (fb, lb) in life.items():
            if (a in p.tensor_offsets and b in p.tensor_offsets and 0 < fa < fb < la
                    and frozenset((a, b)) not in same_op
                    and p.tensor_offsets[a] + sg.tensors[b].nbytes <= p.arena):
                return a, b
    raise AssertionError("no overlapping pair found")


@pytest.mark.slow
def test_debug_mode_catches_a_corrupted_plan():
    path = tinyml_models.tflite_path("resnet8")
    model = read_model(path)
    good = plan(model, "best")
    a, b = _live_pair(model, good)
    offsets = dict(good.tensor_offsets)
    offsets[b] = offsets[a]  # b now overwrites a before a's last reader runs
    bad = dataclasses.replace(good, tensor_offsets=offsets)
    x = model_inputs(path, 1)
    with pytest.raises(RnnedgeError, match=r"overwrote tensor .* still to be read"):
        Runtime(compile_model(model, plan=bad), debug=True).invoke(x)
    # Without debug mode the same plan runs and silently corrupts the result.
    clean = Runtime(compile_model(model, plan=good)).invoke(x)[0]
    dirty = Runtime(compile_model(model, plan=bad)).invoke(x)[0]
    assert not np.array_equal(clean, dirty)


def test_debug_mode_catches_a_write_past_the_arena():
    path = tinyml_models.tflite_path("autoencoder")
    program = compile_model(path, "best")
    overrun = structs.ReshapeParams(size=program.arena)  # copies 16 bytes too many
    step = program.steps[-1]
    calls = step.calls + (Call("rn_reshape", overrun, (Ref("arena", 0, 16),
                                                        Ref("arena", 16, 16))),)
    broken = dataclasses.replace(program, steps=program.steps[:-1] + (
        dataclasses.replace(step, calls=calls),))
    with pytest.raises(RnnedgeError, match=rf"{step.name}: wrote past the arena"):
        Runtime(broken, debug=True).invoke(model_inputs(path, 1)[0][None])


def test_plan_outside_the_arena_is_refused():
    model = read_model(tinyml_models.tflite_path("autoencoder"))
    good = plan(model, "best")
    t = model.main.outputs[0]
    bad = dataclasses.replace(good, tensor_offsets={**good.tensor_offsets, t: good.arena - 1})
    with pytest.raises(RnnedgeError, match="outside the .*arena"):
        compile_model(model, plan=bad)


def test_counters_report_macs_of_every_step():
    path = tinyml_models.tflite_path("ds_cnn")
    runtime = Runtime(compile_model(path, "best"))
    runtime.invoke(model_inputs(path, 1)[0][None])
    sg = runtime.program.model.main
    counters = runtime.counters()
    assert len(counters) == len(runtime.program.steps)
    for c in counters:
        assert c["macs"] == sum(_hand_macs(sg, sg.operators[i]) for i in c["ops"]), c
        if any(sg.operators[i].opcode == "CONV_2D" for i in c["ops"]):
            assert c["time_ns"] > 0, c  # a conv step takes measurable time
    kinds = {sg.operators[i].opcode for c in counters for i in c["ops"]}
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED"} <= kinds


def _hand_macs(sg, op):
    """The paper's eq. 17 written out for DS-CNN's ops (independent of rnnedge.op_table):
    a conv is (k_h*k_w*C_in*C_out + C_out)*H*W, a depthwise conv (k_h*k_w + 1)*C*H*W, a fully
    connected layer (in + 1)*out, an average pool one addition per input element, and
    activations, SOFTMAX and reshapes nothing."""
    shape = lambda t: sg.tensors[t].shape
    out = shape(op.outputs[0])
    if op.opcode == "CONV_2D":
        cout, kh, kw, cin = shape(op.inputs[1])
        return (kh * kw * cin * cout + cout) * out[1] * out[2]
    if op.opcode == "DEPTHWISE_CONV_2D":
        _, kh, kw, c = shape(op.inputs[1])
        return (kh * kw + 1) * c * out[1] * out[2]
    if op.opcode == "FULLY_CONNECTED":
        units, depth = shape(op.inputs[1])
        return (depth + 1) * units
    if op.opcode == "AVERAGE_POOL_2D":
        n, h, w, c = shape(op.inputs[0])
        assert (op.options["filter_height"], op.options["filter_width"]) == (h, w)  # global
        return n * h * w * c
    return 0


def test_arena_is_one_buffer_of_the_planned_size():
    path = tinyml_models.tflite_path("mobilenet_v1_025")
    model = read_model(path)
    runtime = Runtime(compile_model(model, "inplace"))
    assert runtime.arena.nbytes == plan(model, "inplace").arena
    for view in runtime.inputs + runtime.outputs:
        assert np.shares_memory(view, runtime.arena)


@pytest.fixture(scope="module")
def unsupported_model(tmp_path_factory):
    """An int8 model with NEG, an op the C kernels do not implement (TFLM's NEG is float32
    only, so TF's converter keeps it float between DEQUANTIZE and QUANTIZE)."""
    import tensorflow as tf

    inp = tf.keras.Input((8,))
    out = tf.keras.layers.Lambda(tf.math.negative)(tf.keras.layers.Dense(4)(inp))
    path = tmp_path_factory.mktemp("neg") / "neg.tflite"
    path.write_bytes(tinyml_models.to_int8_tflite(tf.keras.Model(inp, out)))
    return str(path)


@pytest.mark.slow
def test_unsupported_op_is_named(unsupported_model):
    with pytest.raises(RnnedgeError, match=r"^op \d+ NEG: no C kernel implements"):
        compile_model(unsupported_model)


@pytest.mark.slow
def test_cli_errors_exit_2_with_one_line(unsupported_model, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 8), np.int8))
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(open(tinyml_models.tflite_path("ds_cnn"), "rb").read()[:3000])
    cases = [[unsupported_model, "--input", str(x)], [str(truncated), "--input", str(x)],
             [unsupported_model, "--input", str(tmp_path / "missing.npy")]]
    for args in cases:
        result = CliRunner().invoke(main, ["run", *args])
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2, result.output
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    result = CliRunner().invoke(main, ["firmware", unsupported_model, "-o", str(tmp_path / "fw")])
    assert result.exit_code == 2 and "NEG" in result.stderr
    assert not (tmp_path / "fw").exists()
    # The real process exits with status 2 too.
    proc = subprocess.run([sys.executable, "-m", "rnnedge", "run", unsupported_model, "--input",
                           str(x)], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_wrong_input_shape_is_refused():
    path = tinyml_models.tflite_path("autoencoder")
    with pytest.raises(RnnedgeError, match="must have shape"):
        make_backend("c", path)(np.zeros((2, 3), np.int8))



@pytest.mark.slow
@pytest.mark.parametrize("cell", ["tanh", "relu", "gru", "lstm"])
def test_sws_birnn_cells_run_in_place_bit_exact(tmp_path, cell):
    """A small SWS-BiRNN of each cell, exported by rnnedge, runs in its inplace layout (with
    and without best's fallback) with TFLM's output bytes in debug mode; tanh/relu passes
    use the slice rules (split_view, concat_run) that let each step overwrite its input."""
    import torch

    from rnnedge.export.pipeline import export_int8
    from rnnedge.layers import SWSBiRNN

    torch.manual_seed(0)
    path = str(tmp_path / f"sws-{cell}.tflite")
    export_int8(SWSBiRNN(4, 6, 5, cell).eval(),
                {"input_shape": [4, 6, 7], "normalization": {"mean": [0.5], "std": [0.25]}},
                path, calib_samples=16, check_samples=4)
    x = model_inputs(path, 3)
    expected = make_backend("tflm", path)(x)[0]
    for planner in ("inplace", "inplace-raw"):
        program = compile_with(path, planner)
        runtime = Runtime(program, debug=True)
        got = np.stack([runtime.invoke(s[None])[0] for s in x]).reshape(expected.shape)
        assert np.array_equal(got, expected), (cell, planner)
        if planner == "inplace-raw":    # "inplace" may fall back to best's plan (it does for GRU)
            fired = {r["rule"] for r in program.plan.rules}
            assert "split_view" in fired
            if cell in ("tanh", "relu"):
                assert {"concat_run", "fused_residual_add"} <= fired


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["stacked", "pairs"])
def test_other_sws_birnn_layouts_run_bit_exact_on_the_c_kernels(tmp_path, layout):
    """The "stacked" and "pairs" layouts of a WS-BiRNN pass (rnnedge.layers.static) run on
    the C kernels with TFLM's output bytes under every planner, in-place rules included."""
    import torch

    from rnnedge.export.pipeline import export_int8
    from rnnedge.layers import SWSBiRNN

    torch.manual_seed(0)
    path = str(tmp_path / f"sws-{layout}.tflite")
    export_int8(SWSBiRNN(4, 6, 5, layout=layout).eval(),
                {"input_shape": [4, 6, 7], "normalization": {"mean": [0.5], "std": [0.25]}},
                path, calib_samples=16, check_samples=4)
    assert_c_equals_tflm(path, layout)
