"""`export_int8`: one PyTorch model -> int8 .tflite on disk, plus the verification block.

Order: ONNX export (static form) -> calibration inputs -> converter (the one boundary) ->
a temporary file beside the target -> verification on the calibration-independent check set
-> os.replace into place (a failure or an interrupt before that leaves nothing behind) ->
graph statistics.
Returns a JSON-ready report; the CLI and the benchmark only format it.

The .tflite carries the input preprocessing as metadata (`rnnedge.preprocessing`), so the
accuracy check needs no float checkpoint, and the zoo model it was built from, when it was
(`rnnedge.provenance`), so a report can show the paper's figures for it; a detector's checkpoint
(extra["detection"]) adds its anchors, strides and classes (`rnnedge.detect.metadata`), and
calibrates on the synthetic detection set when the calibration source is "synthetic".

May import: rnnedge.errors, rnnedge.budget, rnnedge.rebuild, rnnedge.files, rnnedge.accounting,
rnnedge.layers, rnnedge.preprocessing, rnnedge.provenance, rnnedge.detect.metadata,
rnnedge.tflite (add_metadata, read_model: the result is parsed once, for the statistics and
the TFLM check; the converter itself reports the I/O quantisation),
rnnedge.export.{onnx_export, calibration, converter, verify, graph_stats}.
"""

import os
import time

from rnnedge import preprocessing, provenance
from rnnedge.budget import DATA_BYTES, check_bytes
from rnnedge.rebuild import check_activation_bytes
from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_output, atomic_write
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
                check_samples=DEFAULT_CHECK_SAMPLES, keep_onnx=False, run_tflm=True,
                lstm="unrolled", calibration_method="minmax", recurrent_step="conv"):
    """Export `model` to a fully int8 .tflite at `output`; returns the report dict.

    meta: checkpoint meta (input_shape (C, H, W), normalization {"mean", "std"}).
    calib: "synthetic" or a dataset folder; the check set comes from the same source (other
    seed / the test split). calibration_method: calibration.CALIBRATION_METHODS.
    lstm: torch nn.LSTM layers (ONNX LSTM nodes) as unrolled builtins ("unrolled") or TFLM's
    UNIDIRECTIONAL_SEQUENCE_LSTM ("fused"; docs/export.md). recurrent_step: the recurrence's
    1x1 convolutions as CONV_2D ("conv") or per-tensor FULLY_CONNECTED ("fc"; fc_steps.py).
    """
    if not meta.get("input_shape"):
        raise RnnedgeError("the model's input shape is unknown; save it with rnnedge.save(..., "
                           "input_shape=(C, H, W))")
    shape = tuple(int(d) for d in meta["input_shape"])
    norm = meta.get("normalization") or {"mean": [0.0], "std": [1.0]}
    for key in ("mean", "std"):
        if len(norm[key]) not in (1, shape[0]):
            raise RnnedgeError(f"the normalisation has {len(norm[key])} {key} values but the "
                               f"input shape {list(shape)} has {shape[0]} channels")
    normalization = (norm["mean"], norm["std"])
    check_activation_bytes(model, shape, DATA_BYTES)
    check_bytes("the calibration and check inputs",
                4 * (calib_samples + check_samples) * shape[0] * shape[1] * shape[2],
                DATA_BYTES, "--calib-samples/--check-samples")
    model = model.eval()
    detection = (meta.get("extra") or {}).get("detection")
    if detection is not None and (calib or "synthetic").split(":")[0] == "synthetic":
        calib = "synthetic-detect" + (calib or "synthetic")[len("synthetic"):]
    timings = {}
    start = time.perf_counter()
    input_format = (meta.get("config") or {}).get("input_format", "rgb")
    calib_set = calibration.calibration_inputs(calib, calib_samples, shape, normalization,
                                               input_format)
    check_set = calibration.check_inputs(calib, check_samples, shape, normalization,
                                         input_format)
    onnx_model = export_onnx(model, shape)
    timings["onnx_s"] = time.perf_counter() - start
    t = time.perf_counter()
    converted = to_int8_tflite(onnx_model, calib_set, method=calibration_method, lstm=lstm,
                               recurrent_step=recurrent_step)
    tflite = add_metadata(converted.tflite, preprocessing.METADATA_NAME,
                          preprocessing.encode(shape, norm, meta.get("class_names"),
                                               input_format))
    if meta.get("zoo_name"):
        tflite = add_metadata(tflite, provenance.METADATA_NAME,
                              provenance.encode(meta["zoo_name"], meta.get("config")))
    if detection is not None:  # a detector: anchors and strides for the host/C decoders
        from rnnedge.detect import metadata as detect_metadata
        tflite = add_metadata(tflite, detect_metadata.METADATA_NAME,
                              detect_metadata.encode(detection))
    timings["convert_s"] = time.perf_counter() - t
    onnx_path = os.path.splitext(output)[0] + ".onnx" if keep_onnx else None
    written = read_model(tflite)  # the one parse of the result: statistics and checks use it
    # verify first, then move into place: a failed check or an interrupt leaves nothing
    with atomic_output(output) as tmp:
        with open(tmp, "wb") as f:
            f.write(tflite)
        timings["export_s"] = time.perf_counter() - start
        t = time.perf_counter()
        reference = verify.torch_outputs(model, check_set)
        check = {"check_samples": len(check_set), "check_source": calib or "synthetic",
                 "ort_vs_torch_max_abs_diff": verify.ort_max_diff(onnx_model, reference, check_set)}
        check.update(verify.int8_agreement(tflite, reference, check_set,
                                            argmax=detection is None))
        if run_tflm:
            check.update(verify.tflm_check(tmp, written, check_set[0]))
        if onnx_path:
            atomic_write(onnx_path, onnx_model.SerializeToString())
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
                  "normalization": norm, "format": input_format,
                  "note": "feed (image in [0,1] - mean) / std, NHWC, quantised with scale/zero_point"},
        "outputs": [{"shape": list(p.shape), "scale": p.scale, "zero_point": p.zero_point}
                    for p in converted.outputs],
        "calibration": {"source": calib or "synthetic", "samples": len(calib_set),
                        "method": calibration_method},
        "verification": check,
        "stats": stats,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }

