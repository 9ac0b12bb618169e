"""TFLM's persistent tail per op (rnnedge.tflm_tail) and the TFLM floor of issue 21
(benchmarks/npu_compare.py's tflm_floor), checked against tflite-micro's own measurement.

A tiny CRNN (a conv backbone and an SWS-BiRNN head, in every layout), its CNN "twin" (the
same backbone and a 1x1 conv head) and the backbone alone are exported and measured by TFLM:
the per-op accounting must give TFLM's tail, the twin's tail less its head's share must be
the measured tail of the backbone alone, and the floor must stay below every layout.
"""

import pytest
import torch
from torch import nn

from helpers import load_benchmark
from rnnedge.export.pipeline import export_int8
from rnnedge.layers import LAYOUTS, SWSBiRNN
from rnnedge.tflite import read_model
from rnnedge.tflm_probe import measure_tflm
from rnnedge.tflm_tail import KERNEL_DATA, kind_tail, op_tail, tail_estimate

SHAPE = (3, 6, 7)
WIDE = (3, 6, 8)  # one more step in the row pass
NORM = {"mean": [0.5], "std": [0.25]}
pytestmark = pytest.mark.slow


class Tiny(nn.Module):
    """backbone (conv 3 -> 8, ReLU) and a head: "crnn-<layout>" an SWS-BiRNN 8 -> 12 -> 10,
    "twin" a 1x1 conv 8 -> 10 with ReLU, "backbone" none."""

    def __init__(self, kind):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        if kind.startswith("crnn"):
            self.head = SWSBiRNN(8, 12, 10, layout=kind.split("-")[1])
        elif kind == "twin":
            self.head = nn.Sequential(nn.Conv2d(8, 10, 1), nn.ReLU())
        else:
            self.head = nn.Identity()

    def forward(self, x):
        return self.head(self.backbone(x))


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """kind -> (path, model, TFLM's measurement) for the twin, the backbone, each layout and
    the inplace layout on a map one column wider."""
    pytest.importorskip("tflite_micro",
                        reason="tflite-micro (the TFLM Python package) is not installed")
    folder = tmp_path_factory.mktemp("tflm_floor")
    out = {}
    kinds = ["twin", "backbone", "crnn-inplace-wide"] + [f"crnn-{layout}" for layout in LAYOUTS]
    for kind in kinds:
        torch.manual_seed(0)
        model = Tiny(kind).eval()
        path = str(folder / f"{kind}.tflite")
        shape = WIDE if kind.endswith("wide") else SHAPE
        export_int8(model, {"input_shape": list(shape), "normalization": NORM}, path,
                    calib_samples=8, check_samples=1)
        out[kind] = (path, model, measure_tflm(path))
    return out


def test_per_op_accounting_is_tflms_tail(measured):
    for kind, (path, _, tflm) in measured.items():
        model = read_model(path)
        records = tflm["records"]
        assert records["TfLiteEvalTensor data"]["used"] == 24 * len(model.main.tensors), kind
        assert records["NodeAndRegistration struct"]["used"] == 64 * len(model.main.operators), kind
        # per-op bytes exact; the allocator's fixed state is known to +-64 B
        assert abs(tail_estimate(model) - tflm["tail"]) <= max(64, 0.005 * tflm["tail"]), \
            (kind, tflm["tail"])


def test_kind_sizes_are_the_per_op_accounting(measured):
    """The floor's per-kind sizes (kind_tail) are the sizes the accounting checked against
    TFLM above gives the same ops in the exports."""
    for kind, (path, _, _) in measured.items():
        sg = read_model(path).main
        for op in sg.operators:
            if op.opcode in KERNEL_DATA and len(op.outputs) == 1:
                channels = sg.tensors[op.outputs[0]].shape[-1]
                assert kind_tail(op.opcode, channels) == op_tail(sg, op), (kind, op.opcode)


def test_twin_tail_less_its_head_is_the_backbones_tail(measured):
    npu = load_benchmark("npu_compare")
    twin_path, _, twin = measured["twin"]
    _, _, backbone = measured["backbone"]
    for layout in LAYOUTS:
        ops, head_tail = npu.twin_head_tail(measured[f"crnn-{layout}"][0], twin_path)
        assert ops == 1                                    # the 1x1 conv (ReLU fused)
        assert abs((twin["tail"] - head_tail) - backbone["tail"]) <= 64, layout


def test_floor_counts_the_layers_steps_and_stays_below_every_layout(measured):
    npu = load_benchmark("npu_compare")
    twin_path, _, twin = measured["twin"]
    _, model, _ = measured["crnn-inplace"]
    passes = npu.recurrent_passes(model, SHAPE)
    assert passes == [(7, 12, "tanh"), (6, 10, "tanh")]   # rows: T = W; columns: T = H
    for layout in LAYOUTS:
        path, _, tflm = measured[f"crnn-{layout}"]
        floor = npu.tflm_floor(path, twin_path, passes, tflm, twin)
        assert floor["steps"] == (7 - 1) + (6 - 1)
        assert floor["floor_fc"] < floor["floor_conv"] <= floor["crnn"], layout
        assert floor["floor_fc"] <= floor["fc_steps_estimate"] < floor["crnn"], layout
        # every layout holds at least the floor's ops beyond the backbone
        assert floor["recurrence_conv"] <= tflm["tail"] - floor["shared_tail"], layout
    # one more step in the row pass: the floor grows by one step (a CONV with 12 channels,
    # an ADD, a TANH), TFLM's measured tail by at least that
    step = npu.recurrence_tail([(8, 12, "tanh"), (6, 10, "tanh")]) - npu.recurrence_tail(passes)
    assert step > 0
    assert measured["crnn-inplace-wide"][2]["tail"] - measured["crnn-inplace"][2]["tail"] >= step
