"""`export_int8`: one PyTorch model -> int8 .tflite on disk, plus the verification block.

Order: ONNX export (static form) -> calibration inputs -> converter (the one boundary) ->
atomic write (temp file in the target folder, then os.replace; nothing is left behind on
failure) -> verification on the calibration-independent check set -> graph statistics.
Returns a JSON-ready report; the CLI and the benchmark only format it.

The .tflite carries the input preprocessing as metadata (`rnnedge.preprocessing`), so the
accuracy check needs no float checkpoint.

May import: rnnedge.errors, rnnedge.files, rnnedge.accounting, rnnedge.layers,
rnnedge.preprocessing, rnnedge.tflite (add_metadata, read_model: the result is parsed once,
for the statistics and the TFLM check; the converter itself reports the I/O quantisation),
rnnedge.export.{onnx_export, calibration, converter, verify, graph_stats}.
"""

import os
import time

from rnnedge import preprocessing
from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_write
from rnnedge.export import calibration, graph_stats, verify
from rnnedge.export.converter import to_int8_tflite
from rnnedge.export.onnx_export import export_onnx
from rnnedge.tflite import add_metadata, read_model

DEFAULT_CALIB_SAMPLES = 64
DEFAULT_CHECK_SAMPLES = 100


def rnn_scopes(model):
    """ONNX name scopes ("/name/") of the model's image RNN layers: the TorchScript exporter
    names a node's outputs after the called modules' qualified names."""
    from rnnedge.layers import ImageRNN
    return [f"/{name}/" for name, module in model.named_modules()
            if isinstance(module, ImageRNN) and name]


def paper_rnn_macs(model, input_shape):
    """MACs of the model's image RNN layers by the paper's eq. 18 ("double" for SWS-BiRNN)."""
    from rnnedge.accounting import count_macs
    from rnnedge.layers import ImageRNN
    macs = count_macs(model, tuple(input_shape))
    return int(sum(v for m, v in macs.items() if isinstance(m, ImageRNN)))


def export_int8(model, meta, output, *, calib="synthetic", calib_samples=DEFAULT_CALIB_SAMPLES,
                check_samples=DEFAULT_CHECK_SAMPLES, keep_onnx=False, run_tflm=True):
    """Export `model` to a fully int8 .tflite at `output`; returns the report dict.

    meta: checkpoint meta (input_shape (C, H, W), normalization {"mean", "std"}).
    calib: "synthetic" or a dataset folder; the check set comes from the same source (other
    seed / the test split).
    """
    if not meta.get("input_shape"):
        raise RnnedgeError("the model's input shape is unknown; save it with rnnedge.save(..., "
                           "input_shape=(C, H, W))")
    shape = tuple(int(d) for d in meta["input_shape"])
    norm = meta.get("normalization") or {"mean": [0.0], "std": [1.0]}
    normalization = (norm["mean"], norm["std"])
    model = model.eval()
    timings = {}
    start = time.perf_counter()
    calib_set = calibration.calibration_inputs(calib, calib_samples, shape, normalization)
    check_set = calibration.check_inputs(calib, check_samples, shape, normalization)
    onnx_model = export_onnx(model, shape)
    timings["onnx_s"] = time.perf_counter() - start
    t = time.perf_counter()
    converted = to_int8_tflite(onnx_model, calib_set)
    tflite = add_metadata(converted.tflite, preprocessing.METADATA_NAME,
                          preprocessing.encode(shape, norm, meta.get("class_names")))
    timings["convert_s"] = time.perf_counter() - t
    written = read_model(tflite)  # the one parse of the result: statistics and checks use it
    atomic_write(output, tflite)
    onnx_path = None
    if keep_onnx:
        onnx_path = os.path.splitext(output)[0] + ".onnx"
        atomic_write(onnx_path, onnx_model.SerializeToString())
    timings["export_s"] = time.perf_counter() - start
    t = time.perf_counter()
    reference = verify.torch_outputs(model, check_set)
    check = {"check_samples": len(check_set), "check_source": calib or "synthetic",
             "ort_vs_torch_max_abs_diff": verify.ort_max_diff(onnx_model, reference, check_set)}
    check.update(verify.int8_agreement(tflite, reference, check_set))
    if run_tflm:
        check.update(verify.tflm_check(output, written, check_set[0]))
    timings["verify_s"] = time.perf_counter() - t
    stats = graph_stats.graph_stats(written, rnn_scopes(model))
    stats["paper_rnn_macs"] = paper_rnn_macs(model, shape)
    port = converted.inputs[0]
    return {
        "output": os.path.abspath(output),
        "onnx": onnx_path and os.path.abspath(onnx_path),
        "onnx_nodes": len(onnx_model.graph.node),
        "input": {"shape_nhwc": list(port.shape), "dtype": "int8",
                  "scale": port.scale, "zero_point": port.zero_point,
                  "normalization": norm,
                  "note": "feed (image in [0,1] - mean) / std, NHWC, quantised with scale/zero_point"},
        "outputs": [{"shape": list(p.shape), "scale": p.scale, "zero_point": p.zero_point}
                    for p in converted.outputs],
        "calibration": {"source": calib or "synthetic", "samples": len(calib_set)},
        "verification": check,
        "stats": stats,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }

