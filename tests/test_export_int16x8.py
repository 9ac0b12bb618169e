"""`--int16x8` (TFLite's 16x8 mode): int16 activations and graph ends (zero point 0), int8
per-channel weights, int64 biases, TFLM's int16 fixed output scales; the file runs in
TFLite's reference kernels and TFLM, and follows the float model at least as closely as the
int8 export (cosine computed against onnxruntime by the verification on held-apart inputs)."""

import warnings

import numpy as np
import pytest
from torch import nn

import user_models
from rnnedge.errors import RnnedgeError
from rnnedge.export import export_module


def _export(net, shapes, path, int16x8):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return export_module(net, shapes, str(path), int16x8=int16x8, check_samples=10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tiny_yolo", "mobilenetv2"])
def test_16x8_export_is_int16_and_closer_to_float(name, tmp_path):
    from rnnedge.tflite import read_model
    net, shapes = user_models.build(name), user_models.MODELS[name][1]
    int8 = _export(net, shapes, tmp_path / "a.tflite", False)
    wide = _export(net, shapes, tmp_path / "b.tflite", True)
    sg = read_model(str(tmp_path / "b.tflite")).main
    for i in list(sg.inputs) + list(sg.outputs):
        assert sg.tensors[i].type_name == "INT16"
    biases = [sg.tensors[op.inputs[2]] for op in sg.operators if op.opcode == "CONV_2D"]
    assert biases and all(b.type_name == "INT64" for b in biases)
    assert {sg.tensors[op.inputs[1]].type_name for op in sg.operators
            if op.opcode == "CONV_2D"} == {"INT8"}
    for op in sg.operators:
        if op.opcode == "LOGISTIC":
            out = sg.tensors[op.outputs[0]]
            q = out.quantization
            assert np.isclose(q.scales[0], 1 / 32768) and q.zero_points[0] == 0
    assert wide["stats"]["problems"] == [] and wide["activations"] == "int16"
    assert wide["verification"]["cosine"] >= int8["verification"]["cosine"] - 1e-6
    v = wide["verification"]
    assert v["tflm_runs"] and v["tflm_max_lsb_diff"] <= 1, v  # TFLM's int16 rounding: 1 LSB


def test_16x8_refuses_ops_tflm_has_no_int16_kernel(tmp_path):
    net = nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(-1))
    with pytest.raises(RnnedgeError, match="no int16 LOG_SOFTMAX"):
        _export(net, [(1, 4)], tmp_path / "x.tflite", True)
    assert not (tmp_path / "x.tflite").exists()

