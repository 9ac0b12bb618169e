"""The shape ops' lowering (export/lowerers_shape.py): Reshape of any rank with the NHWC
layout rule, Flatten on any axis, Squeeze, Unsqueeze, Gather with a constant scalar / 1-D
index, Shape/Cast folding. Each torch model is exported by torch.onnx.export, converted, and
its int8 outputs compared with onnxruntime on the float ONNX graph (within one output step:
these ops move bytes) and run in TFLM (its bytes equal TFLite's reference kernels')."""

import onnx
import pytest
import torch
from torch import nn

from lowering_helpers import check_against_ort, onnx_of
from rnnedge.export.lowering import lower


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _ops(model):
    return [op.kind for op in lower(model).ops]


CASES = {
    # 4-D map -> (N, T, F) sequence and back: the layout rule needs TRANSPOSEs
    "reshape_4d_3d_4d": ((1, 3, 4, 5), lambda x: (x.reshape(1, 3, 20) * 1.0).reshape(1, 6, 2, 5)),
    "view_batch_flatten": ((1, 4, 3, 2), lambda x: x.view(x.size(0), -1)),
    "flatten_axis2": ((1, 3, 4, 5), lambda x: torch.flatten(x, 2)),
    "flatten_3d": ((1, 6, 7), lambda x: torch.flatten(x, 1)),
    "squeeze_unsqueeze": ((1, 1, 4, 5), lambda x: x.squeeze(1).unsqueeze(-1)),
    "unsqueeze_to_map": ((1, 6, 5), lambda x: x.unsqueeze(2)),
    "gather_scalar_channel": ((1, 3, 4, 5), lambda x: x[:, 1]),
    "gather_scalar_row": ((1, 3, 4, 5), lambda x: x[:, :, 2]),
    "gather_scalar_seq": ((1, 7, 6), lambda x: x[:, -1]),
    "gather_list_progression": ((1, 8, 4, 4), lambda x: x[:, torch.tensor([6, 4, 2, 0])]),
    "gather_list_runs": ((1, 9, 6), lambda x: x[:, torch.tensor([0, 1, 5, 6, 2])]),
    "shape_driven_reshape": ((1, 2, 3, 4), lambda x: x.reshape(x.shape[0], x.shape[1], -1)),
    "cast_float": ((1, 2, 3, 4), lambda x: x.float().reshape(1, 24)),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_shape_op_matches_onnxruntime_and_tflm(case, tmp_path):
    shape, fn = CASES[case]
    model = onnx_of(Lambda(fn), shape)
    check_against_ort(model, shape, tmp_path, lsb=0.51)


def test_reshape_of_a_map_keeps_onnx_element_order():
    model = onnx_of(Lambda(lambda x: x.reshape(1, 3, 20)), (1, 3, 4, 5))
    assert _ops(model) == ["TRANSPOSE", "RESHAPE"]     # NHWC -> NCHW, then the reshape
    model = onnx_of(Lambda(lambda x: x.reshape(1, 4, 2, 5)), (1, 8, 5))
    assert _ops(model) == ["RESHAPE", "TRANSPOSE"]     # to NCHW (1,4,2,5), then NHWC


def test_transposes_that_move_no_byte_are_left_out():
    # a single channel: NHWC and NCHW order are the same bytes
    model = onnx_of(Lambda(lambda x: x.reshape(1, 20)), (1, 1, 4, 5))
    assert _ops(model) == ["RESHAPE"]
    model = onnx_of(Lambda(lambda x: x[:, 0]), (1, 3, 4, 5))    # Gather a channel
    assert _ops(model) == ["STRIDED_SLICE", "RESHAPE"]


def test_flatten_into_gemm_needs_no_reshape():
    net = nn.Sequential(nn.Conv2d(2, 3, 1), nn.Flatten(), nn.Linear(3 * 4 * 5, 4))
    assert _ops(onnx_of(net, (1, 2, 4, 5))) == ["CONV_2D", "FULLY_CONNECTED"]

    class View(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = net[0], net[2]

        def forward(self, x):
            return self.fc(self.conv(x).view(x.size(0), -1))
    assert _ops(onnx_of(View(), (1, 2, 4, 5))) == ["CONV_2D", "FULLY_CONNECTED"]


def test_gather_of_scattered_indices_uses_gather():
    idx = torch.tensor([0, 2, 4, 1, 3, 5, 7, 6, 9, 8, 11, 10])
    model = onnx_of(Lambda(lambda x: x[:, idx] * 2.0), (1, 12, 3))
    assert _ops(model)[0] == "GATHER"


def test_shape_arithmetic_is_folded(tmp_path):
    # x.reshape(x.shape[0], -1, x.shape[-1]) as an exporter writes it with dynamic shapes
    h = onnx.helper
    i64 = onnx.TensorProto.INT64
    nodes = [h.make_node("Shape", ["x"], ["s"]),
             h.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             h.make_node("Shape", ["x"], ["last"], start=-1),
             h.make_node("Concat", ["n", "minus1", "last"], ["target"], axis=0),
             h.make_node("Reshape", ["x", "target"], ["y"])]
    inits = [h.make_tensor("zero", i64, [1], [0]), h.make_tensor("minus1", i64, [1], [-1])]
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                               [1, 2, 3, 4])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    assert _ops(model) == ["TRANSPOSE", "RESHAPE"]
    check_against_ort(model, (1, 2, 3, 4), tmp_path, lsb=0.51)
