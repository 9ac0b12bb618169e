"""rnnedge.tflm_probe: parsing TFLM's allocation print-out and surviving TFLM failures."""

import numpy as np
import pytest

from rnnedge.errors import RnnedgeError
from rnnedge.tflm_probe import measure_tflm, parse_allocations, run_tflm

SAMPLE = """[RecordingMicroAllocator] Arena allocation total 65104 bytes
[RecordingMicroAllocator] Arena allocation head 49152 bytes
[RecordingMicroAllocator] Arena allocation tail 15952 bytes
[RecordingMicroAllocator] 'TfLiteEvalTensor data' used 1752 bytes with alignment overhead \
(requested 1752 bytes for 73 allocations)
[RecordingMicroAllocator] 'NodeAndRegistration struct' used 1920 bytes with alignment \
overhead (requested 1920 bytes for 30 NodeAndRegistration structs)
"""


def test_parse_allocations():
    out = parse_allocations(SAMPLE)
    assert (out["total"], out["head"], out["tail"]) == (65104, 49152, 15952)
    assert out["records"]["TfLiteEvalTensor data"] == {"used": 1752, "requested": 1752,
                                                       "count": 73}
    assert out["records"]["NodeAndRegistration struct"]["count"] == 30
    with pytest.raises(RnnedgeError, match="no allocation summary"):
        parse_allocations("Didn't find op for builtin opcode 'TILE'\n")


def test_measure_is_consistent(model_paths):
    out = measure_tflm(model_paths["resnet8"])
    assert out["total"] == out["head"] + out["tail"]
    assert sum(r["used"] for r in out["records"].values()) <= out["tail"]


def test_too_small_arena_is_an_error_not_a_crash(model_paths):
    with pytest.raises(RnnedgeError, match="tflite-micro"):
        measure_tflm(model_paths["resnet8"], arena_size=4096)


def test_run_matches_tflite_reference_kernels(model_paths):
    import tensorflow as tf

    path = model_paths["autoencoder"]
    x = np.random.default_rng(0).integers(-128, 128, (1, 640)).astype(np.int8)
    interpreter = tf.lite.Interpreter(
        model_path=path,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    ref = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    (got,) = run_tflm(path, [x])
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 1  # FC rounding near-ties
