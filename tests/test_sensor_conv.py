"""The phase-split Bayer conv 1 (rnnedge.sensor_conv) and its export (export/phase_split.py).

Independent references: on a *linear* RGB image bilinear demosaicing is exact, so away from
the border the Bayer model must equal torch's RGB conv of the RGB image itself (the mosaic
is sampled here from the pattern's letters); the ONNX rewrite is checked by onnxruntime
running the graph before and after it; the int8 export against TFLM (tflite-micro) and
ai_edge_litert through the export's own verification, and the C kernels against TFLM."""

import numpy as np
import pytest
import torch

from rnnedge import sensor, zoo
from rnnedge.errors import RnnedgeError
from rnnedge.sensor_conv import PhaseSplitConv

LETTERS = {"bayer-rggb": "RGGB", "bayer-bggr": "BGGR", "bayer-grbg": "GRBG",
           "bayer-gbrg": "GBRG"}


def _linear_rgb(h, w):
    """(3, H, W) float64: each channel a different linear function of (y, x)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return np.stack([0.3 + 0.02 * y - 0.01 * x, 0.5 - 0.015 * y + 0.03 * x,
                     0.1 + 0.01 * y + 0.02 * x])


def _mosaic(rgb, fmt):
    """(H, W) mosaic: each pixel the channel its filter letter names."""
    letters = LETTERS[fmt]
    out = np.empty(rgb.shape[1:])
    for yy in range(rgb.shape[1]):
        for xx in range(rgb.shape[2]):
            out[yy, xx] = rgb["RGB".index(letters[2 * (yy % 2) + xx % 2]), yy, xx]
    return out


@pytest.mark.parametrize("fmt", sorted(LETTERS))
@pytest.mark.parametrize("kernel,stride,padding,h,w", [(3, 1, 1, 12, 10), (3, 1, 0, 11, 9),
                                                       (5, 3, 2, 13, 17), (1, 1, 0, 8, 8)])
def test_phase_split_conv_is_the_rgb_conv_of_the_demosaiced_image(fmt, kernel, stride, padding,
                                                                   h, w):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, kernel, stride, padding, bias=True).double()
    bayer = PhaseSplitConv(conv, fmt).double()
    rgb = _linear_rgb(h, w)
    got = bayer(torch.from_numpy(_mosaic(rgb, fmt))[None, None])
    expected = conv(torch.from_numpy(rgb)[None])
    assert got.shape == expected.shape
    rows = [o for o in range(expected.shape[2])
            if stride * o - padding >= 1 and stride * o - padding + kernel <= h - 1]
    cols = [o for o in range(expected.shape[3])
            if stride * o - padding >= 1 and stride * o - padding + kernel <= w - 1]
    assert rows and cols
    diff = (got - expected)[0][:, rows][:, :, cols].abs().max().item()
    assert diff < 1e-12
    # the four output phases really differ: one kernel for all of them would not be exact
    weight = bayer.phase_weight().detach().reshape(4, 4, *bayer.big)
    assert not torch.allclose(weight[:, 0], weight[:, 3])


def test_phase_form_starts_as_the_demosaic_form_and_learns_each_phase_freely():
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(3, 6, 3, 1, 1, bias=False)
    demosaic = PhaseSplitConv(conv, "bayer-rggb", "demosaic")
    phase = PhaseSplitConv(conv, "bayer-rggb", "phase")
    x = torch.rand(2, 1, 16, 16)
    assert torch.allclose(demosaic(x), phase(x), atol=1e-6)
    assert demosaic.weight.shape == (6, 3, 3, 3)        # the RGB conv's own 162 parameters
    assert phase.weight.shape == (24, 1, 6, 6)          # four free 6x6 kernels per channel
    phase(x)[:, :, 0::2, 0::2].sum().backward()         # only output phase (0, 0) is used
    grad = phase.weight.grad.reshape(6, 4, 6, 6).abs().sum(dim=(0, 2, 3))
    assert grad[0] > 0 and torch.all(grad[1:] == 0)
    with pytest.raises(RnnedgeError, match="unknown Bayer conv form 'box'"):
        PhaseSplitConv(conv, "bayer-rggb", "box")
    with pytest.raises(RnnedgeError, match="odd strides"):
        PhaseSplitConv(torch.nn.Conv2d(3, 6, 3, 2, 1), "bayer-rggb")


def _conv_d2s_bn_relu(tmp_channels=3, block=2, mode="CRD"):
    """A random ONNX graph Conv -> DepthToSpace -> BatchNormalization -> Relu."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(3)
    c = tmp_channels
    inits = [numpy_helper.from_array(rng.standard_normal((c * block * block, 1, 3, 3))
                                     .astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(c * block * block).astype(np.float32),
                                     "b")]
    for name, value in (("scale", rng.uniform(0.5, 2, c)), ("shift", rng.standard_normal(c)),
                        ("mean", rng.standard_normal(c)), ("var", rng.uniform(0.5, 2, c))):
        inits.append(numpy_helper.from_array(value.astype(np.float32), name))
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1]),
             helper.make_node("DepthToSpace", ["y"], ["z"], blocksize=block, mode=mode),
             helper.make_node("BatchNormalization", ["z", "scale", "shift", "mean", "var"],
                              ["n"]),
             helper.make_node("Relu", ["n"], ["out"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 1, 6, 5])], [helper.make_tensor_value_info(
            "out", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("mode", ["CRD", "DCR"])
def test_rewrite_moves_batchnorm_and_relu_before_a_dcr_depth_to_space(mode):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    from rnnedge.export.phase_split import rewrite
    model = _conv_d2s_bn_relu(mode=mode)
    new = rewrite(model)
    assert [n.op_type for n in new.graph.node] == ["Conv", "BatchNormalization", "Relu",
                                                   "DepthToSpace"]
    d2s = new.graph.node[-1]
    assert {a.name: a.s for a in d2s.attribute}["mode"] == b"DCR"
    x = np.random.default_rng(4).standard_normal((1, 1, 6, 5)).astype(np.float32)

    def run(m):
        session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(["out"], {"x": x})[0]
    before, after = run(model), run(new)
    assert before.shape == (1, 3, 12, 10)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5)


def test_crd_depth_to_space_without_a_conv_is_a_one_line_error():
    from onnx import TensorProto, helper
    from rnnedge.export.converter import to_int8_tflite
    graph = helper.make_graph(
        [helper.make_node("DepthToSpace", ["x"], ["out"], blocksize=2, mode="CRD")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 1, 6, 6])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    calib = [np.zeros((1, 4, 3, 3), np.float32)]
    with pytest.raises(RnnedgeError, match="mode CRD .* only right after a Conv") as info:
        to_int8_tflite(model, calib)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("form", ["demosaic", "phase"])
def test_stride_1_bayer_classifier_exports_conv_then_depth_to_space_bit_exact(form, tmp_path):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    from rnnedge.export.pipeline import export_int8
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.tflite import read_model
    from rnnedge.tflm_probe import run_tflm
    torch.manual_seed(0)
    model = zoo.build("cifar-resnet18", input_format="bayer-gbrg", bayer_conv=form)
    meta = {"input_shape": [1, 32, 32], "normalization": {"mean": [0.5], "std": [0.25]},
            "zoo_name": "cifar-resnet18",
            "config": {"input_format": "bayer-gbrg", "bayer_conv": form}}
    report = export_int8(model, meta, str(tmp_path / "m.tflite"), calib_samples=8,
                         check_samples=2)
    check = report["verification"]
    assert check["tflm_runs"] and check["tflm_matches_reference"]
    graph = read_model(str(tmp_path / "m.tflite")).main
    first, second, third = graph.operators[:3]
    shape = [tuple(graph.tensors[i].shape) for i in first.inputs if i >= 0]
    assert (first.opcode, shape[0], shape[1]) == ("CONV_2D", (1, 32, 32, 1), (48, 6, 6, 1))
    assert second.opcode == "DEPTH_TO_SPACE" and third.opcode == "CONV_2D"
    assert tuple(graph.tensors[second.outputs[0]].shape) == (1, 32, 32, 12)
    assert report["stats"]["op_counts"].get("DEPTHWISE_CONV_2D", 0) == 0  # BatchNorm fused
    x = np.random.default_rng(6).integers(-128, 128, (1, 32, 32, 1), dtype=np.int8)
    micro = np.asarray(run_tflm(str(tmp_path / "m.tflite"), [x])[0]).reshape(-1)
    for planner in ("best", "inplace"):  # rnnedge's C kernels give TFLM's bytes
        c_out = make_backend("c", str(tmp_path / "m.tflite"), planner=planner, debug=True)(x)
        assert np.array_equal(np.asarray(c_out[0]).reshape(-1), micro), planner


@pytest.mark.parametrize("form,params", [("demosaic", 3 * 3 * 3 * 12), ("phase", 4 * 12 * 6 * 6)])
def test_summary_counts_conv1_as_its_exported_conv(form, params):
    from rnnedge.summary import summarize
    summary = summarize("cifar-resnet18", input_format="bayer-rggb", bayer_conv=form)
    conv1 = summary.rows[0]
    assert conv1.name == "conv1" and conv1.params == params
    assert conv1.macs == (16 * 16 * 48) * (6 * 6 * 1)  # CONV_2D 1 -> 48 at 16x16, 6x6 kernel
    assert conv1.output_shape == [32, 32, 12]


def test_checkpoint_builds_the_trained_form_and_refuses_others():
    from rnnedge.rebuild import build_checked, zoo_arguments
    torch.manual_seed(3)
    config = {"num_classes": 10, "input_format": "bayer-rggb", "bayer_conv": "phase"}
    trained = zoo.build("cifar-resnet18", **config)
    rebuilt = build_checked("cifar-resnet18", config, trained.state_dict())
    x = torch.rand(1, 1, 32, 32)
    assert torch.equal(rebuilt.eval()(x), trained.eval()(x))
    with pytest.raises(RnnedgeError, match="checkpoint field .*bayer_conv: expected one of"):
        zoo_arguments("cifar-resnet18", {**config, "bayer_conv": "box"})


@pytest.mark.parametrize("form", ["demosaic", "phase"])
def test_a_biased_conv1_exports_as_one_conv_then_dcr_depth_to_space(form):
    """A conv 1 with a bias and no BatchNorm (the DARTS-ReNet stem): the exported Conv's weight
    and bias are constants, so the rewrite makes the DepthToSpace DCR; onnxruntime runs the
    rewritten graph as torch runs the model."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    from rnnedge.export.onnx_export import export_onnx
    from rnnedge.export.phase_split import rewrite
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(3, 5, 3, 1, 1, bias=True)
    torch.nn.init.uniform_(conv.bias, 0.5, 1.0)
    model = torch.nn.Sequential(PhaseSplitConv(conv, "bayer-grbg", form), torch.nn.ReLU()).eval()
    onnx_model = rewrite(export_onnx(model, (1, 8, 10)))
    d2s = [n for n in onnx_model.graph.node if n.op_type == "DepthToSpace"]
    assert len(d2s) == 1 and {a.name: a.s for a in d2s[0].attribute}["mode"] == b"DCR"
    x = torch.randn(1, 1, 8, 10)
    session = ort.InferenceSession(onnx_model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)
