"""The AVX-512 VNNI paths of the optimised CONV_2D, FULLY_CONNECTED and DEPTHWISE_CONV_2D
(kernels/include/rnnedge_optimized_vnni.h) give the reference kernels' bytes, and the
portable loops (the same sources built with -march=x86-64) do too.

The cases aim at what the VNNI path does differently from the portable loops: u8-shifted
activations with a per-channel correction (zero points -128 and 127, i.e. offsets 128 and
-127 at the ends of its range, and -128 just outside it), padded taps that must cancel that
correction (padding on every side, stride 2, dilation), 16-channel vectors and 64-channel
blocks (channel counts 1..130, not multiples of 16 or 64), filter lengths not multiples of 4
or 64, the longest filter it packs (3x3x256 = 2,304) and the first one it leaves to the
portable path (3x3x257), masked FULLY_CONNECTED tails and sums that wrap past 2^31. The
independent check is the reference kernels (each checked against TFLM by the op tests).
Also checks that the native build really contains vpdpbusd when the host has AVX-512 VNNI
and that the x86-64 build does not.
"""

import platform
import shutil
import subprocess

import numpy as np
import pytest

from rnnedge.kernels import build
from rnnedge.kernels import structs as S
from sanitizer_rerun import rerun_under_sanitizers
from test_optimized_kernels import _activation, _assert_same, _bias, _i8, _mode, _ptr, \
    _rescale, _run_both, libs  # noqa: F401 (libs is a fixture)

X86 = platform.machine() in ("x86_64", "AMD64")
ZERO_POINT_OFFSETS = (128, -127, -128, 0, 5)  # -zero point: the ends, just outside, typical


def _host_has_vnni() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_vnni" in flags and "avx512bw" in flags


def _out_size(size, k, stride, dilation, pad) -> int:
    """Output length of a convolution (TFLite's formula with explicit padding), at least 1."""
    return max(1, (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1)


def _conv_params(rng, h, w, ic, oc, k, stride, dilation, pad, offset):
    oh, ow = _out_size(h, k, stride, dilation, pad), _out_size(w, k, stride, dilation, pad)
    mult, shift = _rescale(rng, oc)
    lo, hi = _activation(rng)
    params = S.Conv2DParams(
        batches=1, input_height=h, input_width=w, filter_height=k, filter_width=k,
        output_height=oh, output_width=ow, stride_height=stride, stride_width=stride,
        dilation_height=dilation, dilation_width=dilation, pad_height=pad, pad_width=pad,
        input_depth=ic, filter_input_depth=ic, output_depth=oc, input_offset=offset,
        output_offset=int(rng.integers(-128, 128)), activation_min=lo, activation_max=hi,
        output_multiplier=_ptr(mult, S.P_I32), output_shift=_ptr(shift, S.P_I32))
    return params, (mult, shift), (1, oh, ow, oc)


def test_conv_vnni_blocks_and_zero_points_match_reference_bytes(libs):  # noqa: F811
    rng = np.random.default_rng(1964)
    shapes = [(1, 3), (3, 1), (16, 3), (17, 1), (31, 3), (64, 1), (65, 3), (130, 1), (8, 3)]
    for case, (oc, k) in enumerate(shapes * 4):
        ic = int(rng.choice([1, 3, 4, 5, 16, 27, 64, 67]))
        stride, dilation = int(rng.choice([1, 2])), int(rng.choice([1, 1, 2]))
        h, w = (int(v) for v in rng.integers(1, 10, size=2))
        pad = int(rng.integers(0, k * dilation + 1))
        offset = ZERO_POINT_OFFSETS[case % len(ZERO_POINT_OFFSETS)]
        params, keep, out_shape = _conv_params(rng, h, w, ic, oc, k, stride, dilation, pad,
                                               offset)
        x = _i8(rng, (1, h, w, ic), _mode(rng))
        f, bias = _i8(rng, (oc, k, k, ic), _mode(rng)), _bias(rng, oc)
        results = _run_both(libs, "rn_conv_2d", params, (_ptr(x), _ptr(f), _ptr(bias, S.P_I32)),
                            out_shape)
        assert results[0][0] == 0
        _assert_same(results, f"conv case {case}: oc {oc} k {k} ic {ic} s {stride} "
                              f"d {dilation} pad {pad} offset {offset}")


def test_depthwise_avx512_vectors_match_reference_bytes(libs):  # noqa: F811
    """Depth multiplier 1 (the AVX-512 path): 1..130 channels in 16-channel vectors and
    64-channel blocks with masked tails, any offset (the products wrap like the reference)."""
    rng = np.random.default_rng(6464)
    for case, ch in enumerate([1, 7, 16, 17, 33, 48, 64, 65, 100, 130] * 3):
        k, stride, dilation = int(rng.choice([1, 3, 5])), int(rng.choice([1, 2])), \
            int(rng.choice([1, 1, 2]))
        h, w = (int(v) for v in rng.integers(1, 9, size=2))
        pad = int(rng.integers(0, k * dilation + 1))
        oh, ow = _out_size(h, k, stride, dilation, pad), _out_size(w, k, stride, dilation, pad)
        offset = (ZERO_POINT_OFFSETS + (1 << 20, -2**31 + 7))[case % 7]
        mult, shift = _rescale(rng, ch)
        lo, hi = _activation(rng)
        params = S.DepthwiseConv2DParams(
            batches=1, input_height=h, input_width=w, filter_height=k, filter_width=k,
            output_height=oh, output_width=ow, stride_height=stride, stride_width=stride,
            dilation_height=dilation, dilation_width=dilation, pad_height=pad, pad_width=pad,
            input_depth=ch, depth_multiplier=1, output_depth=ch, input_offset=offset,
            output_offset=int(rng.integers(-128, 128)), activation_min=lo, activation_max=hi,
            output_multiplier=_ptr(mult, S.P_I32), output_shift=_ptr(shift, S.P_I32))
        x, f = _i8(rng, (1, h, w, ch), _mode(rng)), _i8(rng, (1, k, k, ch), _mode(rng))
        bias = _bias(rng, ch)
        if build.asan_preloaded() and abs(offset) > 128:
            continue  # the reference overflows a signed int32 there (undefined under UBSan)
        _assert_same(_run_both(libs, "rn_depthwise_conv_2d", params,
                               (_ptr(x), _ptr(f), _ptr(bias, S.P_I32)), (1, oh, ow, ch)),
                     f"depthwise case {case}: {ch} channels k {k} offset {offset}")


def test_pointwise_conv_matches_reference_bytes(libs):  # noqa: F811
    """1x1, stride 1, no padding (the VNNI path reads the input pixels as its columns when the
    depth is a multiple of 4): short last tiles, batches, every block width."""
    rng = np.random.default_rng(11)
    for case, (ic, oc) in enumerate([(4, 1), (8, 16), (16, 17), (32, 40), (64, 64), (12, 130),
                                     (256, 33), (6, 8)]):
        h, w = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        offset = ZERO_POINT_OFFSETS[case % len(ZERO_POINT_OFFSETS)]
        params, keep, out_shape = _conv_params(rng, h, w, ic, oc, 1, 1, 1, 0, offset)
        params.batches = 2
        out_shape = (2,) + out_shape[1:]
        x, f = _i8(rng, (2, h, w, ic), _mode(rng)), _i8(rng, (oc, 1, 1, ic), _mode(rng))
        bias = _bias(rng, oc)
        _assert_same(_run_both(libs, "rn_conv_2d", params, (_ptr(x), _ptr(f), _ptr(bias, S.P_I32)),
                               out_shape), f"pointwise case {case}: {h}x{w}x{ic} -> {oc}")


@pytest.mark.parametrize("ic", [256, 257], ids=["longest_packed", "one_past"])
def test_conv_longest_vnni_filter_matches_reference_bytes(libs, ic):  # noqa: F811
    rng = np.random.default_rng(ic)
    params, keep, out_shape = _conv_params(rng, 5, 4, ic, 70, 3, 1, 1, 1, 128)
    x, f = _i8(rng, (1, 5, 4, ic), "random"), _i8(rng, (70, 3, 3, ic), "random")
    bias = rng.integers(-(1 << 20), 1 << 20, size=70).astype(np.int32)
    _assert_same(_run_both(libs, "rn_conv_2d", params, (_ptr(x), _ptr(f), _ptr(bias, S.P_I32)),
                           out_shape), f"conv 3x3x{ic}")


def test_fully_connected_vnni_tails_match_reference_bytes(libs):  # noqa: F811
    rng = np.random.default_rng(4096)
    depths = [1, 3, 4, 63, 64, 65, 127, 200, 4095, 4096, 4097, 9000]
    for case, depth in enumerate(depths * 2):
        oc, batches = int(rng.integers(1, 10)), int(rng.integers(1, 3))
        offset = ZERO_POINT_OFFSETS[case % len(ZERO_POINT_OFFSETS)]
        mult, shift = _rescale(rng, oc)
        lo, hi = _activation(rng)
        params = S.FullyConnectedParams(
            batches=batches, accum_depth=depth, output_depth=oc, input_offset=offset,
            filter_offset=0, output_offset=int(rng.integers(-128, 128)), activation_min=lo,
            activation_max=hi, per_channel=int(case % 2), output_multiplier=_ptr(mult, S.P_I32),
            output_shift=_ptr(shift, S.P_I32))
        x, f = _i8(rng, (batches, depth), _mode(rng)), _i8(rng, (oc, depth), _mode(rng))
        bias = _bias(rng, oc)
        _assert_same(_run_both(libs, "rn_fully_connected", params,
                               (_ptr(x), _ptr(f), _ptr(bias, S.P_I32)), (batches, oc)),
                     f"fully_connected depth {depth} offset {offset}")


def test_fully_connected_vnni_sums_wrap_like_the_reference(libs):  # noqa: F811
    """70,000 terms of (127 + 128) * +-128: the int32 lanes wrap past 2^31 on the VNNI path
    (offset 128, filter offset 0) exactly as the reference's accumulator."""
    if build.asan_preloaded():
        pytest.skip("the reference kernels overflow a signed int32 here (undefined under UBSan)")
    depth, oc = 70_000, 5
    x, f = np.full((1, depth), 127, np.int8), np.full((oc, depth), -128, np.int8)
    f[1::2] = 127
    mult, shift = np.full(oc, 1 << 30, np.int32), np.full(oc, -20, np.int32)
    params = S.FullyConnectedParams(
        batches=1, accum_depth=depth, output_depth=oc, input_offset=128, filter_offset=0,
        output_offset=0, activation_min=-128, activation_max=127, per_channel=0,
        output_multiplier=_ptr(mult, S.P_I32), output_shift=_ptr(shift, S.P_I32))
    _assert_same(_run_both(libs, "rn_fully_connected", params, (_ptr(x), _ptr(f), None), (1, oc)),
                 "long fully_connected")
    true_sum = (f.astype(np.int64) * (x.astype(np.int64) + 128)).sum(axis=1)
    assert (np.abs(true_sum) > 2**31 - 1).all()


@pytest.mark.skipif(not X86, reason="the VNNI paths are x86 only")
@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) is not installed")
def test_native_build_uses_vpdpbusd_and_portable_build_does_not():
    def count(path):
        text = subprocess.run(["objdump", "-d", str(path)], capture_output=True, text=True,
                              check=True).stdout
        return text.count("vpdpbusd")

    assert count(build.library_path(False, "optimized", march="x86-64")) == 0
    native = count(build.library_path(False, "optimized"))
    if not _host_has_vnni():
        pytest.skip("this CPU has no AVX-512 VNNI (avx512_vnni, avx512bw), so -march=native "
                    "builds the portable loops only")
    assert native > 0


@pytest.mark.slow
def test_vnni_cases_run_clean_under_asan_and_ubsan():
    """This file's cases again on the sanitizer builds (ASan + UBSan, fatal) of the reference,
    the native optimised and the x86-64 optimised sets: no out-of-bounds access (masked
    tails, gathers, packed blocks) and no undefined behaviour."""
    rerun_under_sanitizers(__file__)
