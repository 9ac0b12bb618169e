"""A Keras model with dilated convs and a dynamic batch, converted by TF to SPACE_TO_BATCH_ND ->
CONV_2D / DEPTHWISE_CONV_2D -> BATCH_TO_SPACE_ND with the blocks declared as batch 1
(firmware_sim/batch_shapes.py), runs on the C backend, reference and optimised kernels, under
every planner, byte for byte as TFLite's reference kernels; and as tflite-micro on the same
model with the block tensors' batch written by hand (TFLM does not resize them itself)."""

import numpy as np
import pytest

from rnnedge.firmware_sim.backends import make_backend

SHAPE = (11, 13, 3)


def _convert(path, padding):
    """int8 .tflite of Conv2D(dilation 2, relu) -> DepthwiseConv2D(dilation 2), batch None."""
    tf = pytest.importorskip("tensorflow", reason="tensorflow (TFLiteConverter) is not installed")
    tf.random.set_seed(0)
    inp = tf.keras.Input(SHAPE, batch_size=None)
    x = tf.keras.layers.Conv2D(4, 3, dilation_rate=2, padding=padding, activation="relu")(inp)
    x = tf.keras.layers.DepthwiseConv2D(3, dilation_rate=(2, 2), padding=padding)(x)
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(8):
            yield [rng.standard_normal((1, *SHAPE)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(tf.keras.Model(inp, x))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    path.write_bytes(converter.convert())
    return str(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dilated")
    return {p: _convert(folder / f"{p}.tflite", p) for p in ("same", "valid")}


def test_dilated_convs_match_tflite_on_every_planner_and_kernel_set(models):
    from rnnedge.tflite import read_model

    path = models["same"]
    opcodes = [op.opcode for op in read_model(path).main.operators]
    assert opcodes.count("SPACE_TO_BATCH_ND") == opcodes.count("BATCH_TO_SPACE_ND") == 2
    x = np.random.default_rng(1).integers(-128, 128, (2, *SHAPE), dtype=np.int8)
    (ref,) = make_backend("tflite", path)(x)
    assert ref.std() > 0
    for planner in ("best", "inplace", "fused"):
        for kernels in ("reference", "optimized"):
            (got,) = make_backend("c", path, planner=planner, kernels=kernels, debug=True)(x)
            assert got.dtype == np.int8 and np.array_equal(got, ref), (planner, kernels)


@pytest.mark.slow
def test_dilated_convs_match_tflm_with_the_block_batch_declared(models, tmp_path):
    """'valid': the SPACE_TO_BATCH_ND padding reaches no output, so TFLM's uninitialised pad
    value (tests in kernels/tests/test_movement.py) does not show."""
    fu = pytest.importorskip("tensorflow.lite.tools.flatbuffer_utils",
                             reason="tensorflow (flatbuffer_utils) is not installed")
    m = fu.read_model(models["valid"])
    sg = m.subgraphs[0]
    for op in sg.operators:
        code = m.operatorCodes[op.opcodeIndex]
        name = max(code.builtinCode, code.deprecatedBuiltinCode)
        if name in (38, 3, 4):  # SPACE_TO_BATCH_ND, CONV_2D, DEPTHWISE_CONV_2D inside the blocks
            t = sg.tensors[op.outputs[0]]
            consumers = [o for o in sg.operators if op.outputs[0] in o.inputs]
            if name == 38 or all(m.operatorCodes[o.opcodeIndex].builtinCode == 37
                                 for o in consumers):
                t.shape = np.array([4, *t.shape[1:]], dtype=np.int32)  # block 2x2: 4 blocks
    fixed = tmp_path / "static.tflite"
    fu.write_model(m, str(fixed))
    x = np.random.default_rng(2).integers(-128, 128, (2, *SHAPE), dtype=np.int8)
    (tflm,) = make_backend("tflm", fixed)(x)
    (ref,) = make_backend("tflite", models["valid"])(x)
    assert np.array_equal(ref, tflm)  # the hand-declared model means the same as the original
    for planner in ("inplace", "fused"):
        (got,) = make_backend("c", models["valid"], planner=planner)(x)
        assert np.array_equal(got, tflm), planner
