"""Every row of the exporter's supported-op table (export/support_table.rows(), the table
docs/export.md shows) has tiny test models here, driven by the table itself: a row without a
case fails `test_every_op_table_row_has_test_models`. For each row, each of its models is
exported by torch.onnx.export (or written with onnx.helper where torch never emits the op),
converted to int8 by rnnedge, and checked against independent sources on a held-apart
input:

- the ONNX graph holds the row's op, and together the row's models emit every TFLite builtin
  the row names (so the table's claim and the C kernel of each builtin are exercised);
- tflite-micro runs the file, and rnnedge's C kernels (`rnnedge run --backend c`'s backend,
  best and inplace plans, debug mode) give TFLM's bytes exactly, on three inputs;
- TFLM's outputs are within 2 LSB of TFLite's kernels' (reference ones; builtin for SUM; not
  compared for UNIDIRECTIONAL_SEQUENCE_LSTM, whose integer form differs, docs/export.md),
  and the dequantised TFLM outputs follow onnxruntime's float outputs (cosine >= 0.99).

Exports are cached per model for the whole module (several rows share models)."""

import functools
import io
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from lowering_helpers import Fn
from rnnedge.export.converter import to_int8_tflite
from rnnedge.export.support_table import rows

F = nn.functional
IMG, SEQ = (1, 4, 6, 6), (1, 7, 6)


def _graph(nodes, shape, inits=(), opset=17):
    """A one-input one-output ONNX model written by hand (ops torch does not emit)."""
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, list(shape))], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, None)], list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _passthrough():
    """Identity, Dropout (inference), Cast float->float and a Constant feeding a Mul."""
    h = helper
    nodes = [h.make_node("Identity", ["x"], ["a"]),
             h.make_node("Dropout", ["a"], ["b"]),
             h.make_node("Cast", ["b"], ["c"], to=TensorProto.FLOAT),
             h.make_node("Constant", [], ["k"], value=h.make_tensor("kv", TensorProto.FLOAT,
                                                                    [1], [0.75])),
             h.make_node("Mul", ["c", "k"], ["y"])]
    return _graph(nodes, SEQ)


def _rnn_sigmoid():
    """An ONNX RNN node with the Sigmoid activation (torch's nn.RNN has tanh/relu only)."""
    rng = np.random.default_rng(3)
    t, i, hid = 5, 6, 7
    w = helper.make_tensor("W", TensorProto.FLOAT, [1, hid, i],
                           rng.uniform(-0.5, 0.5, (1, hid, i)).ravel())
    r = helper.make_tensor("R", TensorProto.FLOAT, [1, hid, hid],
                           rng.uniform(-0.5, 0.5, (1, hid, hid)).ravel())
    b = helper.make_tensor("B", TensorProto.FLOAT, [1, 2 * hid],
                           rng.uniform(-0.2, 0.2, (1, 2 * hid)).ravel())
    nodes = [helper.make_node("RNN", ["x", "W", "R", "B"], ["Y"], hidden_size=hid,
                              activations=["Sigmoid"]),
             helper.make_node("Flatten", ["Y"], ["y"], axis=1)]
    return _graph(nodes, (t, 1, i), [w, r, b])


def _clips(x):
    """Clips of a tensor with several consumers (nothing to fuse them into): ReLU6, (-1, 1),
    (0, inf) and other bounds."""
    p = F.max_pool2d(4 * x, 2)
    return F.relu6(p) + torch.clamp(p, -1, 1) + torch.clamp(p, min=0) + torch.clamp(p, -0.5, 0.3)


def _depth_to_space_dcr():
    """ONNX DepthToSpace in DCR mode (TFLite's order; torch's PixelShuffle writes CRD)."""
    return _graph([helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode="DCR")],
                  (1, 8, 3, 4))


def _m(fn, *modules):
    return lambda: Fn(fn, *modules)


# case: (input shape, builder of an nn.Module or ONNX model, opset, lstm form)
CASES = {
    "conv_depthwise_relu6": (IMG, _m(lambda x, c: F.relu6(c(x)), nn.Conv2d(4, 8, 3, 2, 1, groups=4)), 17, "unrolled"),
    "conv_groups": ((1, 8, 6, 6), _m(lambda x, c: c(x), nn.Conv2d(8, 12, 3, padding=1, groups=4)), 17, "unrolled"),
    "conv_asymmetric_pads_dilated": ((1, 4, 9, 9), _m(lambda x, c: c(F.pad(x, (1, 0, 2, 1))),
                                                      nn.Conv2d(4, 6, 3, dilation=2)), 17, "unrolled"),
    "conv1d_bn_relu": ((1, 6, 16), _m(lambda x, c, b: F.relu(b(c(x))), nn.Conv1d(6, 8, 3, padding=1),
                                      nn.BatchNorm1d(8)), 17, "unrolled"),
    "gemm_flatten": (IMG, _m(lambda x, fc: fc(torch.flatten(x, 1)), nn.Linear(144, 5)), 17, "unrolled"),
    "batchnorm_map": (IMG, _m(lambda x, b: b(x), nn.BatchNorm2d(4)), 17, "unrolled"),
    "batchnorm_sequence": ((1, 6, 7), _m(lambda x, b: b(x), nn.BatchNorm1d(6)), 17, "unrolled"),
    "add_sub_mul_broadcast": (IMG, _m(lambda x, p: (x + p(x)) * (x - 0.5 * p(x)) - x * x.mean(1, True),
                                      nn.Conv2d(4, 4, 1)), 17, "unrolled"),
    "tanh_sigmoid_relu": (IMG, _m(lambda x: torch.tanh(2 * x) + torch.sigmoid(3 * x) + F.relu(x)),
                          17, "unrolled"),
    "split_equal_concat": ((1, 6, 5, 6), _m(lambda x: torch.cat(list(reversed(torch.split(x, [2, 2, 2], 1))), 1)),
                           17, "unrolled"),
    "split_sizes_concat": ((1, 6, 5, 6), _m(lambda x: torch.cat(list(reversed(torch.split(x, [2, 4], 1))), 1)),
                           17, "unrolled"),
    "slice_steps_flip": ((1, 4, 8, 8), _m(lambda x: torch.flip(x[:, :, ::2, 1::3], [3])), 17, "unrolled"),
    "transpose": (IMG, _m(lambda x: x.permute(0, 2, 1, 3) * 1.5), 17, "unrolled"),
    "transpose_6d_patchify": ((1, 3, 4, 6), _m(lambda x: x.reshape(1, 3, 2, 2, 3, 2).permute(
        0, 2, 4, 1, 3, 5).reshape(1, 6, 12) * 1.5), 17, "unrolled"),
    "avgpool_pads": ((1, 4, 8, 8), _m(lambda x: F.avg_pool2d(x, 3, 2, 1)), 17, "unrolled"),
    "avgpool_same_1d": ((1, 6, 16), _m(lambda x: F.avg_pool1d(x, 3, 1, 1, count_include_pad=False)),
                        17, "unrolled"),
    "maxpool_pads_ceil": ((1, 4, 8, 8), _m(lambda x: F.max_pool2d(F.max_pool2d(x, 3, 2, 1), 3, 2,
                                                                   ceil_mode=True)), 17, "unrolled"),
    "global_avg_pool": (IMG, _m(lambda x: F.adaptive_avg_pool2d(x, 1)), 17, "unrolled"),
    "global_max_pool_onnx": (IMG, lambda: _graph([helper.make_node("GlobalMaxPool", ["x"], ["y"])], IMG),
                             17, "unrolled"),
    "pad_zero_value_reflect": (IMG, _m(lambda x: F.pad(F.pad(F.pad(x, (1, 0, 0, 1)), (1, 1, 0, 0),
                                                             value=0.5), (0, 0, 1, 1), mode="reflect")),
                               17, "unrolled"),
    "passthrough": (SEQ, _passthrough, 17, "unrolled"),
    "reshape_4d_3d_4d": ((1, 3, 4, 5), _m(lambda x: (x.reshape(1, 3, 20) * 1.5).reshape(1, 6, 2, 5)),
                         17, "unrolled"),
    "flatten_map": ((1, 3, 4, 5), _m(lambda x: torch.flatten(x, 1) * 1.5), 17, "unrolled"),
    "squeeze_unsqueeze": ((1, 3, 1, 5), _m(lambda x: (x.squeeze(2) * 1.5).unsqueeze(-1)), 17, "unrolled"),
    "gather_scalar_and_runs": ((1, 9, 4, 4), _m(lambda x: x[:, 1] + x[:, torch.tensor([0, 1, 5, 6, 2])].mean(1)),
                               17, "unrolled"),
    "gather_scattered": ((1, 12, 3), _m(lambda x: x[:, torch.tensor([0, 2, 4, 1, 3, 5, 7, 6, 9, 8, 11, 10])] * 2.0),
                         17, "unrolled"),
    "rnn_tanh": ((1, 6, 5), _m(lambda x, r: r(x)[0], nn.RNN(5, 7, batch_first=True)), 17, "unrolled"),
    "rnn_relu_bidirectional": ((1, 6, 5), _m(lambda x, r: r(x)[0], nn.RNN(5, 7, nonlinearity="relu",
                                                                          bidirectional=True, batch_first=True)),
                               17, "unrolled"),
    "rnn_sigmoid_onnx": ((5, 1, 6), _rnn_sigmoid, 17, "unrolled"),
    "gru_2layer": ((1, 6, 5), _m(lambda x, r: r(x)[0], nn.GRU(5, 7, 2, batch_first=True)), 17, "unrolled"),
    "lstm_bidirectional": ((1, 6, 5), _m(lambda x, r: r(x)[0], nn.LSTM(5, 7, bidirectional=True,
                                                                       batch_first=True)), 17, "unrolled"),
    "lstm_fused": ((1, 6, 5), _m(lambda x, r: r(x)[0], nn.LSTM(5, 7, batch_first=True)), 17, "fused"),
    "resize_nearest_bilinear": (IMG, _m(lambda x: F.interpolate(x, scale_factor=2) + F.interpolate(
        x, scale_factor=2, mode="bilinear", align_corners=False)), 17, "unrolled"),
    "conv_transpose_output_padding": (IMG, _m(lambda x, c: c(x), nn.ConvTranspose2d(4, 3, 3, 2, 1,
                                                                                     output_padding=1)),
                                      17, "unrolled"),
    "matmul_const": (SEQ, _m(lambda x, fc: fc(x), nn.Linear(6, 5)), 17, "unrolled"),
    "matmul_activations": (SEQ, _m(lambda x: torch.matmul(x, x.transpose(1, 2))), 17, "unrolled"),
    "matmul_map_activations": (IMG, _m(lambda x: torch.matmul(x, x)), 17, "unrolled"),
    "reduce_mean_max_min": (IMG, _m(lambda x: x.mean((2, 3)) + x.amax((2, 3)) + x.amin((2, 3))),
                            17, "unrolled"),
    "reduce_mean_keepdims_opset18": (IMG, _m(lambda x: x.mean(1, keepdim=True) + x.amax(1, keepdim=True)),
                                     18, "unrolled"),
    "reduce_sum_keepdims": (IMG, _m(lambda x: x.sum(1, keepdim=True) + x.sum((2, 3), keepdim=True)),
                            17, "unrolled"),
    "l2_normalize_channels": (IMG, _m(lambda x: F.normalize(x, dim=1)), 17, "unrolled"),
    "l2_norm_divide_last": (SEQ, _m(lambda x: x / x.norm(dim=-1, keepdim=True)), 18, "unrolled"),
    "softmax_rows": (IMG, _m(lambda x: torch.softmax(3 * x, 2)), 17, "unrolled"),
    "log_softmax_rows": (IMG, _m(lambda x: torch.log_softmax(3 * x, 2)), 17, "unrolled"),
    "hardswish_forms": (IMG, _m(lambda x: F.hardswish(3 * x) + x * F.hardsigmoid(2 * x)), 17, "unrolled"),
    "hardsigmoid_alone": (IMG, _m(lambda x: F.hardsigmoid(3 * x)), 17, "unrolled"),
    "leaky_relu_prelu": (IMG, _m(lambda x, p: F.leaky_relu(x, 0.1) + p(x), nn.PReLU(4, 0.2)), 17, "unrolled"),
    "div_const_and_activation": (IMG, _m(lambda x: x / 3.0 + x / (torch.sigmoid(x) + 0.5)), 17, "unrolled"),
    "neg_abs": (IMG, _m(lambda x: -x + torch.abs(x)), 17, "unrolled"),
    "rsqrt": (IMG, _m(lambda x: 1.0 / torch.sqrt(torch.sigmoid(x) + 0.1)), 17, "unrolled"),
    "max_min": (IMG, _m(lambda x: torch.maximum(x, 0.5 * x) + torch.minimum(x, 0.25 * x)), 17, "unrolled"),
    "clip_forms": (IMG, _m(_clips), 17, "unrolled"),
    "gelu_erf": (IMG, _m(lambda x: F.gelu(2 * x)), 17, "unrolled"),
    "gelu_op_tanh": (IMG, _m(lambda x: F.gelu(2 * x, approximate="tanh")), 20, "unrolled"),
    "layer_norm": (SEQ, _m(lambda x, n: n(x), nn.LayerNorm(6)), 17, "unrolled"),
    "instance_norm": (IMG, _m(lambda x, n: n(x), nn.InstanceNorm2d(4, affine=True)), 17, "unrolled"),
    "pixel_shuffle_after_conv": (IMG, _m(lambda x, c, b: F.relu(b(F.pixel_shuffle(c(x), 2))),
                                         nn.Conv2d(4, 12, 3, padding=1), nn.BatchNorm2d(3)), 17, "unrolled"),
    "depth_to_space_dcr": ((1, 8, 3, 4), _depth_to_space_dcr, 17, "unrolled"),
}

ROW_CASES = {  # the support table's ONNX op: the cases exercising it
    "Conv": ["conv_depthwise_relu6", "conv_groups", "conv_asymmetric_pads_dilated", "conv1d_bn_relu"],
    "Gemm": ["gemm_flatten"],
    "BatchNormalization": ["batchnorm_map", "batchnorm_sequence"],
    "Add": ["add_sub_mul_broadcast"],
    "Sub": ["add_sub_mul_broadcast"],
    "Mul": ["add_sub_mul_broadcast"],
    "Tanh": ["tanh_sigmoid_relu"],
    "Sigmoid": ["tanh_sigmoid_relu"],
    "Relu": ["tanh_sigmoid_relu"],
    "Split": ["split_equal_concat", "split_sizes_concat"],
    "Concat": ["split_equal_concat"],
    "Slice": ["slice_steps_flip"],
    "Transpose": ["transpose", "transpose_6d_patchify"],
    "AveragePool": ["avgpool_pads", "avgpool_same_1d"],
    "MaxPool": ["maxpool_pads_ceil"],
    "GlobalAveragePool": ["global_avg_pool"],
    "GlobalMaxPool": ["global_max_pool_onnx"],
    "Pad": ["pad_zero_value_reflect"],
    "Identity": ["passthrough"],
    "Constant": ["passthrough"],
    "Cast": ["passthrough"],
    "Dropout": ["passthrough"],
    "Reshape": ["reshape_4d_3d_4d"],
    "Flatten": ["flatten_map"],
    "Squeeze": ["squeeze_unsqueeze"],
    "Unsqueeze": ["squeeze_unsqueeze"],
    "Gather": ["gather_scalar_and_runs", "gather_scattered"],
    "RNN": ["rnn_tanh", "rnn_relu_bidirectional", "rnn_sigmoid_onnx"],
    "GRU": ["gru_2layer"],
    "LSTM": ["lstm_bidirectional", "lstm_fused"],
    "Resize": ["resize_nearest_bilinear"],
    "ConvTranspose": ["conv_transpose_output_padding"],
    "MatMul": ["matmul_const", "matmul_activations", "matmul_map_activations"],
    "ReduceMean": ["reduce_mean_max_min", "reduce_mean_keepdims_opset18"],
    "ReduceMax": ["reduce_mean_max_min", "reduce_mean_keepdims_opset18"],
    "ReduceMin": ["reduce_mean_max_min"],
    "ReduceSum": ["reduce_sum_keepdims"],
    "ReduceL2": ["l2_normalize_channels", "l2_norm_divide_last"],
    "Softmax": ["softmax_rows"],
    "LogSoftmax": ["log_softmax_rows"],
    "HardSwish": ["hardswish_forms"],
    "HardSigmoid": ["hardsigmoid_alone", "hardswish_forms"],
    "LeakyRelu": ["leaky_relu_prelu"],
    "PRelu": ["leaky_relu_prelu"],
    "Div": ["div_const_and_activation"],
    "Neg": ["neg_abs"],
    "Abs": ["neg_abs"],
    "Sqrt": ["rsqrt"],
    "Max": ["max_min"],
    "Min": ["max_min"],
    "Clip": ["clip_forms", "conv_depthwise_relu6"],
    "Gelu": ["gelu_erf", "gelu_op_tanh"],
    "LayerNormalization": ["layer_norm"],
    "InstanceNormalization": ["instance_norm"],
    "DepthToSpace": ["pixel_shuffle_after_conv", "depth_to_space_dcr"],
}
TABLE = {r["onnx"]: r for r in rows()}


def _onnx_of(case):
    shape, build, opset, _ = CASES[case]
    torch.manual_seed(0)
    made = build()
    if isinstance(made, onnx.ModelProto):
        return made
    for p in made.parameters():
        p.data.uniform_(-0.5, 0.5)
    for b in made.buffers():
        if b.dtype.is_floating_point:
            b.data.uniform_(0.5, 1.5)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(made.eval(), (torch.zeros(shape),), buffer, opset_version=opset,
                          dynamo=False, input_names=["x"])
    return onnx.load_from_string(buffer.getvalue())


@functools.lru_cache(maxsize=None)
def _exported(case):
    """(ONNX model, int8 tflite bytes, three held-apart float inputs) of a case, once per
    module."""
    shape, _, _, lstm = CASES[case]
    model = _onnx_of(case)
    rng = np.random.default_rng(0)
    calib = [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(24)]
    tflite = to_int8_tflite(model, calib, lstm=lstm).tflite
    rng = np.random.default_rng(5)
    return model, tflite, [rng.uniform(-0.9, 0.9, shape).astype(np.float32) for _ in range(3)]


def _held(a):
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a


def test_every_op_table_row_has_test_models():
    assert set(ROW_CASES) == set(TABLE), set(TABLE) ^ set(ROW_CASES)
    assert {c for cases in ROW_CASES.values() for c in cases} == set(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("row", sorted(TABLE))
def test_op_table_row_runs_bit_exact_in_tflm_and_c(row, tmp_path):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    litert = pytest.importorskip("ai_edge_litert.interpreter",
                                 reason="ai-edge-litert is not installed")
    import onnxruntime as ort
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.tflite import read_model
    from rnnedge.tflm_probe import run_tflm
    emitted, held_ops = set(), set()
    for case in ROW_CASES[row]:
        model, tflite, samples = _exported(case)
        held_ops |= {n.op_type for n in model.graph.node}
        sg = read_model(tflite).main
        emitted |= {op.opcode for op in sg.operators}
        path = tmp_path / f"{case}.tflite"
        path.write_bytes(tflite)
        x = sg.tensors[sg.inputs[0]]
        scale, zp = float(x.quantization.scales[0]), int(x.quantization.zero_points[0])
        backends = [make_backend("c", str(path), planner=p, debug=True) for p in ("best", "inplace")]
        session = ort.InferenceSession(model.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        kinds = {op.opcode for op in sg.operators}
        kernels = getattr(litert.OpResolverType, "BUILTIN_WITHOUT_DEFAULT_DELEGATES" if "SUM" in
                          kinds else "BUILTIN_REF")   # TFLite's reference SUM is wrong
        for sample in samples:
            q = np.clip(np.round(_held(sample) / scale) + zp, -128, 127).astype(np.int8)
            micro = [np.asarray(m) for m in run_tflm(str(path), [q])]
            if "UNIDIRECTIONAL_SEQUENCE_LSTM" not in kinds:  # TFLite's integer LSTM is not TFLM's
                ref = litert.Interpreter(model_content=tflite, experimental_op_resolver_type=kernels)
                ref.allocate_tensors()
                ref.set_tensor(ref.get_input_details()[0]["index"], q)
                ref.invoke()
                for m, d in zip(micro, ref.get_output_details(), strict=True):
                    lsb = np.abs(m.reshape(-1).astype(int) - ref.get_tensor(d["index"]).reshape(-1))
                    assert lsb.max() <= 2, (case, "TFLM vs TFLite's kernels", int(lsb.max()))
            for planner, run in zip(("best", "inplace"), backends):
                run.runtime.reset()   # a fresh TFLM per sample: variables (LSTM state) at zero
                for c, m in zip(run(q), micro, strict=True):
                    assert np.asarray(c).tobytes() == m.tobytes(), (case, planner)
            want = session.run(None, {model.graph.input[0].name: sample})
            for m, w, t in zip(micro, want, sg.outputs, strict=True):
                qo = sg.tensors[t].quantization
                got = (m.astype(np.float32).reshape(-1) - qo.zero_points[0]) * qo.scales[0]
                w = _held(w).reshape(-1)
                cosine = float(got @ w / np.linalg.norm(got) / np.linalg.norm(w))
                assert cosine >= 0.99, (case, cosine)
    assert row in held_ops, f"no test model of {row} holds the op"
    missing = set(TABLE[row]["builtins"]) - emitted
    assert not missing, f"{row}: no test model emits {sorted(missing)}"


def test_transpose_that_stays_beyond_five_dims_is_refused():
    from rnnedge.errors import RnnedgeError
    from rnnedge.export.lowering import lower
    model = _graph([helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 1, 4, 3, 6, 5])],
                   (1, 2, 3, 2, 3, 2, 3))
    with pytest.raises(RnnedgeError, match="6-D after merging axes; TFLM's TRANSPOSE takes at most 5"):
        lower(model)
