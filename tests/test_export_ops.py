"""The lowering's op table beyond what the zoo uses: depthwise conv, a lone BatchNorm,
ReLU6, Sigmoid, Mul by a constant, MaxPool, nearest Resize, Slice, Pad, and a Flatten of a
2-D map into Gemm (weights permuted, no RESHAPE). Each model is exported, must hold the
export's promises and agree with PyTorch on TFLite's reference kernels and in TFLM."""

import numpy as np
import pytest
import torch
from torch import nn

from rnnedge.export.pipeline import export_int8

NORM = {"mean": [0.5], "std": [0.25]}


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.depthwise = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
        self.norm = nn.BatchNorm2d(8)
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, 8).view(1, 8, 1, 1))
        self.fc = nn.Linear(8 * 4 * 3, 5)

    def forward(self, x):
        x = nn.functional.relu6(self.conv(x))
        x = self.norm(torch.sigmoid(self.depthwise(x))) * self.scale
        x = nn.functional.max_pool2d(x, 2)                              # 8x8x... -> 4x5
        x = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        x = x[:, :, 1:5, 2:8]                                           # Slice
        x = nn.functional.pad(x, (0, 0, 0, 0))
        x = nn.functional.avg_pool2d(x, 2)                              # 2x3
        x = nn.functional.pad(x, (0, 0, 1, 1))                          # 4x3
        return self.fc(torch.flatten(x, 1))


@pytest.mark.slow
def test_op_table_exports_and_agrees(tmp_path):
    torch.manual_seed(0)
    model = Mixed().eval()
    model.norm.running_mean.uniform_(-0.2, 0.2)
    model.norm.running_var.uniform_(0.5, 2.0)
    report = export_int8(model, {"input_shape": [3, 16, 20], "normalization": NORM},
                         str(tmp_path / "m.tflite"), calib_samples=64, check_samples=50)
    stats = report["stats"]
    assert stats["problems"] == []
    assert "RESHAPE" not in stats["op_counts"] and "TRANSPOSE" not in stats["op_counts"]
    for kind in ("DEPTHWISE_CONV_2D", "LOGISTIC", "MUL", "MAX_POOL_2D", "RESIZE_NEAREST_NEIGHBOR",
                 "STRIDED_SLICE", "PAD", "FULLY_CONNECTED"):
        assert kind in stats["op_counts"], kind
    v = report["verification"]
    assert v["ort_vs_torch_max_abs_diff"] < 1e-4
    assert v["argmax_agreement_ties"] >= 0.95, v
    assert v["tflm_runs"] and v["tflm_max_lsb_diff"] <= 2, v


def test_a_bias_too_large_for_int32_widens_its_channels_weight_scale(tmp_path):
    """A channel whose weights decayed to ~0 under a large bias (a one-class detector's class
    logit): bias / (input scale x weight scale) is far beyond int32. Its int8 output must
    still be the bias (TFLite's quantiser widens the weight scale), not a saturated int32
    that dequantises to ~0."""
    from ai_edge_litert.interpreter import Interpreter
    from rnnedge.preprocessing import quantize_input
    torch.manual_seed(0)
    model = nn.Conv2d(3, 2, 1).eval()
    with torch.no_grad():
        model.weight[1].fill_(1e-9)
        model.bias.copy_(torch.tensor([0.1, 4.0]))
    path = str(tmp_path / "m.tflite")
    report = export_int8(model, {"input_shape": [3, 4, 4], "normalization": NORM}, path,
                         calib_samples=16, check_samples=4)
    assert report["verification"]["cosine"] > 0.999
    interp = Interpreter(model_path=path)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    x = torch.rand(1, 3, 4, 4)
    normalised = ((x - 0.5) / 0.25).numpy()
    interp.set_tensor(inp["index"], quantize_input(normalised.transpose(0, 2, 3, 1),
                                                   *inp["quantization"]))
    interp.invoke()
    scale, zero_point = out["quantization"]
    got = (interp.get_tensor(out["index"]).astype(np.float32) - zero_point) * scale
    want = model(torch.from_numpy(normalised)).detach().numpy().transpose(0, 2, 3, 1)
    assert np.abs(got[..., 1] - want[..., 1]).max() <= 2 * scale  # the bias channel: 4.0
