"""The one input quantisation (rnnedge.preprocessing.quantize_input) against TFLite's own
QUANTIZE op (tf.lite reference kernels) on exact ties, and the preprocessing metadata."""

import numpy as np
import pytest

from rnnedge.preprocessing import quantize_input


def test_rounds_half_away_from_zero_by_hand():
    x = np.array([0.5, 1.5, -0.5, -1.5, 2.49, 1000.0, -1000.0])
    assert quantize_input(x, 1.0, 0).tolist() == [1, 2, -1, -2, 2, 127, -128]
    assert quantize_input(np.array([0.0]), 0.5, -3).tolist() == [-3]
    assert quantize_input(np.array([2.5, -2.5]), 1.0, 0).tolist() == [3, -3]  # np.round: 2, -2


@pytest.fixture(scope="module")
def quantize_model():
    """A float32-in, int8-out .tflite: TFLite's QUANTIZE, then a RESHAPE (a byte copy that
    keeps the scale) so the converter keeps a graph."""
    tf = pytest.importorskip("tensorflow", reason="tensorflow (tf.lite) is not installed")

    @tf.function(input_signature=[tf.TensorSpec([1, 64], tf.float32)])
    def identity(x):
        return tf.reshape(x, [1, 8, 8])

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [identity.get_concrete_function()], identity)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    converter.representative_dataset = lambda: (
        [rng.uniform(-3.0, 5.0, (1, 64)).astype(np.float32)] for _ in range(8))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_output_type = tf.int8
    interpreter = tf.lite.Interpreter(
        model_content=converter.convert(),
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    ops = [op["op_name"] for op in interpreter._get_ops_details()]
    assert ops in (["QUANTIZE", "RESHAPE"], ["QUANTIZE"]), ops
    return interpreter


def _tflite_quantize(interpreter, x):
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.set_tensor(inp["index"], x.reshape(1, 64).astype(np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(out["index"]).reshape(-1), out["quantization"]


def test_matches_tflite_quantize_on_ties(quantize_model):
    _, (scale, zero_point) = _tflite_quantize(quantize_model, np.zeros(64))
    scale32 = np.float32(scale)
    k = np.arange(-32, 32, dtype=np.float32)
    ties = (k + np.float32(0.5)) * scale32  # x / scale is exactly k + 0.5 for most k
    exact = ties / scale32 == k + np.float32(0.5)
    assert exact.sum() > 40
    got, _ = _tflite_quantize(quantize_model, ties)
    assert np.array_equal(quantize_input(ties, scale, zero_point), got)
    assert not np.array_equal(np.clip(np.round(ties / scale32) + zero_point, -128, 127), got)
    rng = np.random.default_rng(1)
    x = rng.uniform(-6.0, 8.0, 64).astype(np.float32)
    got, _ = _tflite_quantize(quantize_model, x)
    assert np.array_equal(quantize_input(x, scale, zero_point), got)


def test_pixel_table_gives_tflite_quantize_of_the_normalised_images(quantize_model):
    from rnnedge.errors import RnnedgeError
    from rnnedge.preprocessing import pixel_lut, quantize_pixels

    _, (scale, zero_point) = _tflite_quantize(quantize_model, np.zeros(64))
    mean, std = np.float32([0.49, 0.5, 0.52]), np.float32([0.23, 0.25, 0.26])
    images = np.random.default_rng(3).integers(0, 256, (4, 4, 4, 3), dtype=np.uint8)
    images[0, 0, :, :] = [[0, 0, 0], [255, 255, 255], [127, 128, 1], [254, 2, 200]]
    got = quantize_pixels(images, pixel_lut(mean, std, 3, scale, zero_point))
    normalised = ((images.astype(np.float32) / np.float32(255.0) - mean) / std).reshape(-1)
    expected = np.concatenate([_tflite_quantize(quantize_model, normalised[i:i + 64])[0]
                               for i in range(0, normalised.size, 64)])
    assert got.dtype == np.int8 and got.shape == images.shape
    assert np.array_equal(got.reshape(-1), expected)
    with pytest.raises(RnnedgeError, match="uint8 images with 3 channels"):
        quantize_pixels(images.astype(np.float32), pixel_lut(mean, std, 3, scale, zero_point))
