"""The optimised kernels (kernels/optimized/) give the reference kernels' bytes exactly.

Each test fills a params struct directly (so that it can reach what TFLite's converter never
emits: extreme multipliers and shifts, wild offsets, accumulators that wrap, odd shapes,
groups, dilation, padding bigger than the filter, empty tap windows), runs the reference
library and the optimised one on the same random or edge-case data, and compares return
codes and every output byte. The independent check of the reference bytes themselves is the
TFLM comparison of the other kernel tests (they run both kernel sets) and of the zoo exports.
"""

import ctypes as C

import numpy as np
import pytest

from rnnedge import kernels
from rnnedge.kernels import build
from rnnedge.kernels import structs as S
from sanitizer_rerun import rerun_under_sanitizers

INT32_MIN, INT32_MAX = -2**31, 2**31 - 1
# Inside the sanitizer run (last test) the cases stay where the reference kernels themselves
# are free of signed overflow: int8 zero points, moderate biases, no left rescale shifts, no
# wrapping accumulators.
REFERENCE_DEFINED_ONLY = build.asan_preloaded()


PORTABLE_MARCH = "x86-64"  # no AVX-512: the optimised set's portable loops (CI CPUs)


def _portable_library():
    """The optimised set built with -march=x86-64 instead of -march=native (None off x86):
    on an AVX-512 VNNI host the native build takes the VNNI paths and this one the portable
    16-bit loops, so both stay checked against the reference."""
    import platform

    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    path = build.library_path(build.asan_preloaded(), "optimized", march=PORTABLE_MARCH)
    return S.declare(C.CDLL(str(path)))


@pytest.fixture(scope="module")
def libs():
    """(reference library, optimised library[, optimised library built for x86-64])."""
    found = [kernels.load(kernels="reference"), kernels.load(kernels="optimized")]
    portable = _portable_library()
    return tuple(found + ([portable] if portable is not None else []))


def _i8(rng, shape, mode):
    """int8 data: random, all-zero, or saturated at either end."""
    if mode == "min":
        return np.full(shape, -128, np.int8)
    if mode == "max":
        return np.full(shape, 127, np.int8)
    if mode == "zero":
        return np.zeros(shape, np.int8)
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def _mode(rng):
    return str(rng.choice(["random"] * 5 + ["min", "max", "zero"]))


def _offset(rng):
    """An input offset (-zero point): mostly int8 zero points, sometimes far outside."""
    if rng.random() < 0.85 or REFERENCE_DEFINED_ONLY:
        return int(rng.integers(-127, 129))
    return int(rng.choice([-129, 129, -1000, 1 << 20, INT32_MIN + 7, INT32_MAX - 3]))


def _rescale(rng, n):
    """Per-channel (multiplier, shift) arrays, with extreme values mixed in."""
    mult = rng.integers(1 << 30, INT32_MAX, size=n, endpoint=True).astype(np.int32)
    shift = rng.integers(-12, 2, size=n).astype(np.int32)
    for i in range(n):
        if rng.random() < 0.15:
            mult[i] = rng.choice([1, INT32_MAX, 1 << 30])
        if rng.random() < 0.15:
            shift[i] = rng.choice([-31, 0] if REFERENCE_DEFINED_ONLY else [-31, 30, 0, 12])
    return mult, shift


def _activation(rng):
    lo = int(rng.choice([-128, -128, -5, 0]))
    return lo, int(rng.choice([127, 127, 6, lo]))


def _bias(rng, n):
    if rng.random() < 0.2:
        return None
    if rng.random() < 0.15 and not REFERENCE_DEFINED_ONLY:
        return np.full(n, rng.choice([INT32_MAX, INT32_MIN]), np.int32)
    return rng.integers(-(1 << 20), 1 << 20, size=n).astype(np.int32)


def _ptr(a, ctype=S.P_I8):
    return None if a is None else a.ctypes.data_as(ctype)


def _run_both(libs, entry, params, inputs, out_shape):
    """(rc, bytes) of the reference and the optimised kernel (both builds on x86); outputs
    start as 0x5A."""
    results = []
    for lib in libs:
        out = np.full(out_shape, 0x5A, np.int8)
        rc = getattr(lib, entry)(C.byref(params), *inputs, _ptr(out))
        results.append((rc, out.tobytes()))
    return results


def _assert_same(results, what):
    (rc_ref, ref), *optimized = results
    for build_name, (rc_opt, opt) in zip(("native", PORTABLE_MARCH), optimized):
        assert rc_ref == rc_opt, f"{what} ({build_name}): return code {rc_opt}, reference {rc_ref}"
        if rc_ref == 0:
            diff = np.flatnonzero(np.frombuffer(ref, np.int8) != np.frombuffer(opt, np.int8))
            assert diff.size == 0, \
                f"{what} ({build_name}): {diff.size} bytes differ, first at {diff[0]}"


def _conv_case(rng, depthwise):
    n = int(rng.integers(1, 3))
    fh, fw = (int(v) for v in rng.integers(1, 6, size=2))
    sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
    dh, dw = (int(v) for v in rng.integers(1, 4, size=2)) if rng.random() < 0.3 else (1, 1)
    h, w = (int(v) for v in rng.integers(1, 14, size=2))
    ph, pw = int(rng.integers(0, fh * dh + 1)), int(rng.integers(0, fw * dw + 1))
    oh = max(1, (h + 2 * ph - dh * (fh - 1) - 1) // sh + 1)
    ow = max(1, (w + 2 * pw - dw * (fw - 1) - 1) // sw + 1)
    geometry = dict(batches=n, input_height=h, input_width=w, filter_height=fh,
                    filter_width=fw, output_height=oh, output_width=ow, stride_height=sh,
                    stride_width=sw, dilation_height=dh, dilation_width=dw, pad_height=ph,
                    pad_width=pw)
    if depthwise:
        ic, dm = int(rng.integers(1, 80)), int(rng.choice([1, 1, 1, 2, 3]))
        return geometry, dict(input_depth=ic, depth_multiplier=dm), ic, ic * dm
    groups = int(rng.choice([1, 1, 1, 2, 3]))
    fid = int(rng.integers(1, 40))
    oc = groups * int(rng.integers(1, 11))
    return geometry, dict(input_depth=fid * groups, filter_input_depth=fid), fid * groups, oc


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv_2d", "depthwise_conv_2d"])
def test_convolutions_match_reference_bytes(libs, depthwise):
    rng = np.random.default_rng(19 + depthwise)
    for case in range(150):
        geometry, depth, ic, oc = _conv_case(rng, depthwise)
        g = geometry
        x = _i8(rng, (g["batches"], g["input_height"], g["input_width"], ic), _mode(rng))
        fshape = (1, g["filter_height"], g["filter_width"], oc) if depthwise else \
            (oc, g["filter_height"], g["filter_width"], depth["filter_input_depth"])
        f = _i8(rng, fshape, _mode(rng))
        bias = _bias(rng, oc)
        mult, shift = _rescale(rng, oc)
        lo, hi = _activation(rng)
        struct = S.DepthwiseConv2DParams if depthwise else S.Conv2DParams
        params = struct(**g, **depth, output_depth=oc, input_offset=_offset(rng),
                        output_offset=int(rng.integers(-128, 128)), activation_min=lo,
                        activation_max=hi, output_multiplier=_ptr(mult, S.P_I32),
                        output_shift=_ptr(shift, S.P_I32))
        out_shape = (g["batches"], g["output_height"], g["output_width"], oc)
        entry = "rn_depthwise_conv_2d" if depthwise else "rn_conv_2d"
        results = _run_both(libs, entry, params, (_ptr(x), _ptr(f), _ptr(bias, S.P_I32)),
                            out_shape)
        _assert_same(results, f"{entry} case {case} {g} {depth}")
        assert results[0][0] == 0


def test_fully_connected_matches_reference_bytes(libs):
    rng = np.random.default_rng(1919)
    for case in range(200):
        batches, depth, oc = int(rng.integers(1, 4)), int(rng.integers(1, 300)), \
            int(rng.integers(1, 13))
        per_channel = bool(rng.random() < 0.5)
        x, f = _i8(rng, (batches, depth), _mode(rng)), _i8(rng, (oc, depth), _mode(rng))
        bias = _bias(rng, oc)
        mult, shift = _rescale(rng, oc)
        lo, hi = _activation(rng)
        params = S.FullyConnectedParams(
            batches=batches, accum_depth=depth, output_depth=oc, input_offset=_offset(rng),
            filter_offset=_offset(rng), output_offset=int(rng.integers(-128, 128)),
            activation_min=lo, activation_max=hi, per_channel=int(per_channel),
            output_multiplier=_ptr(mult, S.P_I32), output_shift=_ptr(shift, S.P_I32))
        results = _run_both(libs, "rn_fully_connected", params,
                            (_ptr(x), _ptr(f), _ptr(bias, S.P_I32)), (batches, oc))
        _assert_same(results, f"fully_connected case {case}")


@pytest.mark.parametrize("offsets", [(-128, 0), (-128, -128), (-128, 128), (1 << 16, 3)])
def test_long_accumulations_wrap_like_the_reference(libs, offsets):
    """70,000 terms of up to 65,536 overflow int32: both kernel sets wrap modulo 2^32 (the
    chunked 16-bit partial sums, the 32-bit path and the reference agree)."""
    if REFERENCE_DEFINED_ONLY:
        pytest.skip("the reference kernels overflow a signed int32 here (undefined under UBSan)")
    depth, oc = 70_000, 5
    x, f = np.full((1, depth), -128, np.int8), np.full((oc, depth), -128, np.int8)
    f[1::2] = 127
    mult, shift = np.full(oc, 1 << 30, np.int32), np.full(oc, -20, np.int32)
    params = S.FullyConnectedParams(
        batches=1, accum_depth=depth, output_depth=oc, input_offset=offsets[0],
        filter_offset=offsets[1], output_offset=0, activation_min=-128, activation_max=127,
        per_channel=0, output_multiplier=_ptr(mult, S.P_I32), output_shift=_ptr(shift, S.P_I32))
    results = _run_both(libs, "rn_fully_connected", params, (_ptr(x), _ptr(f), None), (1, oc))
    _assert_same(results, "long fully_connected")
    # the sums really wrapped: an int64 sum gives other bytes for at least one output
    true_sum = ((f.astype(np.int64) + offsets[1]) * (x.astype(np.int64) + offsets[0])).sum(axis=1)
    assert (np.abs(true_sum) > INT32_MAX).any()


@pytest.mark.parametrize("entry", ["rn_max_pool_2d", "rn_average_pool_2d"])
def test_pools_match_reference_bytes(libs, entry):
    rng = np.random.default_rng(len(entry))
    for case in range(150):
        n, d = int(rng.integers(1, 3)), int(rng.integers(1, 300 if case % 10 == 0 else 40))
        fh, fw = (int(v) for v in rng.integers(1, 5, size=2))
        sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
        h, w = (int(v) for v in rng.integers(1, 12, size=2))
        ph, pw = int(rng.integers(0, fh)), int(rng.integers(0, fw))
        oh, ow = max(1, (h + 2 * ph - fh) // sh + 1), max(1, (w + 2 * pw - fw) // sw + 1)
        lo, hi = _activation(rng)
        params = S.Pool2DParams(batches=n, input_height=h, input_width=w, depth=d,
                                output_height=oh, output_width=ow, filter_height=fh,
                                filter_width=fw, stride_height=sh, stride_width=sw,
                                pad_height=ph, pad_width=pw, activation_min=lo,
                                activation_max=hi)
        x = _i8(rng, (n, h, w, d), _mode(rng))
        _assert_same(_run_both(libs, entry, params, (_ptr(x),), (n, oh, ow, d)),
                     f"{entry} case {case}")


def _broadcast(rng):
    """(output dims, strides1, strides2, shape1, shape2) of a random broadcast, padded to 6-D."""
    rank = int(rng.integers(1, 7))
    out = [int(v) for v in rng.integers(1, 6, size=rank)]
    shapes = []
    for _ in range(2):
        shape = [d if rng.random() < 0.6 else 1 for d in out]
        shapes.append(shape)
    pad = [1] * (6 - rank)
    dims = pad + out
    strides = []
    for shape in shapes:
        full, s, acc = pad + shape, [0] * 6, 1
        for i in range(5, -1, -1):
            s[i] = acc if full[i] != 1 else 0
            acc *= full[i]
        strides.append(s)
    return dims, strides[0], strides[1], shapes[0], shapes[1]


def test_add_matches_reference_bytes(libs):
    rng = np.random.default_rng(7)
    for case in range(300):
        dims, s1, s2, shape1, shape2 = _broadcast(rng)
        if case % 3 == 0:  # no broadcast: one dense run
            s1 = s2 = [int(np.prod(dims[i + 1:])) for i in range(6)]
            shape1 = shape2 = dims
        m = rng.integers(1 << 30, INT32_MAX, size=3, endpoint=True)
        sh = rng.integers(-12, 1, size=3)
        lo, hi = _activation(rng)
        params = S.AddParams(
            shape=S.Broadcast(S.DIMS(*dims), S.DIMS(*s1), S.DIMS(*s2)),
            input1_offset=int(rng.integers(-128, 129)), input2_offset=int(rng.integers(-128, 129)),
            output_offset=int(rng.integers(-128, 128)), left_shift=int(rng.choice([20, 0, 30])),
            input1_multiplier=int(m[0]), input1_shift=int(sh[0]), input2_multiplier=int(m[1]),
            input2_shift=int(sh[1]), output_multiplier=int(m[2]), output_shift=int(sh[2]),
            activation_min=lo, activation_max=hi)
        x1, x2 = _i8(rng, shape1, _mode(rng)), _i8(rng, shape2, _mode(rng))
        _assert_same(_run_both(libs, "rn_add", params, (_ptr(x1), _ptr(x2)), dims),
                     f"add case {case} dims {dims}")


def test_add_in_place_matches_reference_bytes(libs):
    """The in-place elementwise rule writes the output over an input: same bytes."""
    rng = np.random.default_rng(8)
    dims = [1, 1, 1, 7, 9, 33]
    dense = [int(np.prod(dims[i + 1:])) for i in range(6)]
    params = S.AddParams(shape=S.Broadcast(S.DIMS(*dims), S.DIMS(*dense), S.DIMS(*dense)),
                         input1_offset=5, input2_offset=-3, output_offset=2, left_shift=20,
                         input1_multiplier=1 << 30, input1_shift=-1,
                         input2_multiplier=1500000000, input2_shift=-2,
                         output_multiplier=1300000000, output_shift=-19,
                         activation_min=-128, activation_max=127)
    x1, x2 = _i8(rng, dims, "random"), _i8(rng, dims, "random")
    results = []
    for lib in libs:
        a, b = x1.copy(), x2.copy()
        assert lib.rn_add(C.byref(params), _ptr(a), _ptr(b), _ptr(a)) == 0
        results.append(a.tobytes())
    assert all(r == results[0] for r in results[1:])


def _binary_params(rng, entry, dims, s1, s2):
    """Random SUB or MUL params over a broadcast (MUL: one multiplier, shifts -31..+8)."""
    shape = S.Broadcast(S.DIMS(*dims), S.DIMS(*s1), S.DIMS(*s2))
    lo, hi = _activation(rng)
    offsets = dict(input1_offset=int(rng.integers(-128, 129)),
                   input2_offset=int(rng.integers(-128, 129)),
                   output_offset=int(rng.integers(-128, 128)), activation_min=lo,
                   activation_max=hi)
    if entry == "rn_mul":
        return S.MulParams(shape=shape, output_multiplier=int(rng.choice(
            [1 << 30, INT32_MAX, int(rng.integers(1 << 30, INT32_MAX))])),
            output_shift=int(rng.choice([-31, -12, -7, 0, 1, 8])), **offsets)
    m = rng.integers(1 << 30, INT32_MAX, size=3, endpoint=True)
    sh = rng.integers(-12, 1, size=3)
    # left shift 30 can overflow the reference's int32 difference (undefined under UBSan)
    shifts = [20, 0] if REFERENCE_DEFINED_ONLY else [20, 0, 30]
    return S.SubParams(shape=shape, left_shift=int(rng.choice(shifts)),
                       input1_multiplier=int(m[0]), input1_shift=int(sh[0]),
                       input2_multiplier=int(m[1]), input2_shift=int(sh[1]),
                       output_multiplier=int(m[2]), output_shift=int(sh[2]), **offsets)


@pytest.mark.parametrize("entry", ["rn_sub", "rn_mul"])
def test_sub_and_mul_match_reference_bytes(libs, entry):
    rng = np.random.default_rng(17 if entry == "rn_sub" else 18)
    for case in range(300):
        dims, s1, s2, shape1, shape2 = _broadcast(rng)
        if case % 3 == 0:  # no broadcast: one dense run
            s1 = s2 = [int(np.prod(dims[i + 1:])) for i in range(6)]
            shape1 = shape2 = dims
        params = _binary_params(rng, entry, dims, s1, s2)
        x1, x2 = _i8(rng, shape1, _mode(rng)), _i8(rng, shape2, _mode(rng))
        _assert_same(_run_both(libs, entry, params, (_ptr(x1), _ptr(x2)), dims),
                     f"{entry} case {case} dims {dims}")
    dims = [1, 1, 1, 7, 9, 33]  # in place: the output overlays input 1
    dense = [int(np.prod(dims[i + 1:])) for i in range(6)]
    params = _binary_params(rng, entry, dims, dense, dense)
    x1, x2 = _i8(rng, dims, "random"), _i8(rng, dims, "random")
    results = []
    for lib in libs:
        a, b = x1.copy(), x2.copy()
        assert getattr(lib, entry)(C.byref(params), _ptr(a), _ptr(b), _ptr(a)) == 0
        results.append(a.tobytes())
    assert all(r == results[0] for r in results[1:])


@pytest.mark.parametrize("entry,struct", [("rn_tanh", S.TanhParams),
                                          ("rn_logistic", S.LogisticParams)])
def test_fixed_point_activations_match_reference_bytes(libs, entry, struct):
    """Every int8 input value, through the direct path (<= 256 elements) and the table."""
    rng = np.random.default_rng(3)
    for case in range(60):
        size = int(rng.choice([1, 200, 256, 257, 4096]))
        params = struct(size=size, input_zero_point=int(rng.integers(-128, 128)),
                        input_range_radius=int(rng.integers(0, 300)),
                        input_multiplier=int(rng.integers(1 << 30, INT32_MAX)),
                        input_left_shift=int(rng.integers(-8, 10)))
        x = np.resize(np.arange(-128, 128, dtype=np.int8), size)
        rng.shuffle(x)
        _assert_same(_run_both(libs, entry, params, (_ptr(x),), (size,)),
                     f"{entry} case {case}")


def test_mean_matches_reference_bytes(libs):
    """Random axis sets over up to 6-D shapes (runs past RN_MEAN_BLOCK, empty axes, saturated
    data, extreme zero points and shifts)."""
    rng = np.random.default_rng(6)
    for case in range(150):
        rank = int(rng.integers(1, 7))
        dims = [1] * (6 - rank) + [int(v) for v in rng.integers(0 if case % 25 == 0 else 1,
                                                                 8, size=rank)]
        if case % 10 == 0:
            dims[-1] = int(rng.integers(250, 600))
        reduce = [int(rng.random() < 0.5) for _ in range(6)]
        params = S.MeanParams(input_dims=S.DIMS(*dims), reduce=S.DIMS(*reduce),
                              input_zero_point=int(rng.integers(-128, 128)),
                              output_zero_point=int(rng.integers(-128, 128)),
                              output_multiplier=int(rng.integers(1 << 30, INT32_MAX)),
                              output_shift=int(rng.choice([-31, -5, 0, 3, 30])))
        x = _i8(rng, dims, _mode(rng))
        out_shape = [1 if r else d for d, r in zip(dims, reduce)]
        _assert_same(_run_both(libs, "rn_mean", params, (_ptr(x),), out_shape),
                     f"mean case {case} dims {dims} reduce {reduce}")


def test_optimized_set_replaces_reference_files_by_name():
    """optimized/ files keep their reference namesakes' names (TFLM's cmsis_nn layout)."""
    from rnnedge.kernels import build

    names = {p.name for p in build.sources("reference")}
    optimized = build.optimized_sources()
    assert optimized and all(p.name in names for p in optimized)
    assert set(build.sources("optimized")) - set(build.sources("reference")) == set(optimized)


@pytest.mark.slow
def test_byte_equality_cases_run_clean_under_asan_and_ubsan():
    """The cases above again, with both kernel sets' sanitizer builds (ASan + UBSan, fatal):
    no out-of-bounds access (column padding, tails, chunking) and no undefined behaviour."""
    rerun_under_sanitizers(__file__)
