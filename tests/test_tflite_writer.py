"""Offline plans written as OfflineMemoryAllocation metadata: TFLM runs them, bit-identically."""

import numpy as np
import pytest

from rnnedge import tinyml_models
from rnnedge.planner import plan
from rnnedge.tflite import OFFLINE_PLAN_NAME, add_metadata, read_model, write_offline_plan
from rnnedge.tflite.writer import offline_plan_metadata
from rnnedge.tflm_probe import measure_tflm, run_tflm

MODELS = sorted(tinyml_models.BUILDERS)


def test_metadata_format():
    data = np.frombuffer(offline_plan_metadata({0: 64, 2: 0}, 4), "<i4")
    assert data.tolist() == [1, 0, 4, 64, -1, 0, -1]


def test_add_metadata_keeps_the_model(model_paths):
    raw = open(model_paths["resnet8"], "rb").read()
    new = add_metadata(raw, "rnnedge", b"hello")
    new = add_metadata(new, "rnnedge", b"replaced")  # same name: replaced, not duplicated
    a, b = read_model(raw), read_model(new)
    assert b.metadata_dict()["rnnedge"] == b"replaced"
    assert [m.name for m in b.metadata].count("rnnedge") == 1
    assert a.metadata_dict().items() <= b.metadata_dict().items()
    for ta, tb in zip(a.main.tensors, b.main.tensors, strict=True):
        assert (ta.name, ta.shape, ta.buffer) == (tb.name, tb.shape, tb.buffer)
        if ta.is_constant:
            np.testing.assert_array_equal(ta.data, tb.data)
            old, new = a.buffers[ta.buffer].file_offset, b.buffers[tb.buffer].file_offset
            assert old % 16 == new % 16
    assert [op.opcode for op in a.main.operators] == [op.opcode for op in b.main.operators]


def test_tflite_interpreter_accepts_written_model(model_paths):
    import tensorflow as tf

    raw = open(model_paths["ds_cnn"], "rb").read()
    new = write_offline_plan(raw, plan(read_model(raw), "best").tensor_offsets)
    assert new != raw and OFFLINE_PLAN_NAME in read_model(new).metadata_dict()
    x = np.random.default_rng(0).integers(-128, 128, (1, 49, 10, 1), dtype=np.int8)
    outputs = []
    for content in (raw, new):
        interpreter = tf.lite.Interpreter(model_content=content)
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        interpreter.set_tensor(detail["index"], x.reshape(detail["shape"]))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
    np.testing.assert_array_equal(outputs[0], outputs[1])  # same model, plan only added
    assert np.any(outputs[0] != outputs[0].flat[0])  # a real output, not a constant


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_offline_plan_runs_in_tflm_with_identical_outputs(model_paths, name, tmp_path):
    path = model_paths[name]
    model = read_model(path)
    best = plan(model, "best")
    planned = tmp_path / "planned.tflite"
    planned.write_bytes(write_offline_plan(model.raw, best.tensor_offsets))
    assert read_model(planned).metadata_dict()[OFFLINE_PLAN_NAME]
    assert measure_tflm(planned)["head"] == best.arena  # TFLM uses our layout
    sg = model.main
    rng = np.random.default_rng(3)
    inputs = [rng.integers(-128, 128, sg.tensors[t].shape).astype(np.int8) for t in sg.inputs]
    for ref, got in zip(run_tflm(path, inputs), run_tflm(planned, inputs), strict=True):
        np.testing.assert_array_equal(ref, got)
