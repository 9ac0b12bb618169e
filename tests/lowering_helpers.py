"""Plain helpers for the lowering tests (no test module imports another): export a torch
module to ONNX with torch.onnx.export as a user would, convert it with rnnedge's converter,
and compare the int8 result on TFLite's reference kernels and in tflite-micro with the float
ONNX graph run by onnxruntime (the independent source)."""

import io
import warnings

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from rnnedge.export.converter import to_int8_tflite


class Fn(nn.Module):
    """A torch module computing `fn(x, *modules)`: one-op test models written as a lambda,
    with the modules that hold its parameters registered."""

    def __init__(self, fn, *modules):
        super().__init__()
        self.fn, self.parts = fn, nn.ModuleList(modules)

    def forward(self, x):
        return self.fn(x, *self.parts)


def onnx_of(module, *example_shapes, opset=17, **kwargs):
    """torch.onnx.export of `module` (eval) on zero inputs of the given shapes."""
    examples = tuple(torch.zeros(s) for s in example_shapes)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), examples, buffer, opset_version=opset, dynamo=False,
                          **{"do_constant_folding": True, **kwargs})
    return onnx.load_from_string(buffer.getvalue())


def ort_run(model, feeds):
    """onnxruntime outputs of the float ONNX model for {input name: array}."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def held(array):
    """ONNX (NCHW) -> TFLite (NHWC) layout for 4-D arrays."""
    return array.transpose(0, 2, 3, 1) if array.ndim == 4 else array


def convert(model, shape, samples=16, seed=0, low=-1.0, high=1.0):
    """(tflite bytes, calibration inputs) of the single-input ONNX model, calibrated on
    uniform random inputs of `shape` (batch included)."""
    rng = np.random.default_rng(seed)
    calib = [rng.uniform(low, high, shape).astype(np.float32) for _ in range(samples)]
    return to_int8_tflite(model, calib).tflite, calib


def reference_outputs(tflite, sample):
    """(int8 input, int8 outputs, output details) on TFLite's reference kernels."""
    litert = pytest.importorskip("ai_edge_litert.interpreter",
                                 reason="ai-edge-litert (TFLite's reference kernels) is not "
                                        "installed")
    interp = litert.Interpreter(model_content=tflite,
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    detail = interp.get_input_details()[0]
    scale, zp = detail["quantization"]
    q = np.clip(np.round(held(sample) / scale) + zp, -128, 127).astype(np.int8)
    interp.set_tensor(detail["index"], q)
    interp.invoke()
    outs = interp.get_output_details()
    return q, [interp.get_tensor(d["index"]).copy() for d in outs], outs


def dequantized(values, detail):
    """int8 -> float with a tensor detail's quantisation."""
    scale, zp = detail["quantization"]
    return (values.astype(np.float32) - zp) * scale


def check_against_ort(model, shape, tmp_path, lsb=1.5, tflm=True, seed=1):
    """Convert, run on a held-apart input: every output within `lsb` output steps of
    onnxruntime (plus the input's own rounding, propagated: callers set lsb), and TFLM gives
    the reference kernels' bytes exactly. Returns the tflite bytes."""
    tflite, _ = convert(model, shape)
    sample = np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)
    name = model.graph.input[0].name
    want = ort_run(model, {name: sample})
    q, got, details = reference_outputs(tflite, sample)
    assert len(got) == len(want)
    for g, w, d in zip(got, want, details):
        w = held(w)
        assert g.shape == w.shape, (g.shape, w.shape)
        err = np.abs(dequantized(g, d) - w).max()
        assert err <= lsb * d["quantization"][0], (err, d["quantization"])
    if tflm:
        pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
        from rnnedge.tflm_probe import run_tflm
        path = tmp_path / "m.tflite"
        path.write_bytes(tflite)
        micro = run_tflm(str(path), [q])
        for m, g in zip(micro, got):
            assert np.array_equal(np.asarray(m).reshape(g.shape), g)
    return tflite
