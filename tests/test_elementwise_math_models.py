"""End to end: two small int8 models converted by TF's converter that use the elementwise math
kernels of issue 17 (LEAKY_RELU, HARD_SWISH, PRELU, ABS, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE,
LOG_SOFTMAX; GREATER, LOGICAL_AND, SELECT_V2 and CAST with bool tensors in the arena, DIV,
RSQRT)
give TFLM's output bytes through `rnnedge run --backend c` (best and inplace plans, debug
mode) and through the generated firmware built for the host; a GELU model (exact and tanh
forms, which TFLM does not register) gives TFLite's reference kernels' bytes."""

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge.cli import main
from rnnedge.firmware_sim import codegen, toolchain
from rnnedge.firmware_sim.backends import make_backend
from rnnedge.tflite import read_model
from helpers import compile_with

tf = pytest.importorskip("tensorflow", reason="tensorflow (TFLiteConverter) is not installed")

ACTIVATION_OPS = {"LEAKY_RELU", "HARD_SWISH", "PRELU", "ABS", "MAXIMUM", "MINIMUM",
                  "SQUARED_DIFFERENCE", "LOG_SOFTMAX"}
BOOL_OPS = {"GREATER", "LOGICAL_AND", "SELECT_V2", "DIV", "RSQRT", "LOG_SOFTMAX", "CAST"}


def _activations_fn(rng):
    conv = tf.keras.layers.Conv2D(6, 3, padding="same")
    prelu = tf.keras.layers.PReLU(shared_axes=[1, 2])
    conv.build((None, 8, 8, 3))
    prelu.build((None, 8, 8, 6))
    prelu.set_weights([rng.uniform(-0.5, 0.8, (1, 1, 6)).astype(np.float32)])
    floor = tf.constant(rng.uniform(-0.5, 0.5, (6,)).astype(np.float32))

    def fn(x):
        h = tf.nn.leaky_relu(conv(x), 0.15)
        h = prelu(h * tf.nn.relu6(h + 3.0) / 6.0)
        h = tf.maximum(tf.abs(h), floor)
        h = h - tf.math.squared_difference(h, tf.minimum(h, 0.3))
        return tf.nn.log_softmax(2.0 * tf.reshape(h, (1, 64, 6)))
    return fn


def _bool_fn(rng):
    def fn(a):
        b = tf.reduce_mean(a, axis=1, keepdims=True)
        y = tf.where(tf.logical_and(a > b, tf.logical_not(a <= 1.0)), a, b)
        z = y / (tf.abs(b) + 0.5)
        mask = tf.cast(a > 0.5, tf.float32)
        return tf.nn.log_softmax(tf.math.rsqrt(tf.abs(z) + 0.25) - z + mask)
    return fn


def _gelu_fn(rng):
    """Both GELU forms, chained through int8 MUL and ADD by constants. No FULLY_CONNECTED:
    the oracle here is TFLite's reference kernels (TFLM does not register GELU), whose int8
    FULLY_CONNECTED rounds differently from TFLM's (1-2 LSB on some weights, docs/export.md)."""
    def fn(x):
        return tf.nn.gelu(tf.nn.gelu(x, approximate=True) * 2.5 - 0.75, approximate=False)
    return fn


MODELS = {"activations": (_activations_fn, (1, 8, 8, 3), ACTIVATION_OPS),
          "bool": (_bool_fn, (1, 4, 16), BOOL_OPS),
          "gelu": (_gelu_fn, (3, 6), {"GELU"})}
ORACLE = {"gelu": "tflite"}  # TFLM does not register GELU: TFLite's reference kernels


def _convert(fn, shape, rng) -> bytes:
    concrete = tf.function(fn, input_signature=[tf.TensorSpec(shape, tf.float32)]) \
        .get_concrete_function()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([rng.uniform(-2, 2, shape).astype(np.float32)]
                                           for _ in range(32))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    return conv.convert()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{name: (model path, a .npy of 3 random int8 inputs, TFLM's outputs)}."""
    directory = tmp_path_factory.mktemp("math-models")
    out = {}
    for name, (make_fn, shape, expected_ops) in MODELS.items():
        rng = np.random.default_rng(sum(map(ord, name)))
        path = directory / f"{name}.tflite"
        path.write_bytes(_convert(make_fn(rng), shape, rng))
        opcodes = {op.opcode for op in read_model(path).main.operators}
        assert expected_ops <= opcodes, f"{name}: the converter made {sorted(opcodes)}"
        x = rng.integers(-128, 128, (3,) + shape[1:], dtype=np.int8)
        npy = directory / f"{name}-x.npy"
        np.save(npy, x)
        out[name] = (path, npy, make_backend(ORACLE.get(name, "tflm"), path)(x)[0])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("planner", ["best", "inplace"])
@pytest.mark.parametrize("name", list(MODELS))
def test_run_c_backend_matches_tflm(models, tmp_path, name, planner):
    path, npy, expected = models[name]
    out = tmp_path / "y.npy"
    result = CliRunner().invoke(main, ["run", str(path), "--input", str(npy), "--output",
                                       str(out), "--backend", "c", "--planner", planner,
                                       "--debug"])
    assert result.exit_code == 0, result.output
    y = np.load(out)
    assert len(np.unique(expected)) > 5  # the model's output is not saturated
    assert y.dtype == expected.dtype and y.tobytes() == expected.tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_host_firmware_matches_tflm(models, tmp_path, name):
    path, npy, expected = models[name]
    program = compile_with(str(path), "inplace")
    codegen.write_firmware(program, tmp_path / "fw")
    executable = toolchain.build_host(tmp_path / "fw")  # -std=c99 -Wall -Wextra -Werror
    assert toolchain.run_host(executable, np.load(npy).tobytes()) == expected.tobytes()
