"""End to end with 17shape's kernels: Keras models converted by TF (a SimpleRNN unrolled into
UNPACK / PACK, and a conv net through RESIZE_BILINEAR, REDUCE_MAX, SUM, GATHER and
BATCH_MATMUL) run by `rnnedge run --backend c` on the best, inplace and tflm plans (debug
mode) and by the generated host firmware (cc -Werror, and under ASan + UBSan), with 0 bytes
different from tflite-micro on random inputs."""

import numpy as np
import pytest
from click.testing import CliRunner

tf = pytest.importorskip("tensorflow", reason="the test models are converted by TensorFlow")

from rnnedge.cli import main  # noqa: E402
from rnnedge.errors import RnnedgeError  # noqa: E402
from rnnedge.firmware_sim import codegen, toolchain  # noqa: E402
from rnnedge.firmware_sim.backends import make_backend  # noqa: E402
from rnnedge.kernels import build, cflags  # noqa: E402
from rnnedge.tflite import read_model  # noqa: E402
from helpers import compile_with  # noqa: E402


def _int8_model(model, shapes) -> bytes:
    """Full-int8 TFLite (int8 input and output) of a Keras model."""
    def representative():
        rng = np.random.default_rng(0)
        for _ in range(16):
            yield [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def _simple_rnn(sequences: bool):
    return tf.keras.Sequential([
        tf.keras.Input((5, 4), batch_size=1),
        tf.keras.layers.SimpleRNN(6, unroll=True, return_sequences=sequences),
        tf.keras.layers.Dense(3)]), [(1, 5, 4)]


def _mixed():
    x = tf.keras.Input((6, 8, 3), batch_size=1)
    y = tf.keras.layers.Conv2D(4, 3, padding="same")(x)
    y = tf.keras.layers.Lambda(lambda t: tf.compat.v1.image.resize_bilinear(
        t, (12, 16), half_pixel_centers=True))(y)
    a = tf.keras.layers.Lambda(lambda t: tf.reduce_max(t, axis=1))(y)
    s = tf.keras.layers.Lambda(lambda t: tf.reduce_sum(t, axis=2))(y)
    g = tf.keras.layers.Lambda(lambda t: tf.gather(t, [3, 0, 7], axis=1))(a)
    out = tf.keras.layers.Lambda(lambda p: tf.matmul(p[0], p[1], adjoint_b=True))([g, s])
    return tf.keras.Model(x, out), [(1, 6, 8, 3)]


MODELS = {"simple_rnn": (lambda: _simple_rnn(False), {"UNPACK"}),
          "simple_rnn_sequences": (lambda: _simple_rnn(True), {"UNPACK", "PACK"}),
          "mixed": (_mixed, {"RESIZE_BILINEAR", "REDUCE_MAX", "SUM", "GATHER",
                             "BATCH_MATMUL"})}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{name: (model path, stacked int8 inputs .npy, TFLM's outputs)}."""
    out = {}
    root = tmp_path_factory.mktemp("shape-models")
    for name, (make, expected_ops) in MODELS.items():
        keras_model, shapes = make()
        path = root / f"{name}.tflite"
        path.write_bytes(_int8_model(keras_model, shapes))
        ops = {op.opcode for op in read_model(path).main.operators}
        assert expected_ops <= ops, f"{name}: the converter emitted {sorted(ops)}"
        x = np.random.default_rng(5).integers(-128, 128, (3, *shapes[0][1:]), dtype=np.int8)
        npy = root / f"{name}-x.npy"
        np.save(npy, x)
        out[name] = (path, npy, make_backend("tflm", path)(x)[0])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("planner", ["best", "inplace", "tflm"])
@pytest.mark.parametrize("name", list(MODELS))
def test_run_backend_c_matches_tflm(models, name, planner, tmp_path):
    path, npy, expected = models[name]
    out = tmp_path / "y.npy"
    result = CliRunner().invoke(main, ["run", str(path), "--input", str(npy), "--output",
                                       str(out), "--backend", "c", "--planner", planner,
                                       "--debug"])
    assert result.exit_code == 0, result.output
    got = np.load(out)
    assert got.shape == expected.shape
    assert got.tobytes() == expected.tobytes(), \
        f"{np.count_nonzero(got != expected)} bytes differ from TFLM"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_host_firmware_matches_tflm(models, name, tmp_path):
    path, npy, expected = models[name]
    directory = tmp_path / "fw"
    codegen.write_firmware(compile_with(path, "inplace"), directory)
    executable = toolchain.build_host(directory)  # -std=c99 -Wall -Wextra -Werror
    assert toolchain.run_host(executable, np.load(npy).tobytes()) == expected.tobytes()
    try:
        build.asan_runtime()
    except RnnedgeError as exc:
        pytest.skip(str(exc))
    sanitized = toolchain.build_host(directory, output="firmware-asan",
                                     extra_flags=cflags.SANITIZE)
    assert toolchain.run_host(sanitized, np.load(npy).tobytes()) == expected.tobytes()
