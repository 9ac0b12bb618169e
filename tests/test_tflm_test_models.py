"""rnnedge.tflm_test_models: every model builds, holds the ops it promises with the promised
activation types, and tflite-micro loads and runs it (the independent check that the
hand-written and calibrator-free models are valid for TFLM)."""

import os

import numpy as np
import pytest

from rnnedge.tflite import read_model
from rnnedge.tflm_probe import run_tflm

EXPECTED = {  # name: (an op of each subgraph that must be there, input activation type)
    "conv_int16x8": ({"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "FULLY_CONNECTED"}, "INT16"),
    "transpose_conv_int8": ({"TRANSPOSE_CONV"}, "INT8"),
    "transpose_conv_int16x8": ({"TRANSPOSE_CONV"}, "INT16"),
    "two_input_int8": ({"FULLY_CONNECTED", "ADD"}, "INT8"),
    "while_int8": ({"WHILE"}, "INT8"),
    "lstm_while_int8": ({"WHILE"}, "INT8"),
    "svdf_int8": ({"SVDF"}, "INT8"),
    "svdf_int8_state8": ({"SVDF"}, "INT8"),
    "lstm_int8": ({"UNIDIRECTIONAL_SEQUENCE_LSTM"}, "INT8"),
    "lstm_int16x8": ({"UNIDIRECTIONAL_SEQUENCE_LSTM"}, "INT16"),
    "gru_while_int8": ({"WHILE"}, "INT8"),
    "if_int8": ({"IF"}, "INT8"),
    "variable_int8": ({"CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"}, "INT8"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_model_has_its_ops_and_tflm_runs_it(tflm_model_paths, name):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    path = tflm_model_paths[name]
    model = read_model(open(path, "rb").read())
    ops, dtype = EXPECTED[name]
    assert ops <= {op.opcode for op in model.main.operators}
    main = model.main
    assert {main.tensors[i].type_name for i in main.inputs} == {dtype}
    if name in ("while_int8", "lstm_while_int8"):
        assert len(model.subgraphs) == 3  # main, cond, body
        body = {op.opcode for op in model.subgraphs[2].operators}
        assert "FULLY_CONNECTED" in body
    rng = np.random.default_rng(1)
    inputs = [rng.integers(-100, 100, main.tensors[i].shape).astype(main.tensors[i].dtype)
              for i in main.inputs]
    outputs = run_tflm(path, inputs)
    assert len(outputs) == len(main.outputs)
    for out, t in zip(outputs, main.outputs):
        assert out.shape == tuple(main.tensors[t].shape)
        assert out.dtype == main.tensors[t].dtype


def test_two_input_model_has_two_inputs_and_outputs(tflm_model_paths):
    model = read_model(open(tflm_model_paths["two_input_int8"], "rb").read())
    assert len(model.main.inputs) == 2 and len(model.main.outputs) == 2


def test_cached_file_is_reused(tflm_model_paths, tmp_path):
    from rnnedge import tflm_test_models
    first = tflm_test_models.tflite_path("svdf_int8", str(tmp_path))
    mtime = os.path.getmtime(first)
    assert tflm_test_models.tflite_path("svdf_int8", str(tmp_path)) == first
    assert os.path.getmtime(first) == mtime


def test_unknown_name_is_refused():
    from rnnedge import tflm_test_models
    from rnnedge.errors import RnnedgeError
    with pytest.raises(RnnedgeError, match="unknown TFLM test model"):
        tflm_test_models.tflite_path("nope")
