"""firmware_sim and `rnnedge firmware` run the fused planner's plans (row-fused regions, a
streamed input) with TFLM's output bytes: the host runtime in debug mode (arena poisoned
before every inference, guard bytes and the CRC of every live tensor checked after every
step), the generated C under ASan/UBSan and, built for Cortex-M55, under QEMU, and the
CLI. The reference is tflite-micro's own interpreter on the same file
(make_backend("tflm"))."""

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge.cli import main
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim import codegen, toolchain
from rnnedge.firmware_sim.backends import make_backend
from rnnedge.firmware_sim.compiler import compile_model
from rnnedge.firmware_sim.runtime import Runtime
from rnnedge.kernels import cflags
from rnnedge.tflite import read_model
from helpers import export_zoo_model, model_inputs, small_export

DET = {"det-cnn-256": (3, 64, 64), "det-crnn-256": (3, 64, 64),
       "det-cnn-480x640": (3, 64, 96), "det-crnn-480x640": (3, 64, 96)}


def mobilenet_v2_96(tmp_path_factory) -> str:
    """Keras MobileNetV2 (alpha 0.35) at 96x96 without its classifier, full int8: inverted
    residuals with depthwise convs, ReLU6 and explicit PADs before the stride-2 ones."""
    path = tmp_path_factory.getbasetemp() / "mobilenet_v2_96.tflite"
    if not path.exists():
        tf = pytest.importorskip("tensorflow", reason="tensorflow (TFLiteConverter) is not "
                                 "installed")
        from rnnedge import tinyml_models

        tf.keras.utils.set_random_seed(0)
        model = tf.keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35,
                                                  weights=None, include_top=False,
                                                  pooling="avg")
        path.write_bytes(tinyml_models.to_int8_tflite(model, samples=4))
    return str(path)


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """{name: .tflite}: the detectors at small inputs, a CIFAR export, MobileNetV2 at 96."""
    out = {name: small_export(tmp_path_factory, name, shape) for name, shape in DET.items()}
    out["cifar-resnet18-thin"] = export_zoo_model(tmp_path_factory, "cifar-resnet18-thin")
    out["mobilenet_v2_96"] = mobilenet_v2_96(tmp_path_factory)
    return out


@pytest.fixture(scope="module")
def references(paths):
    """{name: (inputs, TFLM's outputs)}."""
    out = {}
    for name, path in paths.items():
        x = model_inputs(path, 2, seed=3)
        out[name] = (x, make_backend("tflm", path)(x))
    return out


def run_debug(program, x) -> list:
    """Every output of `program` for each sample of `x`, in debug mode."""
    runtime = Runtime(program, debug=True)
    results = [runtime.invoke(sample[None]) for sample in x]
    return [np.concatenate([r[i] for r in results]) for i in range(len(results[0]))]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("name", sorted(DET) + ["cifar-resnet18-thin", "mobilenet_v2_96"])
def test_fused_program_bit_exact_with_tflm(paths, references, name, stream):
    program = compile_model(paths[name], "fused", stream_input=stream)
    inplace = compile_model(paths[name], "inplace")
    assert program.arena <= inplace.arena
    assert program.inputs[0].streamed == any(r.streamed is not None
                                             for r in program.plan.regions)
    if stream or name.startswith(("det-cnn", "mobilenet")):
        assert program.plan.regions  # something runs row by row
    x, expected = references[name]
    got = run_debug(program, x)
    assert all(np.array_equal(g, e) for g, e in zip(got, expected))


def test_mobilenet_v2_fused_is_far_below_inplace(paths):
    fused = compile_model(paths["mobilenet_v2_96"], "fused")
    streamed = compile_model(paths["mobilenet_v2_96"], "fused", stream_input=True)
    inplace = compile_model(paths["mobilenet_v2_96"], "inplace")
    assert fused.arena < 0.5 * inplace.arena and streamed.arena < fused.arena
    opcodes = {read_model(paths["mobilenet_v2_96"]).main.operators[ro.ops[-1]].opcode
               for r in fused.plan.regions for ro in r.row_ops}
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD"} <= opcodes
    inplace_dw = [r for r in fused.plan.regions if r.copied is not None]
    assert inplace_dw and len(inplace_dw) == sum(
        rule["rule"] == "inplace_depthwise" for rule in fused.plan.rules)
    for r in inplace_dw:  # the output really is over the input
        assert fused.placement[r.copied][0] == fused.placement[r.row_ops[0].output][0]


def test_an_unsafe_inplace_depthwise_is_refused(paths):
    model = read_model(paths["mobilenet_v2_96"])
    good = compile_model(model, "fused").plan
    region = next(r for r in good.regions if r.copied is not None and r.row_ops[0].stride == 1)
    y = region.row_ops[0].output
    offsets = dict(good.tensor_offsets)
    ahead = 2 * region.row_bytes[region.copied]  # output row 0 over input row 2, not fetched
    offsets[y] = offsets[region.copied] + ahead
    bad = dataclasses.replace(good, tensor_offsets=offsets, arena=good.arena + ahead)
    with pytest.raises(RnnedgeError, match="overwrites input row"):
        compile_model(model, plan=bad)


def test_a_window_too_small_is_refused(paths):
    model = read_model(paths["det-cnn-256"])
    program = compile_model(model, "fused")
    region = program.plan.regions[0]
    t = max(region.windows, key=lambda u: region.windows[u])
    small = dataclasses.replace(region, windows={**region.windows, t: region.windows[t] - 1})
    plan = dataclasses.replace(program.plan, regions=(small,) + program.plan.regions[1:])
    with pytest.raises(RnnedgeError, match="outside its window"):
        compile_model(model, plan=plan)


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True])
def test_generated_c_runs_the_fused_plan_under_sanitizers(paths, references, tmp_path, stream):
    program = compile_model(paths["det-cnn-256"], "fused", stream_input=stream)
    codegen.write_firmware(program, tmp_path / "fw")
    text = (tmp_path / "fw" / "model.c").read_text()
    assert ("rn_input_source(" in text) == stream
    x, expected = references["det-cnn-256"]
    executable = toolchain.build_host(tmp_path / "fw", extra_flags=cflags.SANITIZE)
    assert toolchain.run_host(executable, x.tobytes()) == b"".join(
        e[i:i + 1].tobytes() for i in range(len(x)) for e in expected)


@pytest.mark.slow
@pytest.mark.skipif(not all(toolchain.arm_tools().values()), reason="the Arm tools are not "
                    "installed (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                    "qemu-system-arm)")
@pytest.mark.parametrize("stream,recompute", [(False, 0.0), (True, 0.0), (False, 0.1)])
def test_cortex_m55_runs_the_fused_plan_under_qemu(paths, references, tmp_path, stream,
                                                   recompute):
    """The CRNN's fused plan (row-fused backbone regions, the SWS-BiRNN heads with per-span
    lifetimes and early direction sums; streamed: input rows through rn_input_source; with
    a 10% recompute budget: a region run as column tiles) built for Cortex-M55 and run on
    QEMU's mps3-an547 gives TFLM's output bytes."""
    program = compile_model(paths["det-crnn-256"], "fused", stream_input=stream,
                            max_recompute=recompute)
    assert program.plan.regions and any(b.spans for b in program.plan.buffers)
    assert any(r.tiles for r in program.plan.regions) == (recompute > 0)
    assert program.inputs[0].streamed == stream
    codegen.write_firmware(program, tmp_path / "fw")
    x, expected = references["det-crnn-256"]
    elf = toolchain.build_arm(tmp_path / "fw", "m55")
    assert toolchain.run_qemu(elf, x.tobytes()) == b"".join(
        e[i:i + 1].tobytes() for i in range(len(x)) for e in expected)


def test_cli_run_and_arena_with_the_fused_planner(paths, references, tmp_path):
    x, expected = references["det-cnn-256"]
    np.save(tmp_path / "x.npy", x)
    runner = CliRunner()
    result = runner.invoke(main, ["run", paths["det-cnn-256"], "--input", str(tmp_path / "x.npy"),
                                  "--planner", "fused", "--stream-input", "--debug",
                                  "--output", str(tmp_path / "y.npz"), "--json"])
    assert result.exit_code == 0, result.output
    got = np.load(tmp_path / "y.npz")
    assert all(np.array_equal(got[k], e) for k, e in zip(sorted(got.files), expected))
    report = json.loads(runner.invoke(main, ["arena", paths["det-cnn-256"], "--planner",
                                             "fused", "--stream-input", "--json"]).output)
    fused = report["fused"]
    assert report["arena"]["fused"] < report["arena"]["inplace"]
    assert fused["stream_input_arena"] < report["arena"]["fused"]
    assert fused["recompute_macs"] == 0 and fused["regions"]
    assert report["total_memory"] == report["weight_bytes"] + report["arena"]["fused"]
    bad = runner.invoke(main, ["run", paths["det-cnn-256"], "--input", str(tmp_path / "x.npy"),
                               "--stream-input"])
    assert bad.exit_code == 2 and "--stream-input needs" in bad.output
