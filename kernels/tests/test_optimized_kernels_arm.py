"""The optimised kernels' Cortex-M paths (Helium on the M55, SMLAD on the M4/M7) give the
host reference kernels' bytes on random and edge-case params under QEMU.

The cases are test_optimized_kernels.py's generators (saturated and all-zero data, offsets
far outside int8 zero points, extreme multipliers and shifts, groups, dilation, padding
wider than the filter, odd lengths that end in a predicated Helium tail or a scalar DSP
tail, depth multipliers), written into one C program per CPU (the params as the firmware
emits them: codegen's initialisers) that runs the optimised CONV_2D / DEPTHWISE_CONV_2D /
FULLY_CONNECTED on each (plus the DSP depthwise path's channel, tap-count and offset edges)
and writes every return code and output byte; the expected bytes are
the host's reference kernels' (ctypes). The M4/M7 builds run on mps3-an547's Cortex-M55,
which executes their Armv7E-M instructions. Also checks that the compiler really emits
VMLADAVA / SMLAD (depthwise on the M4/M7: SMLABB / SMLATT) for the optimised files and not
for the reference ones.
"""

import subprocess

import numpy as np
import pytest

from rnnedge import kernels
from rnnedge.firmware_sim import codegen, toolchain
from rnnedge.kernels import build, cflags
from rnnedge.kernels import structs as S
from test_optimized_kernels import _activation, _bias, _conv_case, _i8, _mode, _offset, \
    _ptr, _rescale

TOOLS = toolchain.arm_tools()
needs_cc = pytest.mark.skipif(not TOOLS["cc"], reason="arm-none-eabi-gcc is not installed "
                              "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
needs_qemu = pytest.mark.skipif(not (TOOLS["cc"] and TOOLS["qemu"]), reason="arm-none-eabi-gcc "
                                "or qemu-system-arm is not installed")
MAX_ELEMENTS = 6000  # keeps the generated C small


def _assembly(path, cpu) -> str:
    proc = subprocess.run([toolchain.ARM_CC, *cflags.COMMON, *cflags.ARM, *cflags.CPU[cpu],
                           f"-I{build.KERNEL_DIR}", "-S", "-o", "-", str(path)],
                          capture_output=True, text=True, check=True)
    return proc.stdout


@needs_cc
@pytest.mark.parametrize("cpu,instruction", [("m55", "vmladava"), ("m4", "smlad"),
                                             ("m7", "smlad")])
def test_hot_kernels_use_helium_or_smlad(cpu, instruction):
    for name in ("conv_2d.c", "fully_connected.c"):
        assert instruction in _assembly(build.OPTIMIZED_DIR / name, cpu), name
        assert instruction not in _assembly(build.KERNEL_DIR / name, cpu), name
    depthwise = _assembly(build.OPTIMIZED_DIR / "depthwise_conv_2d.c", cpu)
    if cpu == "m55":  # depthwise: 32-bit lanes, VMUL + VADD
        assert "vmul.i32" in depthwise
    else:  # depthwise: one channel per SMLABB / SMLATT (16-bit halves)
        reference = _assembly(build.KERNEL_DIR / "depthwise_conv_2d.c", cpu)
        for mac in ("smlabb", "smlatt"):
            assert mac in depthwise and mac not in reference, mac


def _cases(rng):
    """[(entry, params struct, [input arrays or None], output shape)]."""
    out = []
    while len(out) < 90:
        kind = len(out) % 3
        if kind < 2:
            depthwise = kind == 1
            g, depth, ic, oc = _conv_case(rng, depthwise)
            x = _i8(rng, (g["batches"], g["input_height"], g["input_width"], ic), _mode(rng))
            fshape = (1, g["filter_height"], g["filter_width"], oc) if depthwise else \
                (oc, g["filter_height"], g["filter_width"], depth["filter_input_depth"])
            f = _i8(rng, fshape, _mode(rng))
            out_shape = (g["batches"], g["output_height"], g["output_width"], oc)
            if max(x.size, f.size, int(np.prod(out_shape))) > MAX_ELEMENTS:
                continue
            mult, shift = _rescale(rng, oc)
            lo, hi = _activation(rng)
            struct = S.DepthwiseConv2DParams if depthwise else S.Conv2DParams
            params = struct(**g, **depth, output_depth=oc, input_offset=_offset(rng),
                            output_offset=int(rng.integers(-128, 128)), activation_min=lo,
                            activation_max=hi, output_multiplier=_ptr(mult, S.P_I32),
                            output_shift=_ptr(shift, S.P_I32))
            entry = "rn_depthwise_conv_2d" if depthwise else "rn_conv_2d"
        else:
            batches, depth, oc = int(rng.integers(1, 4)), int(rng.integers(1, 300)), \
                int(rng.integers(1, 13))
            x, f = _i8(rng, (batches, depth), _mode(rng)), _i8(rng, (oc, depth), _mode(rng))
            mult, shift = _rescale(rng, oc)
            lo, hi = _activation(rng)
            params = S.FullyConnectedParams(
                batches=batches, accum_depth=depth, output_depth=oc, input_offset=_offset(rng),
                filter_offset=_offset(rng), output_offset=int(rng.integers(-128, 128)),
                activation_min=lo, activation_max=hi, per_channel=int(rng.random() < 0.5),
                output_multiplier=_ptr(mult, S.P_I32), output_shift=_ptr(shift, S.P_I32))
            entry, out_shape = "rn_fully_connected", (batches, oc)
        params._keep = (mult, shift)  # the arrays the pointers point into
        out.append((entry, params, [x, f, _bias(rng, out_shape[-1])], out_shape))
    return out + _dsp_depthwise_cases(rng)


def _dsp_depthwise_cases(rng):
    """Depth multiplier 1 edges of the DSP depthwise path: channel counts 4k + 0..3 and
    past the 64-channel block, odd and even tap counts (1x1, 3x3, 2x5), the narrow-offset
    limits -128 / 128 and the first wide offsets, saturated data."""
    out = []
    for i, (ic, fh, fw, offset, mode) in enumerate([
            (1, 1, 1, 128, "min"), (2, 3, 3, -128, "max"), (3, 3, 3, 128, "max"),
            (4, 2, 5, -128, "min"), (7, 3, 3, 129, "random"), (67, 3, 3, -129, "random"),
            (70, 3, 3, 5, "random"), (8, 5, 1, -128, "max")]):
        h, w, pad = 5, 6, i % 2
        oh, ow = h + 2 * pad - fh + 1, w + 2 * pad - fw + 1
        g = dict(batches=1, input_height=h, input_width=w, filter_height=fh, filter_width=fw,
                 output_height=oh, output_width=ow, stride_height=1, stride_width=1,
                 dilation_height=1, dilation_width=1, pad_height=pad, pad_width=pad)
        x, f = _i8(rng, (1, h, w, ic), mode), _i8(rng, (1, fh, fw, ic), mode)
        mult, shift = _rescale(rng, ic)
        params = S.DepthwiseConv2DParams(
            **g, input_depth=ic, depth_multiplier=1, output_depth=ic, input_offset=offset,
            output_offset=int(rng.integers(-128, 128)), activation_min=-128,
            activation_max=127, output_multiplier=_ptr(mult, S.P_I32),
            output_shift=_ptr(shift, S.P_I32))
        params._keep = (mult, shift)
        out.append(("rn_depthwise_conv_2d", params, [x, f, _bias(rng, ic)], (1, oh, ow, ic)))
    return out


def _expected(cases) -> bytes:
    """Each case's return code (one byte) and output bytes, from the host reference kernels."""
    lib = kernels.load(kernels="reference")
    blob = b""
    for entry, params, (x, f, bias), shape in cases:
        out = np.full(shape, 0x5A, np.int8)
        rc = getattr(lib, entry)(params, _ptr(x), _ptr(f), _ptr(bias, S.P_I32), _ptr(out))
        blob += bytes([rc & 0xFF]) + out.tobytes()
    return blob


def _harness(cases) -> str:
    """main.c of a program that runs every case and writes what _expected describes."""
    em = codegen._Emitter(program=None, kernels="optimized")
    arrays, calls, largest = [], [], max(int(np.prod(c[3])) for c in cases)
    for i, (entry, params, (x, f, bias), shape) in enumerate(cases):
        p = em.params(entry, params)
        for name, a, ctype in (("x", x, "int8_t"), ("f", f, "int8_t"), ("b", bias, "int32_t")):
            if a is not None:
                arrays.append(f"static const {ctype} {name}{i}[] = "
                              f"{codegen._array_text(a.reshape(-1).tolist())};")
        n, b = int(np.prod(shape)), f"b{i}" if bias is not None else "NULL"
        calls.append(f"  memset(out, 0x5A, {n});\n"
                     f"  rc = (int8_t){entry}(&{p}, x{i}, f{i}, {b}, out);\n"
                     f"  fwrite(&rc, 1, 1, file);\n  fwrite(out, 1, {n}, file);")
    return "\n".join([
        "#include <stdio.h>", "#include <string.h>",
        '#include "kernels/include/rnnedge_kernels.h"',
        *em.decls, *arrays, f"static int8_t out[{largest}];",
        "int main(int argc, char **argv) {", "  int8_t rc;",
        "  FILE *file = fopen(argv[argc - 1], \"wb\");", "  if (file == NULL) return 2;",
        *calls, "  fclose(file);", "  return 0;", "}", ""])


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    """(directory holding the harness firmware, expected bytes)."""
    cases = _cases(np.random.default_rng(55))
    directory = tmp_path_factory.mktemp("arm-harness")
    (directory / "kernels" / "include").mkdir(parents=True)
    for path in build.optimized_sources():
        if path.name in ("conv_2d.c", "depthwise_conv_2d.c", "fully_connected.c"):
            (directory / "kernels" / path.name).write_text(path.read_text())
    for path in build.headers():
        (directory / "kernels" / "include" / path.name).write_text(path.read_text())
    for name in ("startup_cortex_m.c", "cortex_m.ld"):
        (directory / name).write_text((codegen.TEMPLATES / name).read_text())
    (directory / "main.c").write_text(_harness(cases))
    (directory / "model.c").write_text("/* the harness calls the kernels itself */\n"
                                       "typedef int rn_no_model;\n")
    return directory, _expected(cases)


@needs_qemu
@pytest.mark.slow
@pytest.mark.parametrize("cpu", ["m55", "m4", "m7"])
def test_arm_paths_give_the_reference_bytes(harness, cpu):
    directory, expected = harness
    got = toolchain.run_qemu(toolchain.build_arm(directory, cpu), b"")
    assert len(got) == len(expected)
    diff = np.flatnonzero(np.frombuffer(got, np.uint8) != np.frombuffer(expected, np.uint8))
    assert diff.size == 0, f"{cpu}: {diff.size} bytes differ, first at {diff[0]}"
