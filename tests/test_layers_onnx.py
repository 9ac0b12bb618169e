"""The static forms export to ONNX as plain ops (no Loop/Scan/If/RNN/GRU/LSTM, no Gather or
Reshape, Transpose only as the H<->W swap), weights stay shared, and onnxruntime matches the
reference form."""

import io

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from rnnedge.layers import CELLS, SRNN, BiRNN, RowRNN, SWSBiRNN, WSBiRNN, set_form

FORBIDDEN = {"Loop", "Scan", "If", "RNN", "GRU", "LSTM", "Gather", "Reshape"}
SWAP_H_W = [0, 1, 3, 2]


def _export(module, x):
    buffer = io.BytesIO()
    torch.onnx.export(module, (x,), buffer, opset_version=17, dynamo=False, input_names=["x"])
    return onnx.load_from_string(buffer.getvalue())


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("make", [lambda c: RowRNN(3, 4, c), lambda c: SRNN(3, 4, 5, c), lambda c: WSBiRNN(3, 4, c),
                                  lambda c: SWSBiRNN(3, 4, 5, c), lambda c: BiRNN(3, 4, c, merge="concat")],
                         ids=["row", "srnn", "ws-birnn", "sws-birnn", "birnn"])
def test_static_export_is_plain_and_matches(make, cell):
    torch.manual_seed(0)
    module = set_form(make(cell).eval(), "static")
    x = torch.randn(1, 3, 12, 23)
    model = _export(module, x)
    onnx.checker.check_model(model)
    ops = {node.op_type for node in model.graph.node}
    assert not ops & FORBIDDEN, ops & FORBIDDEN
    perms = [list(a.ints) for n in model.graph.node if n.op_type == "Transpose" for a in n.attribute]
    assert all(perm == SWAP_H_W for perm in perms), perms
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"x": x.numpy()})
    with torch.no_grad():
        expected = set_form(module, "reference")(x).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


def test_weights_are_single_initializers_shared_by_every_step():
    module = set_form(SWSBiRNN(3, 4, 5).eval(), "static")
    model = _export(module, torch.randn(1, 3, 6, 7))
    conv_weights = [n.input[1] for n in model.graph.node if n.op_type == "Conv"]
    # Two projections + (W-1) + (H-1) recurrent steps read only four distinct weight tensors.
    assert len(conv_weights) == 2 + 6 + 5
    assert len(set(conv_weights)) == 4


def test_tanh_pass_costs_three_ops_per_step():
    module = set_form(WSBiRNN(3, 4).eval(), "static")
    model = _export(module, torch.randn(1, 3, 6, 9))
    counts = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    # 9 steps: Tanh at every step, Conv and Add after the first; plus the projection and one
    # Add per output row summing the two directions.
    assert counts["Tanh"] == 9
    assert counts["Conv"] == 1 + 8
    assert counts["Add"] == 8 + 9
