"""Cortex-M firmware under QEMU: instructions per inference (firmware_sim/instructions.py)
checked against a loop of known instruction count, and the Helium (M55) / SMLAD (M4, M7)
builds of a conv model give TFLM's bytes in fewer instructions than the reference kernels."""

import pytest

from rnnedge import tinyml_models
from rnnedge.firmware_sim import codegen, instructions, toolchain
from rnnedge.firmware_sim.backends import make_backend
from helpers import compile_with, model_inputs

TOOLS = toolchain.arm_tools()
pytestmark = pytest.mark.skipif(not (TOOLS["cc"] and TOOLS["qemu"]), reason="arm-none-eabi-gcc "
                                "or qemu-system-arm is not installed (apt-get install "
                                "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)")
LOOP = 4_000_000  # iterations per unit of the input byte; 2 instructions each (SUBS, BNE)
# A stand-in model.c whose "inference" is that loop: 2 * LOOP * input[0] instructions.
LOOP_MODEL = f"""#include "model.h"
static int8_t rn_in[4], rn_out[4];
const int8_t *(*rn_input_source)(size_t offset, size_t bytes);
void *rn_model_input(int i) {{ (void)i; return rn_in; }}
size_t rn_model_input_bytes(int i) {{ (void)i; return sizeof rn_in; }}
const void *rn_model_output(int i) {{ (void)i; return rn_out; }}
size_t rn_model_output_bytes(int i) {{ (void)i; return sizeof rn_out; }}
void rn_model_reset(void) {{}}
int rn_model_invoke(void) {{
  uint32_t n = (uint32_t)rn_in[0] * {LOOP}u;
  __asm__ volatile("1: subs %0, %0, #1\\n\\tbne 1b" : "+r"(n) : : "cc");
  rn_out[0] = rn_in[0];
  return 0;
}}
"""


@pytest.fixture(scope="module")
def loop_elf(tmp_path_factory):
    directory = tmp_path_factory.mktemp("loop")
    for name in ("main.c", "startup_cortex_m.c", "cortex_m.ld"):
        (directory / name).write_text((codegen.TEMPLATES / name).read_text())
    (directory / "model.h").write_text(codegen._template(
        "model.h", ARENA_BYTES=0, SCRATCH_BYTES=0, INPUTS=1, OUTPUTS=1))
    (directory / "model.c").write_text(LOOP_MODEL)
    return instructions.build_counting(directory, "m55")


@pytest.mark.slow
def test_instruction_count_of_a_loop_of_known_length(loop_elf):
    counts = {}
    for units in (1, 3, 68):  # 68: 544M instructions, past the 24-bit SysTick's wrap
        got = instructions.count_instructions(loop_elf, bytes([units, 0, 0, 0]))
        assert got["output"] == bytes([units, 0, 0, 0]) and got["samples"] == 1
        counts[units] = got["instructions_per_inference"]
        # the loop, plus the call and the timer reads: under 100 instructions; one SysTick
        # tick (31.25 instructions) of resolution
        assert 0 <= counts[units] - 2 * LOOP * units < 100, (units, counts[units])
    assert abs((counts[3] - counts[1]) - 2 * 2 * LOOP) <= 32
    two = instructions.count_instructions(loop_elf, bytes([1, 0, 0, 0]) * 2)
    assert two["samples"] == 2 and abs(two["instructions_per_inference"] - counts[1]) <= 32


@pytest.mark.slow
def test_helium_and_smlad_builds_give_tflm_bytes_in_fewer_instructions(tmp_path):
    path = tinyml_models.tflite_path("resnet8")  # conv-heavy
    program = compile_with(path, "inplace")
    x = model_inputs(path, 1, seed=7)
    expected = make_backend("tflm", path)(x)[0].tobytes()
    counts = {}
    for kernels in ("reference", "optimized"):
        directory = tmp_path / kernels
        codegen.write_firmware(program, directory, kernels)
        for cpu in ("m55", "m4"):
            got = instructions.count_instructions(instructions.build_counting(directory, cpu),
                                                  x.tobytes())
            assert got["output"] == expected, (kernels, cpu)
            counts[kernels, cpu] = got["instructions_per_inference"]
        if kernels == "optimized":  # the M7 build's bytes (its count is the M4's stream)
            assert toolchain.run_qemu(toolchain.build_arm(directory, "m7"), x.tobytes()) == \
                expected
    macs = sum(s.macs or 0 for s in program.steps)
    for cpu in ("m55", "m4"):
        assert counts["reference", cpu] > macs  # at least one instruction per MAC
        assert counts["optimized", cpu] < counts["reference", cpu] / 2, counts
    assert counts["optimized", "m55"] < counts["optimized", "m4"]  # 8 lanes vs 2
