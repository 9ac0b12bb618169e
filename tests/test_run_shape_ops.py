"""End to end with 17shape's kernels: Keras models converted by TF (a SimpleRNN unrolled into
UNPACK / PACK, a conv net through RESIZE_BILINEAR, REDUCE_MAX, SUM, GATHER and BATCH_MATMUL,
and one through MIRROR_PAD, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND, L2_NORMALIZATION, ARG_MAX (an
int32 output) and BROADCAST_TO) run by `rnnedge run --backend c` on the best, inplace and tflm plans (debug
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


def _movement():
    x = tf.keras.Input((8, 8, 2), batch_size=1)
    y = tf.keras.layers.Conv2D(4, 3, padding="same")(x)
    y = tf.keras.layers.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 1], [2, 2], [0, 0]],
                                                mode="SYMMETRIC"))(y)
    y = tf.keras.layers.Lambda(lambda t: tf.nn.space_to_depth(t, 2))(y)
    y = tf.keras.layers.Lambda(lambda t: tf.compat.v1.batch_to_space_nd(
        tf.reshape(t, (4, 5, 6, 4)), [2, 2], [[1, 1], [0, 2]]))(y)
    n = tf.keras.layers.Lambda(lambda t: tf.math.l2_normalize(t, axis=-1))(y)
    a = tf.keras.layers.Lambda(lambda t: tf.argmax(t, axis=-1, output_type=tf.int32))(n)
    b = tf.keras.layers.Lambda(lambda t: tf.broadcast_to(
        tf.reduce_max(t, axis=1, keepdims=True), (1, 3, 10, 4)))(n)
    return tf.keras.Model(x, [a, b]), [(1, 8, 8, 2)]


MODELS = {"simple_rnn": (lambda: _simple_rnn(False), {"UNPACK"}),
          "simple_rnn_sequences": (lambda: _simple_rnn(True), {"UNPACK", "PACK"}),
          "mixed": (_mixed, {"RESIZE_BILINEAR", "REDUCE_MAX", "SUM", "GATHER",
                             "BATCH_MATMUL"}),
          "movement": (_movement, {"MIRROR_PAD", "SPACE_TO_DEPTH", "BATCH_TO_SPACE_ND",
                                   "L2_NORMALIZATION", "ARG_MAX", "BROADCAST_TO"})}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{name: (model path, stacked int8 inputs .npy, TFLM's outputs (a list))}."""
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
        out[name] = (path, npy, make_backend("tflm", path)(x))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("planner", ["best", "inplace", "tflm"])
@pytest.mark.parametrize("name", list(MODELS))
def test_run_backend_c_matches_tflm(models, name, planner, tmp_path):
    path, npy, expected = models[name]
    out = tmp_path / ("y.npy" if len(expected) == 1 else "y.npz")
    result = CliRunner().invoke(main, ["run", str(path), "--input", str(npy), "--output",
                                       str(out), "--backend", "c", "--planner", planner,
                                       "--debug"])
    assert result.exit_code == 0, result.output
    saved = np.load(out)
    # several outputs: one .npz keyed by output name, in the model's output order
    got = [saved] if len(expected) == 1 else [saved[k] for k in saved.files]
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        assert g.tobytes() == e.tobytes(), f"{np.count_nonzero(g != e)} bytes differ from TFLM"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_host_firmware_matches_tflm(models, name, tmp_path):
    path, npy, expected = models[name]
    directory = tmp_path / "fw"
    codegen.write_firmware(compile_with(path, "inplace"), directory)
    executable = toolchain.build_host(directory)  # -std=c99 -Wall -Wextra -Werror
    expected = b"".join(_interleaved(expected))
    assert toolchain.run_host(executable, np.load(npy).tobytes()) == expected
    try:
        build.asan_runtime()
    except RnnedgeError as exc:
        pytest.skip(str(exc))
    sanitized = toolchain.build_host(directory, output="firmware-asan",
                                     extra_flags=cflags.SANITIZE)
    assert toolchain.run_host(sanitized, np.load(npy).tobytes()) == expected


def _interleaved(outputs) -> list:
    """The firmware's output stream: per sample, every output's bytes in order."""
    return [o[i].tobytes() for i in range(len(outputs[0])) for o in outputs]
