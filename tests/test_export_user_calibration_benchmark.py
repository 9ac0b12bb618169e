"""benchmarks/calibration.py's numbers recomputed independently on its smallest model: the
trained MLP's float accuracy from PyTorch, and per calibration method the int8 cosine and
accuracy from the written .tflite on TFLite's reference kernels (quantised here with numpy)
against the float outputs and the task's labels."""

import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import calibration as bench  # noqa: E402


@pytest.mark.slow
def test_calibration_benchmark_numbers_are_what_the_files_give(tmp_path):
    litert = pytest.importorskip("ai_edge_litert.interpreter",
                                 reason="ai-edge-litert is not installed")
    row = bench.measure("mlp", 40, str(tmp_path))
    model = bench.train("mlp", 40)                 # deterministic: the same weights
    x, y = bench._task("mlp", bench.N_SAMPLES, seed=77)
    check, labels = x[-bench.CHECK:], y[-bench.CHECK:]
    with torch.no_grad():
        want = model(torch.from_numpy(check)).numpy()
    assert row["float_accuracy"] == pytest.approx(float((want.argmax(1) == labels).mean()))
    for method in bench.METHODS:
        interp = litert.Interpreter(model_path=str(tmp_path / f"mlp.{method}.tflite"),
                                    experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
        interp.allocate_tensors()
        i, o = interp.get_input_details()[0], interp.get_output_details()[0]
        got = []
        for sample in check:
            q = np.clip(np.round(sample[None] / i["quantization"][0]) + i["quantization"][1],
                        -128, 127).astype(np.int8)
            interp.set_tensor(i["index"], q)
            interp.invoke()
            got.append((interp.get_tensor(o["index"]).astype(np.float32) - o["quantization"][1])
                       * o["quantization"][0])
        got = np.concatenate(got)
        cosine = float(got.ravel() @ want.ravel() / np.linalg.norm(got) / np.linalg.norm(want))
        assert row[method]["cosine"] == pytest.approx(cosine, abs=1e-4), method
        assert row[method]["int8_accuracy"] == pytest.approx(
            float((got.argmax(1) == labels).mean()), abs=0.011), method
