"""The ASan + UBSan build, run in subprocesses (libasan preloaded): a representative
set of single-op models must give TFLM's bytes, every kernel on random shapes must
give the release build's bytes, and neither may trigger a sanitizer report.

TensorFlow itself cannot be imported with libasan preloaded, so models are
converted here and the child only runs TFLM and the kernels."""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, activation, convert, float_samples, int8_inputs, padding
from rnnedge.kernels import build
from sanitizer_cases import run_all

HERE = Path(__file__).resolve().parent


def _tflm_cases(rng) -> list:
    """(name, model, kernel spec, inputs) for a representative set of ops."""
    cases = []

    def add(name, fn, shapes, spec_of, lo=-2.0, hi=2.0):
        model = convert(f"asan-{name}", fn, shapes, float_samples(rng, shapes, lo, hi))
        opts, ins, outs = SingleOp(model).only(name.split("-")[0])
        inputs = list(zip(*[int8_inputs(rng, s, count=2) for s in shapes]))
        cases.append((name, model, spec_of(opts, ins, outs), inputs))

    w = rng.normal(0, 0.5, size=(3, 3, 3, 6)).astype(np.float32)
    add("CONV_2D", lambda x: tf.nn.relu(tf.nn.conv2d(x, w, 2, "SAME")), [(1, 9, 8, 3)],
        lambda o, i, u: ("Conv2D", (i[0].shape, i[1].data, i[2].data, i[0].quant,
                                    i[1].quant.scale, u[0].quant),
                         dict(stride=(o.strideH, o.strideW), padding=padding(o),
                              activation=activation(o), output_shape=u[0].shape)))
    dw = rng.normal(0, 0.5, size=(3, 3, 4, 2)).astype(np.float32)
    add("DEPTHWISE_CONV_2D", lambda x: tf.nn.depthwise_conv2d(x, dw, (1, 1, 1, 1), "VALID"),
        [(1, 7, 7, 4)],
        lambda o, i, u: ("DepthwiseConv2D", (i[0].shape, i[1].data, i[2].data, i[0].quant,
                                             i[1].quant.scale, u[0].quant),
                         dict(padding=padding(o), output_shape=u[0].shape)))
    fw = rng.normal(0, 0.5, size=(40, 9)).astype(np.float32)
    add("FULLY_CONNECTED", lambda x: tf.matmul(x, fw), [(2, 40)],
        lambda o, i, u: ("FullyConnected", (i[0].shape, i[1].data,
                                            None if i[2] is None else i[2].data,
                                            i[0].quant, i[1].quant, u[0].quant), {}))
    add("ADD", lambda a, b: a + b, [(2, 5, 3), (1, 5, 1)],
        lambda o, i, u: ("Add", (i[0].shape, i[1].shape, i[0].quant, i[1].quant, u[0].quant),
                         dict(activation=activation(o))))
    add("MEAN", lambda x: tf.reduce_mean(x, (1, 2)), [(1, 6, 5, 4)],
        lambda o, i, u: ("Mean", (i[0].shape, i[1].data, i[0].quant, u[0].quant), {}))
    for name, fn, cls in (("SOFTMAX", tf.nn.softmax, "Softmax"),
                          ("TANH", tf.math.tanh, "Tanh"),
                          ("LOGISTIC", tf.math.sigmoid, "Logistic")):
        add(name, fn, [(4, 64)],
            lambda o, i, u, cls=cls: (cls, (i[0].shape, i[0].quant, u[0].quant), {}),
            lo=-6.0, hi=6.0)
    return cases


@pytest.mark.slow
@pytest.mark.parametrize("kernel_set", build.KERNEL_SETS)
def test_sanitizer_build_matches_tflm(kernel_set, rng, tmp_path):
    path = tmp_path / "cases.pkl"
    with open(path, "wb") as f:
        pickle.dump(_tflm_cases(rng), f)
    proc = subprocess.run([sys.executable, str(HERE / "sanitizer_tflm.py"), str(path)],
                          env={**build.sanitizer_env(), "RNNEDGE_KERNELS": kernel_set},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"sanitizer run failed:\n{proc.stderr[-4000:]}"
    assert "cases match TFLM" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("kernel_set", build.KERNEL_SETS)
@pytest.mark.parametrize("seed", [1, 2])
def test_sanitizer_build_matches_release(seed, kernel_set, tmp_path):
    """Each kernel set's ASan + UBSan build gives the release reference bytes, clean."""
    from rnnedge import kernels

    out = tmp_path / "asan.npz"
    proc = subprocess.run([sys.executable, str(HERE / "sanitizer_cases.py"), str(seed), str(out)],
                          env={**build.sanitizer_env(), "RNNEDGE_KERNELS": kernel_set},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"sanitizer run failed:\n{proc.stderr[-4000:]}"
    assert "runtime error" not in proc.stderr and "AddressSanitizer" not in proc.stderr
    release = run_all(kernels.load(kernels="reference"), seed)
    with np.load(out) as asan:
        assert sorted(asan.files) == sorted(release)
        for name, want in release.items():
            assert np.array_equal(asan[name].view(np.uint8), want.view(np.uint8)), name


def test_sanitizer_build_refuses_to_load_without_asan_preloaded(monkeypatch):
    from rnnedge import kernels
    from rnnedge.errors import RnnedgeError
    monkeypatch.setenv("LD_PRELOAD", "")
    monkeypatch.setattr(kernels, "_LIBS", {})
    with pytest.raises(RnnedgeError, match="libasan"):
        kernels.load(sanitize=True)


@pytest.mark.slow
def test_sanitizer_build_reports_an_out_of_bounds_kernel_call():
    """Bypassing the wrapper checks, a too-large RESHAPE copy must abort under ASan:
    proof that the subprocess really runs the instrumented library."""
    code = (
        "import ctypes, numpy as np\n"
        "from rnnedge.kernels import load, structs\n"
        "lib = load()\n"
        "a = np.zeros(16, np.int8); b = np.zeros(16, np.int8)\n"
        "p = structs.ReshapeParams(size=64)\n"
        "lib.rn_reshape(ctypes.byref(p), a.ctypes.data_as(structs.P_I8),"
        " b.ctypes.data_as(structs.P_I8))\n")
    proc = subprocess.run([sys.executable, "-c", code], env=build.sanitizer_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "AddressSanitizer" in proc.stderr
