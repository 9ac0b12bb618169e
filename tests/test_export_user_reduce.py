"""ReduceSum -> TFLM's int8 SUM, with axes as an input (opset 13+) or an attribute (opset 11
graphs), keepdims 0 and 1, on maps, sequences and vectors. Independent sources: onnxruntime's
float sum (TFLM's int8 output within one output step of it), tflite-micro (rnnedge's C kernel
gives its bytes), and TFLite's builtin kernels (within 1 LSB of TFLM). TFLite's reference SUM
(BUILTIN_REF) is shown to be wrong here, which is why the export verifies SUM models on the
builtin kernels (export/verify_user.REFERENCE_KERNEL_WRONG)."""

import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from lowering_helpers import Fn, held, onnx_of, ort_run
from rnnedge.export.converter import to_int8_tflite


def _attribute_form(shape, axes, keepdims):
    """An opset-11 ReduceSum (axes an attribute), written by hand."""
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["x"], ["y"], axes=axes, keepdims=keepdims)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])


CASES = {  # name: (input shape, ONNX model builder)
    "map_hw": ((1, 4, 6, 6), lambda s: onnx_of(Fn(lambda x: x.sum((2, 3))), s)),
    "map_channels_keepdims": ((1, 4, 6, 6), lambda s: onnx_of(Fn(lambda x: x.sum(1, keepdim=True)), s)),
    "map_width": ((1, 4, 5, 6), lambda s: onnx_of(Fn(lambda x: x.sum(3)), s)),
    "sequence_time": ((1, 7, 6), lambda s: onnx_of(Fn(lambda x: x.sum(1)), s, opset=18)),
    "vector_keepdims": ((1, 10), lambda s: onnx_of(Fn(lambda x: x.sum(-1, keepdim=True)), s)),
    "attribute_axes_opset11": ((1, 4, 6, 6), lambda s: _attribute_form(s, [1, 3], 0)),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_reduce_sum_is_tflm_sum_and_follows_float(name, tmp_path):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    litert = pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert is not "
                                 "installed")
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.tflite import read_model
    from rnnedge.tflm_probe import run_tflm
    shape, build = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build(shape)
    assert "ReduceSum" in {n.op_type for n in model.graph.node}
    rng = np.random.default_rng(0)
    tflite = to_int8_tflite(model, [rng.uniform(-1, 1, shape).astype(np.float32)
                                    for _ in range(24)]).tflite
    sg = read_model(tflite).main
    assert [op.opcode for op in sg.operators if op.opcode not in ("RESHAPE", "TRANSPOSE")] == ["SUM"]
    path = tmp_path / "m.tflite"
    path.write_bytes(tflite)
    sample = np.random.default_rng(5).uniform(-0.9, 0.9, shape).astype(np.float32)
    want = held(ort_run(model, {model.graph.input[0].name: sample})[0])
    qi, qo = (sg.tensors[sg.inputs[0]].quantization, sg.tensors[sg.outputs[0]].quantization)
    q = np.clip(np.round(held(sample) / qi.scales[0]) + qi.zero_points[0], -128, 127).astype(np.int8)
    micro = np.asarray(run_tflm(str(path), [q])[0]).reshape(want.shape)
    for planner in ("best", "inplace"):
        c_out = make_backend("c", str(path), planner=planner, debug=True)(q)[0]
        assert np.asarray(c_out).tobytes() == micro.tobytes(), planner
    got = (micro.astype(np.float32) - qo.zero_points[0]) * qo.scales[0]
    # the float sum of the quantised input, within one output step (+ the input's rounding)
    in_step = qi.scales[0] * int(np.prod(shape) // want.size)
    assert np.abs(got - want).max() <= qo.scales[0] + 0.5 * in_step
    lsb = {}
    for kernels in ("BUILTIN_WITHOUT_DEFAULT_DELEGATES", "BUILTIN_REF"):
        interp = litert.Interpreter(model_content=tflite, experimental_op_resolver_type=getattr(
            litert.OpResolverType, kernels))
        interp.allocate_tensors()
        interp.set_tensor(interp.get_input_details()[0]["index"], q)
        interp.invoke()
        out = interp.get_tensor(interp.get_output_details()[0]["index"]).reshape(want.shape)
        lsb[kernels] = int(np.abs(out.astype(int) - micro).max())
    assert lsb["BUILTIN_WITHOUT_DEFAULT_DELEGATES"] <= 1   # its own rounding of the rescale
    assert lsb["BUILTIN_REF"] > 4, "TFLite's reference SUM now agrees: drop REFERENCE_KERNEL_WRONG"


@pytest.mark.slow
def test_sum_model_export_verifies_on_builtin_kernels(tmp_path):
    from rnnedge.export import export_onnx_file
    path = tmp_path / "m.onnx"
    class Pooled(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 6, 3, padding=1)

        def forward(self, x):
            return torch.relu(self.conv(x)).sum((2, 3))
    model = onnx_of(Pooled(), (1, 3, 8, 8))
    onnx.save(model, str(path))
    report = export_onnx_file(str(path), str(tmp_path / "m.tflite"), check_samples=8)
    v = report["verification"]
    assert v["tflite_kernels"] == "BUILTIN_WITHOUT_DEFAULT_DELEGATES"
    assert v["tflm_runs"] and v["tflm_max_lsb_diff"] <= 1, v
    assert v["cosine"] >= 0.999, v


@pytest.mark.parametrize("fn", [lambda x: x.norm(dim=(2, 3)),             # a norm kept as a value
                                lambda x: nn.functional.normalize(x, dim=2)])   # over rows
def test_reduce_l2_other_than_normalisation_over_the_last_axis_is_refused(fn):
    from rnnedge.errors import RnnedgeError
    model = onnx_of(Fn(fn), (1, 4, 6, 6))
    with pytest.raises(RnnedgeError, match=r"ReduceL2 \(node .*F.normalize"):
        to_int8_tflite(model, [np.zeros((1, 4, 6, 6), np.float32) + 0.5])
