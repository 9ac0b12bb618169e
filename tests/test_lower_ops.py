"""One case per ONNX op the general lowering takes (export/lowerers_{nn,math}.py,
onnx_rewrite.py): a tiny torch model exported by torch.onnx.export, converted to int8 by
rnnedge, run on TFLite's reference kernels and in tflite-micro on a held-apart input. The
int8 output must follow onnxruntime's float output (cosine >= 0.999; byte-moving ops within
half an output step), TFLM must give the reference kernels' bytes, and the expected builtins
must be the ones emitted."""

import numpy as np
import pytest
import torch
from torch import nn

from lowering_helpers import Fn, convert, dequantized, held, onnx_of, ort_run, reference_outputs

F = nn.functional


IMG, SEQ = (1, 4, 6, 6), (1, 7, 6)
# name: (input shape, model, builtins expected, opset)
CASES = {
    "HardSwish": (IMG, lambda: Fn(lambda x: F.hardswish(3 * x)), {"HARD_SWISH"}, 17),
    "HardSwish_opset13": (IMG, lambda: Fn(lambda x: F.hardswish(3 * x)), {"HARD_SWISH"}, 13),
    "HardSigmoid": (IMG, lambda: Fn(lambda x: F.hardsigmoid(3 * x)), {"MUL", "ADD"}, 17),
    "LeakyRelu": (IMG, lambda: Fn(lambda x: F.leaky_relu(x, 0.1)), {"LEAKY_RELU"}, 17),
    "PRelu": (IMG, lambda: Fn(lambda x, p: p(x), nn.PReLU(4, 0.2)), {"PRELU"}, 17),
    "Gelu_erf": (IMG, lambda: Fn(lambda x: F.gelu(2 * x)), {"LOGISTIC"}, 17),
    "Gelu_op_tanh": (IMG, lambda: Fn(lambda x: F.gelu(2 * x, approximate="tanh")),
                     {"LOGISTIC"}, 20),
    "SiLU": (IMG, lambda: Fn(lambda x: F.silu(2 * x)), {"LOGISTIC", "MUL"}, 17),
    "Div_const": (IMG, lambda: Fn(lambda x: x / 3.0), {"MUL"}, 17),
    "Div": (IMG, lambda: Fn(lambda x: x / (torch.sigmoid(x) + 0.5)), {"DIV"}, 17),
    "Neg": (IMG, lambda: Fn(lambda x: -x), {"MUL"}, 17),
    "Abs": (IMG, lambda: Fn(lambda x: torch.abs(x)), {"ABS"}, 17),
    "Rsqrt": (IMG, lambda: Fn(lambda x: torch.rsqrt(torch.sigmoid(x) + 0.1)), {"RSQRT"}, 17),
    "Max": (IMG, lambda: Fn(lambda x: torch.maximum(x, 0.5 * x)), {"MAXIMUM"}, 17),
    "Min": (IMG, lambda: Fn(lambda x: torch.minimum(x, 0.5 * x)), {"MINIMUM"}, 17),
    "Clip_fused": (IMG, lambda: Fn(lambda x, c: torch.clamp(c(x), -0.5, 0.3), nn.Conv2d(4, 4, 1)),
                   {"CONV_2D"}, 17),
    "Clip_requantize": (IMG, lambda: Fn(lambda x: torch.clamp(F.max_pool2d(x, 2), -0.5, 0.3)),
                        {"QUANTIZE"}, 17),
    "Softmax_channels": (IMG, lambda: Fn(lambda x: torch.softmax(3 * x, 1)), {"SOFTMAX"}, 17),
    "Softmax_rows": (IMG, lambda: Fn(lambda x: torch.softmax(3 * x, 2)),
                     {"SOFTMAX", "TRANSPOSE"}, 17),
    "LogSoftmax": ((1, 10), lambda: Fn(lambda x: torch.log_softmax(3 * x, -1)),
                   {"LOG_SOFTMAX"}, 17),
    "Conv_groups": ((1, 8, 6, 6), lambda: Fn(lambda x, c: c(x), nn.Conv2d(8, 12, 3, padding=1,
                                                                          groups=4)),
                    {"SPLIT", "CONV_2D", "CONCATENATION"}, 17),
    "Conv_dilated": ((1, 4, 9, 9), lambda: Fn(lambda x, c: c(x), nn.Conv2d(4, 6, 3, padding=2,
                                                                           dilation=2)),
                     {"CONV_2D"}, 17),
    "Conv_asymmetric_pads": ((1, 4, 9, 9), lambda: Fn(lambda x, c: c(F.pad(x, (1, 0, 2, 1))),
                                                      nn.Conv2d(4, 6, 3)), {"PAD", "CONV_2D"}, 17),
    "Conv1d": ((1, 6, 16), lambda: Fn(lambda x, c: F.relu(c(x)), nn.Conv1d(6, 8, 3, padding=1)),
               {"CONV_2D"}, 17),
    "ConvTranspose_k2s2": (IMG, lambda: Fn(lambda x, c: c(x), nn.ConvTranspose2d(4, 3, 2, 2)),
                           {"TRANSPOSE_CONV"}, 17),
    "ConvTranspose_output_padding": (
        IMG, lambda: Fn(lambda x, c: c(x), nn.ConvTranspose2d(4, 3, 3, 2, 1, output_padding=1)),
        {"TRANSPOSE_CONV", "STRIDED_SLICE"}, 17),
    "ConvTranspose_k4s2p1": (IMG, lambda: Fn(lambda x, c: c(x), nn.ConvTranspose2d(4, 3, 4, 2, 1)),
                             {"TRANSPOSE_CONV"}, 17),
    "MatMul_const": (SEQ, lambda: Fn(lambda x, fc: fc(x), nn.Linear(6, 5)),
                     {"FULLY_CONNECTED"}, 17),
    "MatMul_const_4d": ((1, 3, 4, 6), lambda: Fn(lambda x, fc: fc(x), nn.Linear(6, 5)),
                        {"FULLY_CONNECTED"}, 17),
    "MatMul_activations": (SEQ, lambda: Fn(lambda x: torch.matmul(x, x.transpose(1, 2))),
                           {"BATCH_MATMUL"}, 17),
    "MaxPool_pads": ((1, 4, 8, 8), lambda: Fn(lambda x: F.max_pool2d(x, 3, 2, 1)),
                     {"PADV2", "MAX_POOL_2D"}, 17),
    "MaxPool_ceil": ((1, 4, 7, 7), lambda: Fn(lambda x: F.max_pool2d(x, 2, 2, ceil_mode=True)),
                     {"MAX_POOL_2D"}, 17),
    "MaxPool1d": ((1, 6, 16), lambda: Fn(lambda x: F.max_pool1d(x, 2)), {"MAX_POOL_2D"}, 17),
    "AveragePool_pads": ((1, 4, 8, 8), lambda: Fn(lambda x: F.avg_pool2d(x, 3, 2, 1)),
                         {"PAD", "AVERAGE_POOL_2D"}, 17),
    "AveragePool_same": ((1, 4, 8, 8), lambda: Fn(lambda x: F.avg_pool2d(
        x, 3, 1, 1, count_include_pad=False)), {"AVERAGE_POOL_2D"}, 17),
    "GlobalMaxPool": (IMG, lambda: Fn(lambda x: F.adaptive_max_pool2d(x, 1)), {"MAX_POOL_2D"}, 17),
    "ReduceMean": (IMG, lambda: Fn(lambda x: x.mean((2, 3))), {"MEAN"}, 17),
    "ReduceMean_opset18": (IMG, lambda: Fn(lambda x: x.mean(1, keepdim=True)), {"MEAN"}, 18),
    "ReduceMax": (IMG, lambda: Fn(lambda x: x.amax(3)), {"REDUCE_MAX"}, 17),
    "Resize_bilinear_half_pixel": (IMG, lambda: Fn(lambda x: F.interpolate(
        x, scale_factor=2, mode="bilinear", align_corners=False)), {"RESIZE_BILINEAR"}, 17),
    "Resize_bilinear_align_corners": (IMG, lambda: Fn(lambda x: F.interpolate(
        x, scale_factor=2, mode="bilinear", align_corners=True)), {"RESIZE_BILINEAR"}, 17),
    "Resize_nearest_size": (IMG, lambda: Fn(lambda x: F.interpolate(x, size=(7, 9))),
                            {"RESIZE_NEAREST_NEIGHBOR"}, 17),
    "Slice_steps": ((1, 4, 8, 8), lambda: Fn(lambda x: x[:, :, ::2, 1::3]), {"STRIDED_SLICE"}, 17),
    "Slice_flip": ((1, 4, 8, 8), lambda: Fn(lambda x: torch.flip(x, [3])), {"STRIDED_SLICE"}, 17),
    "Pad_constant": (IMG, lambda: Fn(lambda x: F.pad(x, (1, 1, 2, 0), value=0.5)), {"PADV2"}, 17),
    "Pad_reflect": (IMG, lambda: Fn(lambda x: F.pad(x, (1, 1, 2, 0), mode="reflect")),
                    {"MIRROR_PAD"}, 17),
    "LayerNormalization": (SEQ, lambda: Fn(lambda x, n: n(x), nn.LayerNorm(6)),
                           {"MEAN", "RSQRT"}, 17),
    "InstanceNormalization": (IMG, lambda: Fn(lambda x, n: n(x), nn.InstanceNorm2d(4, affine=True)),
                              {"MEAN", "RSQRT"}, 17),
    "BatchNorm_after_Gemm": ((1, 6), lambda: Fn(lambda x, fc, bn: bn(fc(x)), nn.Linear(6, 5),
                                                nn.BatchNorm1d(5)), {"FULLY_CONNECTED"}, 17),
    "BatchNorm_sequence": ((1, 6, 7), lambda: Fn(lambda x, bn: bn(x), nn.BatchNorm1d(6)),
                           {"MUL", "ADD"}, 17),
    "Transpose": (IMG, lambda: Fn(lambda x: x.permute(0, 2, 1, 3) * 1.0), {"TRANSPOSE"}, 17),
    "Split_Concat": ((1, 6, 5, 6), lambda: Fn(lambda x: torch.cat(
        list(reversed(torch.split(x, [2, 4], 1))), 1)), {"SPLIT_V", "CONCATENATION"}, 17),
}
MOVES_BYTES = {"Slice_steps", "Slice_flip", "Pad_constant", "Pad_reflect", "Split_Concat",
               "MaxPool_pads", "MaxPool_ceil", "MaxPool1d", "GlobalMaxPool", "ReduceMax"}


def _model(name):
    shape, build, _, opset = CASES[name]
    torch.manual_seed(0)
    module = build()
    for p in module.parameters():
        p.data.uniform_(-0.5, 0.5)
    for b in module.buffers():
        if b.dtype.is_floating_point:
            b.data.uniform_(0.5, 1.5)
    return onnx_of(module, shape, opset=opset), shape


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_onnxruntime_and_tflm(name, tmp_path):
    model, shape = _model(name)
    tflite, _ = convert(model, shape, samples=24)
    from rnnedge.tflite import read_model
    kinds = {op.opcode for op in read_model(tflite).main.operators}
    assert CASES[name][2] <= kinds, kinds
    sample = np.random.default_rng(5).uniform(-0.9, 0.9, shape).astype(np.float32)
    want = held(ort_run(model, {model.graph.input[0].name: sample})[0])
    q, got, details = reference_outputs(tflite, sample)
    result = dequantized(got[0], details[0])
    assert result.shape == want.shape
    cosine = float((result * want).sum() / np.linalg.norm(result) / np.linalg.norm(want))
    assert cosine >= 0.999, cosine
    if name in MOVES_BYTES:
        assert np.abs(result - want).max() <= 0.51 * details[0]["quantization"][0]
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    from rnnedge.tflm_probe import run_tflm
    path = tmp_path / "m.tflite"
    path.write_bytes(tflite)
    micro = run_tflm(str(path), [q])
    assert np.array_equal(np.asarray(micro[0]).reshape(got[0].shape), got[0])
