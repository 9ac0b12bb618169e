"""Generated C firmware: builds with cc -Wall -Wextra -Werror (and with ASan + UBSan), and
its output bytes equal TFLM's; cross-builds for Cortex-M55/M4 report section sizes, and the
M55 build under QEMU (mps3-an547) gives the same bytes, when the Arm tools are installed."""

import json

import pytest
from click.testing import CliRunner

from rnnedge import tinyml_models
from rnnedge.cli import main
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim import codegen, toolchain
from rnnedge.firmware_sim.backends import make_backend
from rnnedge.kernels import build, cflags
from helpers import compile_with, export_zoo_model, model_inputs, ops_model

CASES = [("resnet8", "inplace"), ("resnet8", "inplace-norows"), ("unet", "best"),
         ("ds_cnn", "inplace"), ("cifar-resnet18-rnn", "inplace-raw"), ("ops", "inplace")]


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    """{(model, planner): (firmware dir, input bytes, TFLM output bytes, program)}."""
    out = {}
    for name, planner in CASES:
        path = (export_zoo_model(tmp_path_factory, name) if name == "cifar-resnet18-rnn" else
                ops_model(tmp_path_factory) if name == "ops" else tinyml_models.tflite_path(name))
        program = compile_with(path, planner)
        directory = tmp_path_factory.mktemp(f"fw-{name}-{planner}")
        codegen.write_firmware(program, directory)
        x = model_inputs(path, 2, seed=3)
        expected = make_backend("tflm", path)(x)[0]
        out[(name, planner)] = (directory, x.tobytes(), expected.tobytes(), program)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{m}-{p}" for m, p in CASES])
def test_host_firmware_matches_tflm(firmware, case):
    directory, data, expected, _ = firmware[case]
    executable = toolchain.build_host(directory)  # -std=c99 -Wall -Wextra -Werror
    assert toolchain.run_host(executable, data) == expected


@pytest.mark.slow
def test_firmware_under_sanitizers(firmware):
    try:
        build.asan_runtime()
    except RnnedgeError as exc:
        pytest.skip(str(exc))
    directory, data, expected, _ = firmware[("cifar-resnet18-rnn", "inplace-raw")]
    executable = toolchain.build_host(directory, output="firmware-asan",
                                      extra_flags=cflags.SANITIZE)
    assert toolchain.run_host(executable, data) == expected


def test_partial_sample_is_refused(firmware):
    directory, data, _, _ = firmware[("ds_cnn", "inplace")]
    executable = toolchain.build_host(directory)
    with pytest.raises(RnnedgeError, match="not a whole number of samples"):
        toolchain.run_host(executable, data[:-1])


def test_generated_c_holds_the_plan(firmware):
    directory, _, _, program = firmware[("resnet8", "inplace")]
    model_c = (directory / "model.c").read_text()
    assert f"int8_t bytes[{program.arena}]" in model_c
    assert program.scratch == 0 and "rn_scratch" not in model_c  # rows are in the arena
    assert model_c.count("static const int8_t w") >= 9  # conv + FC filters, as const arrays
    assert "malloc" not in model_c


def test_plan_without_row_buffers_gets_a_row_scratch(firmware):
    """A plan that reserves no row for a fused conv + ADD (hand-made) still compiles: the
    rows go to a free arena gap or to a separate static scratch of one row."""
    directory, _, _, program = firmware[("resnet8", "inplace-norows")]
    model_c = (directory / "model.c").read_text()
    assert program.scratch == 16 * 32  # one 16x32 output row of resnet8's widest fused conv
    assert f"int8_t bytes[{program.scratch}]" in model_c


arm = pytest.mark.skipif(not toolchain.arm_tools()["cc"], reason="arm-none-eabi-gcc is not "
                         "installed (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")


@arm
@pytest.mark.slow
def test_cortex_m_builds_report_sections(firmware):
    directory, _, _, program = firmware[("resnet8", "inplace")]
    for cpu in ("m55", "m4"):
        sizes = toolchain.section_sizes(toolchain.build_arm(directory, cpu))
        assert sizes[".bss"] >= program.arena + program.scratch
        assert sizes[".rodata"] >= program.flash_bytes
        assert sizes[".text"] > 0


@arm
@pytest.mark.slow
@pytest.mark.skipif(not toolchain.arm_tools()["qemu"], reason="qemu-system-arm is not "
                    "installed (apt-get install qemu-system-arm)")
@pytest.mark.parametrize("case", [("resnet8", "inplace"), ("cifar-resnet18-rnn", "inplace-raw"),
                                  ("ops", "inplace")], ids=["resnet8", "cifar-resnet18-rnn",
                                                            "ops"])
def test_cortex_m55_under_qemu_matches_host(firmware, case):
    directory, data, expected, _ = firmware[case]
    elf = toolchain.build_arm(directory, "m55")
    assert toolchain.run_qemu(elf, data) == expected


@pytest.mark.slow
def test_firmware_cli(tmp_path):
    path = tinyml_models.tflite_path("autoencoder")
    out = tmp_path / "fw"
    result = CliRunner().invoke(main, ["firmware", path, "-o", str(out), "--planner", "inplace",
                                       "--build", "host", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    program = compile_with(path, "inplace")
    assert report["arena_bytes"] == program.arena and report["steps"] == len(program.steps)
    assert (out / "Makefile").exists() and (out / "firmware").exists()
    x = model_inputs(path, 3)
    assert toolchain.run_host(out / "firmware", x.tobytes()) == \
        make_backend("tflm", path)(x)[0].tobytes()
