"""TFLM's memory, measured by tflite-micro itself (tflm_probe), against rnnedge's figures:
the `tflm` planner equals TFLM's head (scratch of TRANSPOSE_CONV 16x8, SVDF, LSTM included;
every subgraph of WHILE models planned), the tail estimate is within TAIL_TOLERANCE, the
WHILE loop's MACs count its body, unknown ops make the figures lower bounds, and
`--verify-tflm` exits 1 when the head differs."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge import tflm_scratch, tflm_test_models
from rnnedge.arena_report import arena_report
from rnnedge.cli import main
from rnnedge.op_table import tail_estimate
from rnnedge.planner import plan
from rnnedge.tflite import read_model
from rnnedge.tflm_probe import measure_tflm
from rnnedge.tflm_schema_models import Graph
from rnnedge.tflm_tail import TAIL_TOLERANCE

TEST_MODELS = sorted(tflm_test_models.BUILDERS)
TINYML = ["autoencoder", "ds_cnn", "unet"]


def _model(path):
    with open(path, "rb") as f:
        return read_model(f.read())


@pytest.mark.slow
@pytest.mark.parametrize("name", TEST_MODELS)
def test_tflm_planner_is_tflm_head_and_tail_within_tolerance(tflm_model_paths, name):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    path = tflm_model_paths[name]
    model = _model(path)
    measured = measure_tflm(path)
    assert plan(model, "tflm").arena == measured["head"]
    assert abs(tail_estimate(model) - measured["tail"]) <= TAIL_TOLERANCE * measured["tail"]


@pytest.mark.slow
def test_resource_variable_tail_is_modelled(tflm_model_paths):
    """CALL_ONCE / VAR_HANDLE / ASSIGN_VARIABLE kernel data and MicroResourceVariables' table
    and buffers are in the estimate: within 2% of TFLM's measured tail (5% without them), and
    TFLM's persistent-buffer allocations are the ones the estimate counts: one per op with
    kernel data, two per-channel arrays of the FULLY_CONNECTED, the table and its entries,
    the variable's buffer, the input and output pointer arrays."""
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    path = tflm_model_paths["variable_int8"]
    measured = measure_tflm(path)
    assert abs(tail_estimate(_model(path)) - measured["tail"]) <= 0.02 * measured["tail"]
    # kernel data: QUANTIZE, FULLY_CONNECTED, ADD, TANH, DEQUANTIZE, 2 VAR_HANDLE, CALL_ONCE,
    # 2 ASSIGN_VARIABLE; the FULLY_CONNECTED's 2 per-channel arrays; MicroResourceVariables'
    # object and entries; the variable's buffer; the input and output pointer arrays
    assert measured["records"]["Persistent buffer data"]["count"] == 10 + 2 + 2 + 1 + 2


@pytest.mark.slow
@pytest.mark.parametrize("name", TINYML)
def test_tail_within_tolerance_on_tinyml(model_paths, name):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    measured = measure_tflm(model_paths[name])
    estimate = tail_estimate(_model(model_paths[name]))
    assert abs(estimate - measured["tail"]) <= TAIL_TOLERANCE * measured["tail"]


def test_transpose_conv_16x8_scratch_is_int64(tflm_model_paths):
    """8 B per output element (TFLM's int64 accumulators), 4 B for int8: against the
    output shape read from the file, and TFLM's head is input + output + scratch."""
    for name, per in (("transpose_conv_int8", 4), ("transpose_conv_int16x8", 8)):
        sg = _model(tflm_model_paths[name]).main
        out = sg.tensors[sg.operators[0].outputs[0]]
        assert tflm_scratch.kernel_scratch(sg) == [
            (0, per * int(np.prod(out.shape)), f"op0 TRANSPOSE_CONV "
             f"{'scratch' if per == 4 else 'int64 scratch'}")]


def test_lstm_and_svdf_scratch(tflm_model_paths):
    sg = _model(tflm_model_paths["lstm_int8"]).main
    # 4 buffers of batch 1 x 10 units x int16 cell state
    assert [b for _, b, _ in tflm_scratch.kernel_scratch(sg)] == [20, 20, 20, 20]
    sg = _model(tflm_model_paths["svdf_int8"]).main
    # batch 1 x 8 filters x int32, batch 1 x 4 units x int32
    assert [b for _, b, _ in tflm_scratch.kernel_scratch(sg)] == [32, 16]


def _body_macs(body) -> int:
    """eq. 17 by hand from the body's shapes: FULLY_CONNECTED units x depth (+ units with a
    bias), ADD one per output element, the other body ops (QUANTIZE, TANH, ...) none."""
    total = 0
    for op in body.operators:
        if op.opcode == "FULLY_CONNECTED":
            units, depth = body.tensors[op.inputs[1]].shape
            bias = len(op.inputs) > 2 and op.inputs[2] >= 0
            total += units * depth + (units if bias else 0)
        elif op.opcode == "ADD":
            total += int(np.prod(body.tensors[op.outputs[0]].shape, dtype=np.int64))
    return total


def test_while_loop_planned_and_counted(tflm_model_paths):
    """while_int8: a 5-step tf.while_loop whose body holds an 8x8 FULLY_CONNECTED: the WHILE
    counts 5 body runs, and the body's weights are parameters of the report."""
    model = _model(tflm_model_paths["while_int8"])
    report = arena_report(model)
    loop = next(o for o in report["ops"] if o["op"] == "WHILE")
    per = _body_macs(model.subgraphs[2])
    assert per >= 64 + 8
    assert loop["trip_count"] == 5 and loop["macs_per_iteration"] == per
    assert loop["macs"] == 5 * per and report["macs"] == 5 * per
    fc = [o for o in report["ops"] if o.get("subgraph") == 2 and o["op"] == "FULLY_CONNECTED"]
    assert len(fc) == 1 and fc[0]["params"] >= 64
    assert report["params"]["count"] >= fc[0]["params"]
    assert any("3 subgraphs" in f for f in report["flags"])


def test_keras_lstm_loop_trip_count_is_its_time_steps(tflm_model_paths):
    model = _model(tflm_model_paths["lstm_while_int8"])
    loop = next(o for o in arena_report(model)["ops"] if o["op"] == "WHILE")
    assert loop["trip_count"] == 8  # the Keras input has 8 time steps


def test_int16_activations_are_flagged(tflm_model_paths):
    report = arena_report(_model(tflm_model_paths["conv_int16x8"]))
    assert any("int16" in f for f in report["flags"])
    assert not report["arena_is_lower_bound"]


def _custom_model(tmp_path):
    g = Graph()
    x = g.tensor("x", (1, 8), np.int8, 0.1)
    y = g.tensor("y", (1, 8), np.int8, 0.1)
    g.op("MyVendorOp", [x], [y])
    path = tmp_path / "custom.tflite"
    path.write_bytes(g.pack([x], [y], "custom op test"))
    return path


def test_unknown_op_makes_figures_lower_bounds(tmp_path):
    result = CliRunner().invoke(main, ["arena", str(_custom_model(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["arena_is_lower_bound"] is True
    assert any("MyVendorOp" in f and "lower bounds" in f for f in report["flags"])
    text = CliRunner().invoke(main, ["arena", str(_custom_model(tmp_path))]).output
    assert "all lower bounds" in text


@pytest.mark.slow
def test_verify_tflm_exits_1_when_head_differs(tflm_model_paths, monkeypatch):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    path = tflm_model_paths["transpose_conv_int16x8"]
    ok = CliRunner().invoke(main, ["arena", path, "--verify-tflm"])
    assert ok.exit_code == 0, ok.output
    monkeypatch.setattr(tflm_scratch, "RULES", {})  # forget the int64 scratch
    bad = CliRunner().invoke(main, ["arena", path, "--verify-tflm"])
    assert bad.exit_code == 1
    assert "7,488 B" in bad.output and "1,728 B" in bad.output  # measured, and ours without


@pytest.mark.slow
def test_offline_plan_of_all_subgraphs_is_what_tflm_uses(tflm_model_paths, tmp_path):
    """--write-plan on a WHILE model writes offsets for every subgraph's tensors; TFLM's
    measured head with it is the `best` arena (below its own greedy plan here)."""
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    path = tflm_model_paths["lstm_while_int8"]
    out = tmp_path / "planned.tflite"
    result = CliRunner().invoke(main, ["arena", path, "--write-plan", str(out), "--verify-tflm",
                                       "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["written_plan"]["tflm_head"] == report["arena"]["best"]
    assert report["arena"]["best"] <= report["arena"]["tflm"] == report["tflm"]["head"]


@pytest.mark.parametrize("index", [0, 1, 7])
def test_malformed_control_flow_is_one_error_line(tmp_path, index):
    """A WHILE calling itself (subgraph 0) or a subgraph the model lacks: `arena` refuses in
    one line (TFLM itself would recurse or read out of range)."""
    from ai_edge_litert import schema_py_generated as fb
    g = Graph()
    x = g.tensor("x", (1, 4), np.int8, 0.1)
    y = g.tensor("y", (1, 4), np.int8, 0.1)
    opt = fb.WhileOptionsT()
    opt.condSubgraphIndex, opt.bodySubgraphIndex = index, index
    g.op(fb.BuiltinOperator.WHILE, [x], [y], fb.BuiltinOptions.WhileOptions, opt)
    path = tmp_path / "while.tflite"
    path.write_bytes(g.pack([x], [y], "bad while"))
    result = CliRunner().invoke(main, ["arena", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: WHILE operator 0 calls subgraph")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_detection_postprocess_scratch_is_tflm_head(tmp_path):
    """TFLite_Detection_PostProcess requests eleven scratch buffers sized from its flexbuffer
    options; a one-op model's `tflm` figure equals TFLM's head."""
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    from flatbuffers import flexbuffers
    g = Graph()
    n, classes, detections = 20, 3, 5
    boxes = g.tensor("boxes", (1, n, 4), np.float32)
    scores = g.tensor("scores", (1, n, classes + 1), np.float32)
    anchors = g.tensor("anchors", (n, 4), np.float32,
                       data=np.tile(np.array([0.5, 0.5, 0.2, 0.2], np.float32), (n, 1)))
    outs = [g.tensor("b", (1, detections, 4), np.float32),
            g.tensor("c", (1, detections), np.float32),
            g.tensor("s", (1, detections), np.float32), g.tensor("n", (1,), np.float32)]
    options = flexbuffers.Dumps({
        "max_detections": detections, "max_classes_per_detection": 1,
        "detections_per_class": 1, "use_regular_nms": False, "nms_score_threshold": 0.3,
        "nms_iou_threshold": 0.5, "num_classes": classes, "y_scale": 10.0, "x_scale": 10.0,
        "h_scale": 5.0, "w_scale": 5.0})
    g.op("TFLite_Detection_PostProcess", [boxes, scores, anchors], outs,
         custom_options=bytes(options))
    path = tmp_path / "postprocess.tflite"
    path.write_bytes(g.pack([boxes, scores], outs, "detection post-process"))
    model = _model(path)
    assert len(tflm_scratch.kernel_scratch(model.main)) == 11
    assert plan(model, "tflm").arena == measure_tflm(path)["head"]
    assert not arena_report(model)["arena_is_lower_bound"]


def test_a_loop_body_calling_itself_is_refused(tflm_model_paths):
    """Rewire while_int8 so its body holds a WHILE over the body again: planning refuses in
    one error (TFLM would recurse without end); MACs of such a loop are unknown."""
    import dataclasses

    from rnnedge.errors import RnnedgeError
    model = _model(tflm_model_paths["while_int8"])
    body = model.subgraphs[2]
    loop = next(op for op in model.main.operators if op.opcode == "WHILE")
    again = dataclasses.replace(loop, index=len(body.operators), inputs=body.inputs,
                                outputs=body.outputs)
    odd = dataclasses.replace(model, subgraphs=model.subgraphs[:2] + (
        dataclasses.replace(body, operators=body.operators + (again,)),))
    with pytest.raises(RnnedgeError, match="calls itself"):
        plan(odd, "tflm")
    from rnnedge.control_flow import operator_macs
    assert operator_macs(odd, odd.main, loop)["macs"] is None
