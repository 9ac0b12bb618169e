"""rnnedge.tflite reader: agrees with TFLite's own parsers, and never crashes on bad files."""

import struct

import numpy as np
import pytest

from rnnedge import tinyml_models
from rnnedge.errors import RnnedgeError
from rnnedge.tflite import read_model
from rnnedge.tflite.flatbuf import Buf

MODELS = sorted(tinyml_models.BUILDERS)


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_tensors_match_tflite_interpreter(model_paths, name):
    import tensorflow as tf

    model = read_model(model_paths[name])
    interpreter = tf.lite.Interpreter(model_path=model_paths[name])
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    sg = model.main
    assert len(sg.tensors) == len(details)
    for t in sg.tensors:
        d = details[t.index]
        assert t.name == d["name"]
        assert list(t.shape) == list(d["shape"])
        assert t.dtype == np.dtype(d["dtype"])
        q = d["quantization_parameters"]
        if t.quantization is None:
            assert len(q["scales"]) == 0
        else:
            np.testing.assert_array_equal(t.quantization.scales, q["scales"])
            np.testing.assert_array_equal(t.quantization.zero_points, q["zero_points"])
            assert t.quantization.quantized_dimension == q["quantized_dimension"]
    inputs = [d["index"] for d in interpreter.get_input_details()]
    outputs = [d["index"] for d in interpreter.get_output_details()]
    assert list(sg.inputs) == inputs and list(sg.outputs) == outputs
    interpreter.allocate_tensors()
    for t in sg.tensors:
        if t.is_constant and t.dtype is not None:
            np.testing.assert_array_equal(t.data, interpreter.get_tensor(t.index))


@pytest.mark.parametrize("name", MODELS)
def test_operators_match_schema_object_api(model_paths, name):
    """Opcodes, operands and decoded options against flatc-generated Python (tflite_micro)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    raw = open(model_paths[name], "rb").read()
    ref = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(raw, 0))
    op_names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    model = read_model(raw)
    for op, ref_op in zip(model.main.operators, ref.subgraphs[0].operators, strict=True):
        code = ref.operatorCodes[ref_op.opcodeIndex]
        assert op.opcode == op_names[max(code.builtinCode, code.deprecatedBuiltinCode)]
        assert list(op.inputs) == list(ref_op.inputs)
        assert list(op.outputs) == list(ref_op.outputs)
        opts = ref_op.builtinOptions
        for key, value in op.options.items():
            camel = key.split("_")[0] + "".join(w.title() for w in key.split("_")[1:])
            expected = getattr(opts, camel)
            if key == "fused_activation_function":
                expected = ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"][expected]
            elif key == "padding":
                expected = ["SAME", "VALID"][expected]
            elif isinstance(value, list):
                expected = list(expected)
            assert value == expected, (op.opcode, key)
    assert {m.name for m in model.metadata} == {m.name.decode() for m in ref.metadata}


def test_conv_options_and_quantization(model_paths):
    sg = read_model(model_paths["resnet18_w02"]).main
    conv = sg.operators[0]
    assert conv.opcode == "CONV_2D"
    assert conv.options == {"padding": "SAME", "stride_w": 1, "stride_h": 1,
                            "fused_activation_function": "RELU",
                            "dilation_w_factor": 1, "dilation_h_factor": 1}
    weights = sg.tensors[conv.inputs[1]]
    assert weights.shape == (12, 3, 3, 3) and weights.dtype == np.int8
    assert weights.quantization.per_channel and weights.quantization.quantized_dimension == 0
    assert sg.tensors[conv.inputs[2]].dtype == np.int32
    strided = [op for op in sg.operators if op.options.get("stride_w") == 2]
    assert len(strided) == 6  # three projection blocks: conv-a and the 1x1 shortcut


# ---- malformed files: one-line RnnedgeError, never another exception ----

def _expect_error(data, match=None):
    with pytest.raises(RnnedgeError, match=match) as info:
        read_model(data)
    assert "\n" not in str(info.value)


def _first_op(raw):
    buf = Buf(raw)
    root = buf.table(buf.uoffset(0, "root"), "Model")
    sg = root.tables(2, "subgraphs")[0]
    return sg, sg.tables(3, "operators")[0]


def test_bad_magic_and_tiny_files(model_paths):
    raw = bytearray(open(model_paths["autoencoder"], "rb").read())
    raw[4:8] = b"XXXX"
    _expect_error(bytes(raw), "not a TFLite")
    _expect_error(b"", "at least 8")
    _expect_error(b"TFL3", "at least 8")
    _expect_error(b"\xff\xff\xff\x7fTFL3", "outside")


def test_missing_file_is_one_line(tmp_path):
    _expect_error(tmp_path / "nope.tflite", "cannot read")


def test_truncations_never_crash(model_paths):
    raw = open(model_paths["resnet8"], "rb").read()
    for cut in list(range(0, 256, 7)) + list(range(256, len(raw), len(raw) // 97)):
        _expect_error(raw[:cut])


def test_random_corruption_never_crashes(model_paths):
    raw = open(model_paths["ds_cnn"], "rb").read()
    rng = np.random.default_rng(1)
    errors = 0
    for _ in range(300):
        data = bytearray(raw)
        for pos in rng.integers(0, min(len(raw), 4096), 4):  # the tables live near the start
            data[pos] = rng.integers(0, 256)
        try:
            read_model(bytes(data))
        except RnnedgeError as exc:
            assert "\n" not in str(exc)
            errors += 1
    assert errors > 0


def test_bad_tensor_index(model_paths):
    raw = bytearray(open(model_paths["autoencoder"], "rb").read())
    _, op = _first_op(bytes(raw))
    start, _ = op.vector_span(1, "inputs")
    struct.pack_into("<i", raw, start, 99999)
    _expect_error(bytes(raw), "refers to tensor 99999")


def test_bad_opcode_and_buffer_index(model_paths):
    raw = open(model_paths["autoencoder"], "rb").read()
    sg, op = _first_op(raw)
    data = bytearray(raw)
    pos = op.field_pos(0)
    if pos is not None:  # opcode_index stored (0 may be defaulted away)
        struct.pack_into("<I", data, pos, 777)
        _expect_error(bytes(data), "opcode 777")
    tensor = next(t for t in sg.tables(0, "tensors") if t.field_pos(2) is not None)
    data = bytearray(raw)
    struct.pack_into("<I", data, tensor.field_pos(2), 123456)
    _expect_error(bytes(data), "buffer 123456")


def test_absurd_and_negative_shapes(model_paths):
    raw = open(model_paths["autoencoder"], "rb").read()
    sg, op = _first_op(raw)
    tensor = sg.tables(0, "tensors")[op.vector(2, "i", "outputs")[0]]
    start, count = tensor.vector_span(0, "shape")
    data = bytearray(raw)
    for i in range(count):
        struct.pack_into("<i", data, start + 4 * i, 1 << 20)
    _expect_error(bytes(data), "absurd")
    data = bytearray(raw)
    struct.pack_into("<i", data, start, -3)
    _expect_error(bytes(data), "negative dimension")


def test_float_model_is_read_and_flagged(tmp_path):
    import tensorflow as tf

    from rnnedge.arena_report import arena_report

    inp = tf.keras.Input((8,))
    model = tf.keras.Model(inp, tf.keras.layers.Dense(4)(inp))
    raw = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    parsed = read_model(raw)
    assert parsed.main.tensors[parsed.main.inputs[0]].dtype == np.float32
    report = arena_report(parsed)
    assert any(flag.startswith("float model") for flag in report["flags"])
    assert report["arena"]["tflm"] == 32 + 16  # 8 and 4 floats, 16-byte aligned
