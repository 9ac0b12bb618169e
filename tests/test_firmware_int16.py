"""int16x8 and TRANSPOSE_CONV models end to end: `rnnedge run --backend c` (best and inplace
plans, and the debug runtime) and the `rnnedge firmware` host build give TFLM's bytes on
random inputs; int16 ops without a C kernel are refused in one line naming the op."""

import numpy as np
import pytest
from click.testing import CliRunner

import int16_models
from rnnedge.cli import main
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim import toolchain
from rnnedge.firmware_sim.backends import make_backend
from rnnedge.firmware_sim.compiler import compile_model
from rnnedge.firmware_sim.runtime import Runtime
from rnnedge.tflite import read_model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{name: (model path, 3 random inputs of the model's input type, TFLM's outputs)}."""
    directory = tmp_path_factory.mktemp("int16-models")
    out = {}
    for name in int16_models.MODELS:
        path = int16_models.write(name, directory)
        port = read_model(path).main
        tensor = port.tensors[port.inputs[0]]
        rng = np.random.default_rng(5)
        shape = (3,) + tuple(tensor.shape[1:])
        if tensor.dtype == np.float32:
            x = rng.uniform(-1.5, 1.5, shape).astype(np.float32)
        else:
            info = np.iinfo(tensor.dtype)
            x = rng.integers(info.min, info.max + 1, shape, dtype=tensor.dtype)
        out[name] = (path, x, make_backend("tflm", path)(x))
    return out


def _opcodes(path):
    sg = read_model(path).main
    return {(op.opcode, sg.tensors[op.outputs[0]].type_name) for op in sg.operators}


def test_models_hold_the_ops_under_test(models):
    conv16, move16, tconv8 = (_opcodes(models[n][0]) for n in ("conv16", "move16", "tconv8"))
    assert {("CONV_2D", "INT16"), ("DEPTHWISE_CONV_2D", "INT16"), ("FULLY_CONNECTED", "INT16"),
            ("TRANSPOSE_CONV", "INT16"), ("ADD", "INT16"), ("MUL", "INT16"),
            ("MAX_POOL_2D", "INT16"), ("AVERAGE_POOL_2D", "INT16")} <= conv16
    assert {("QUANTIZE", "INT16"), ("PAD", "INT16"), ("CONCATENATION", "INT16"),
            ("STRIDED_SLICE", "INT16"), ("TRANSPOSE", "INT16"), ("SUB", "INT16"),
            ("RESIZE_NEAREST_NEIGHBOR", "INT16"), ("LOGISTIC", "INT16"), ("TANH", "INT16"),
            ("DEQUANTIZE", "FLOAT32")} <= move16
    assert ("TRANSPOSE_CONV", "INT8") in tconv8


@pytest.mark.slow
@pytest.mark.parametrize("planner", ["best", "inplace"])
@pytest.mark.parametrize("name", list(int16_models.MODELS))
def test_run_backend_c_matches_tflm(models, name, planner, tmp_path):
    path, x, expected = models[name]
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / ("y.npz" if len(expected) > 1 else "y.npy")
    result = CliRunner().invoke(main, ["run", path, "--input", str(tmp_path / "x.npy"),
                                       "--backend", "c", "--planner", planner,
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    saved = np.load(out)
    got = [saved[k] for k in saved.files] if len(expected) > 1 else [saved]
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert g.dtype == e.dtype and g.tobytes() == e.tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(int16_models.MODELS))
def test_debug_runtime_proves_the_plans(models, name):
    path, x, expected = models[name]
    for planner in ("best", "inplace"):
        runtime = Runtime(compile_model(path, planner), debug=True)
        got = [runtime.invoke(x[i:i + 1]) for i in range(len(x))]
        for k, e in enumerate(expected):
            assert np.concatenate([g[k] for g in got]).tobytes() == e.tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["conv16", "move16", "tconv8"])
def test_host_firmware_matches_tflm(models, name, tmp_path):
    path, x, expected = models[name]
    result = CliRunner().invoke(main, ["firmware", path, "-o", str(tmp_path / "fw"),
                                       "--planner", "inplace", "--build", "host"])
    assert result.exit_code == 0, result.output
    raw = toolchain.run_host(tmp_path / "fw" / "firmware", x.tobytes())
    sizes = [e[0].nbytes for e in expected]
    want = b"".join(e[i].tobytes() for i in range(len(x)) for e in expected)
    assert len(raw) == len(x) * sum(sizes) and raw == want
    called = {"conv16": "rn_conv_2d_16x8(", "move16": "rn_tanh_int16(",
              "tconv8": "rn_transpose_conv("}[name]
    assert called in (tmp_path / "fw" / "model.c").read_text()


TFLM_MODELS = ["conv_int16x8", "transpose_conv_int8", "transpose_conv_int16x8"]


@pytest.mark.slow
@pytest.mark.parametrize("name", TFLM_MODELS)
def test_tflm_test_models_run_like_tflm(tflm_model_paths, name, tmp_path):
    """rnnedge.tflm_test_models' int16x8 conv net (with MEAN and SOFTMAX) and Conv2DTranspose
    models: the C runtime (best and inplace, debug) and the host firmware give TFLM's bytes."""
    path = tflm_model_paths[name]
    sg = read_model(path).main
    tensor = sg.tensors[sg.inputs[0]]
    info = np.iinfo(tensor.dtype)
    x = np.random.default_rng(9).integers(info.min, info.max + 1,
                                          (3,) + tuple(tensor.shape[1:]), dtype=tensor.dtype)
    expected = make_backend("tflm", path)(x)
    for planner in ("best", "inplace"):
        program = compile_model(path, planner)
        runtime = Runtime(program, debug=True)
        got = [runtime.invoke(x[i:i + 1]) for i in range(len(x))]
        for k, e in enumerate(expected):
            assert np.concatenate([g[k] for g in got]).tobytes() == e.tobytes(), planner
    result = CliRunner().invoke(main, ["firmware", path, "-o", str(tmp_path / "fw"),
                                       "--build", "host"])
    assert result.exit_code == 0, result.output
    assert toolchain.run_host(tmp_path / "fw" / "firmware", x.tobytes()) == \
        b"".join(e[i].tobytes() for i in range(len(x)) for e in expected)


def test_int16_op_without_kernel_is_refused_naming_it(tmp_path):
    tf = pytest.importorskip("tensorflow")
    model = tf.keras.Sequential([tf.keras.Input((4,), batch_size=1),
                                 tf.keras.layers.Reshape((2, 2)), tf.keras.layers.ReLU()])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([np.ones((1, 4), np.float32) * i / 8]
                                           for i in range(-8, 9))
    conv.target_spec.supported_ops = [
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int16
    path = tmp_path / "relu16.tflite"
    path.write_bytes(conv.convert())
    with pytest.raises(RnnedgeError, match=r"op \d+ RELU: input .* is INT16; the C kernels take "
                                           r"INT8 activations for RELU"):
        compile_model(str(path))
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.int16))
    result = CliRunner().invoke(main, ["run", str(path), "--input", str(tmp_path / "x.npy"),
                                       "--backend", "c"])
    assert result.exit_code == 2 and "RELU" in result.output
