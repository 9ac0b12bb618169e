"""`--recurrent-step fc` (rnnedge.export.fc_steps): the unrolled recurrence's 1x1
convolutions exported as per-tensor int8 FULLY_CONNECTED ops, checked against independent
sources: the layer's structure (how many steps and projections a pass has), the flatbuffer
as rnnedge.tflite reads it, TFLite's reference kernels (int8 vs float PyTorch, beside the
per-channel CONV_2D export of the same weights), tflite-micro (it runs the model, and its
RecordingMicroAllocator measures the tail), the C kernels (bit-exact with TFLM under every
planner) and Vela (0 CPU ops).

A tiny CRNN (conv backbone, SWS-BiRNN head on a 6 x 7 map: 6 + 5 steps) in every layout,
exported with CONV_2D and with FC steps, and its CNN twin (no recurrence: unchanged).
"""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from helpers import assert_c_equals_tflm, compile_with, model_inputs
from rnnedge.cli import main
from rnnedge.export.converter import to_int8_tflite
from rnnedge.export.pipeline import export_int8
from rnnedge.layers import LAYOUTS, SWSBiRNN
from rnnedge.tflite import read_model
from rnnedge.tflm_tail import kind_tail, op_tail, tail_estimate

SHAPE = (3, 6, 7)
NORM = {"mean": [0.5], "std": [0.25]}
STEPS = (7 - 1) + (6 - 1)       # row pass: T = W = 7, column pass: T = H = 6; h_0 needs no W_hh
PROJECTIONS = 2                 # one W_ih projection a pass (in "pairs" one run of 7 <= 10 rows)
pytestmark = pytest.mark.slow


class Tiny(nn.Module):
    """conv 3 -> 8 (ReLU) and a head: an SWS-BiRNN 8 -> 12 -> 10 in `layout`, or for "twin"
    a 1x1 conv 8 -> 10 (no recurrence)."""

    def __init__(self, layout):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(8, 10, 1) if layout == "twin" else SWSBiRNN(8, 12, 10, layout=layout)

    def forward(self, x):
        return self.head(self.backbone(x))


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """(layout, step) -> (path, report) for every layout and the twin, both step ops."""
    folder = tmp_path_factory.mktemp("fc_steps")
    out = {}
    for layout in LAYOUTS + ("twin",):
        for step in ("conv", "fc"):
            torch.manual_seed(0)
            path = str(folder / f"{layout}-{step}.tflite")
            report = export_int8(Tiny(layout).eval(), {"input_shape": list(SHAPE),
                                                      "normalization": NORM},
                                 path, calib_samples=8, check_samples=4, recurrent_step=step)
            out[layout, step] = (path, report)
    return out


def _ops(path, opcode):
    sg = read_model(path).main
    return sg, [op for op in sg.operators if op.opcode == opcode]


def test_fc_replaces_exactly_the_steps_and_projections(exports):
    for layout in LAYOUTS:
        conv_path, conv = exports[layout, "conv"]
        fc_path, fc = exports[layout, "fc"]
        assert conv["stats"]["op_counts"]["CONV_2D"] == 1 + STEPS + PROJECTIONS, layout
        assert "FULLY_CONNECTED" not in conv["stats"]["op_counts"], layout
        counts = fc["stats"]["op_counts"]
        assert counts["FULLY_CONNECTED"] == STEPS + PROJECTIONS, layout
        assert counts["CONV_2D"] == 1, layout            # the 3x3 backbone conv stays
        assert fc["stats"]["ops"] == conv["stats"]["ops"], layout
        sg, fcs = _ops(fc_path, "FULLY_CONNECTED")
        for op in fcs:
            weight, out = sg.tensors[op.inputs[1]], sg.tensors[op.outputs[0]]
            assert weight.quantization is not None and not weight.quantization.per_channel
            assert len(weight.shape) == 2 and len(out.shape) == 4      # keep_num_dims
            assert op.options["keep_num_dims"] is True
        # weights stored once: W_hh and W_ih of each pass, one buffer each
        assert len({sg.tensors[op.inputs[1]].buffer for op in fcs}) == 4, layout
        assert fc["stats"]["duplication_factor"] == 1.0, layout


def test_a_model_without_a_recurrence_is_unchanged(exports):
    with open(exports["twin", "conv"][0], "rb") as a, open(exports["twin", "fc"][0], "rb") as b:
        assert a.read() == b.read()


def test_per_tensor_fc_accuracy_beside_per_channel_conv(exports):
    """int8 (TFLite's reference kernels) against float PyTorch on the check inputs: the
    per-tensor FC steps lose little against the per-channel CONV_2D steps."""
    for layout in LAYOUTS:
        conv = exports[layout, "conv"][1]["verification"]
        fc = exports[layout, "fc"][1]["verification"]
        assert fc["cosine"] > 0.999, layout
        assert fc["max_abs_diff"] <= 1.25 * conv["max_abs_diff"], (layout, fc, conv)
        assert fc["mean_abs_diff"] <= 1.25 * conv["mean_abs_diff"], (layout, fc, conv)


def test_c_kernels_bit_exact_with_tflm(exports):
    for layout in LAYOUTS:
        path, report = exports[layout, "fc"]
        assert report["verification"]["tflm_runs"], layout
        assert_c_equals_tflm(path, layout)


def test_tflm_tail_of_fc_steps(exports):
    """TFLM's measured tail: the accounting (FC at its measured size) gives it, and FC steps
    save the per-channel arrays of every converted op (2 x 48 B for 12 and 10 channels)."""
    pytest.importorskip("tflite_micro",
                        reason="tflite-micro (the TFLM Python package) is not installed")
    from rnnedge.tflm_probe import measure_tflm
    for layout in LAYOUTS:
        conv_path, fc_path = exports[layout, "conv"][0], exports[layout, "fc"][0]
        conv, fc = measure_tflm(conv_path)["tail"], measure_tflm(fc_path)["tail"]
        saved = STEPS + PROJECTIONS
        # as for CONV_2D (test_tflm_tail_floor), and the FC's unrecorded bytes vary by up to
        # 4 B an op with the allocation's alignment (measured: 0 on det-crnn-480x640's 272)
        assert abs(tail_estimate(read_model(fc_path)) - fc) <= max(64, 0.005 * fc) + 4 * saved, \
            layout
        # per op: the arrays (96 B) and 28 - 32 B of params; two zero-bias tensors go (24 B each)
        assert abs((conv - fc) - (saved * (96 - 4) + 2 * 24)) <= 8 * saved, (layout, conv, fc)
        sg, fcs = _ops(fc_path, "FULLY_CONNECTED")
        assert all(op_tail(sg, op) == kind_tail("FULLY_CONNECTED") for op in fcs)


def test_vela_runs_fc_steps_on_the_npu(exports):
    pytest.importorskip("ethosu.vela", reason="Vela (ethos-u-vela) is not installed")
    from rnnedge.export.vela_check import vela_summary
    for layout in ("stacked", "pairs"):
        summary = vela_summary(exports[layout, "fc"][0])
        assert summary["cpu_ops"] == 0 and summary["npu_ops"] > 0, layout


def test_unknown_step_op_is_refused(exports):
    with pytest.raises(ValueError, match="conv, fc"):
        to_int8_tflite(None, [], recurrent_step="gemm")


def test_cli_option_reaches_the_user_model_route(tmp_path):
    src = tmp_path / "net.py"
    src.write_text("from rnnedge.layers import SWSBiRNN\n\n"
                   "def make():\n    return SWSBiRNN(4, 6, 5, form='static', layout='stacked')\n")
    out = tmp_path / "net.tflite"
    result = CliRunner().invoke(main, ["export", "--module", f"{src}:make", "--input-shape",
                                       "1,4,5,6", "--int8", "--recurrent-step", "fc",
                                       "--check-samples", "2", "--json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output.strip().splitlines()[-1])["stats"]["op_counts"]
    assert counts["FULLY_CONNECTED"] == (6 - 1) + (5 - 1) + 2 and "CONV_2D" not in counts
    bad = CliRunner().invoke(main, ["export", "--module", f"{src}:make", "--recurrent-step",
                                    "gemm"])
    assert bad.exit_code == 2


def test_fc_floors_stay_below_every_layout(exports):
    """benchmarks/npu_compare.py's FC floors against TFLM's measurement of each layout: the
    floor keeping the CRNN's own other ops and the one adding the direction reversals stay
    at or below every layout's head + tail with FC steps."""
    pytest.importorskip("tflite_micro",
                        reason="tflite-micro (the TFLM Python package) is not installed")
    from helpers import load_benchmark
    from rnnedge.export.pipeline import rnn_scopes
    from rnnedge.tflm_probe import measure_tflm
    npu = load_benchmark("npu_compare")
    twin_path = exports["twin", "conv"][0]
    twin = measure_tflm(twin_path)
    model = Tiny("stacked").eval()
    passes = npu.recurrent_passes(model, SHAPE)
    # per pass: a SPLIT of T outputs (64 + 4 + 24 T) for the step slices, and two reversals,
    # each such a SPLIT and one CONCATENATION (64 + 8 + 80 + 24): T = 7 and T = 6
    assert npu.reversal_tail(passes) == (236 + 2 * (236 + 176)) + (212 + 2 * (212 + 176))
    for layout in LAYOUTS:
        path = exports[layout, "fc"][0]
        f = npu.tflm_floor(path, twin_path, passes, measure_tflm(path), twin,
                           scopes=rnn_scopes(model))
        # no ops outside the SWS-BiRNN: its own rest holds at least the twin's share
        assert f["floor_fc"] - 64 <= f["floor_fc_own"] < f["floor_fc_reversed"] <= f["crnn"], \
            (layout, f)


def test_gru_steps_keep_their_bias_and_run_bit_exact(tmp_path):
    """A GRU cell's step has a bias (b_hn inside r * (W_hn h + b_hn)): its FC keeps it (per
    tensor weight scale), and the C kernels give TFLM's bytes."""
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.firmware_sim.runtime import Runtime
    torch.manual_seed(0)
    path = str(tmp_path / "gru-fc.tflite")
    report = export_int8(SWSBiRNN(4, 6, 5, "gru", layout="stacked").eval(),
                         {"input_shape": [4, 6, 7], "normalization": NORM}, path,
                         calib_samples=16, check_samples=4, recurrent_step="fc")
    assert report["verification"]["cosine"] > 0.99
    sg, fcs = _ops(path, "FULLY_CONNECTED")
    steps = [op for op in fcs if len(op.inputs) > 2 and op.inputs[2] >= 0]
    assert len(fcs) == (7 - 1) + (6 - 1) + 2 and len(steps) >= (7 - 1) + (6 - 1)
    x = model_inputs(path, 3)
    expected = make_backend("tflm", path)(x)[0]
    runtime = Runtime(compile_with(path, "best"), debug=True)
    got = np.stack([runtime.invoke(s[None])[0] for s in x]).reshape(expected.shape)
    assert np.array_equal(got, expected)
