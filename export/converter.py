"""ONNX -> fully int8 TFLite: the one module boundary for the conversion.

Everything else in rnnedge hands this module an ONNX model and calibration inputs and gets
.tflite bytes back; which converter sits behind it is this module's business. The route
chosen (docs/export.md, "Choice of converter"): lower rnnedge's ONNX op subset to NHWC TFLite
builtins (lowering.py), calibrate on the float ONNX graph (calibration.collect_ranges),
quantise with same-scale groups (quantize.py) and write the flatbuffer directly
(tflite_writer.py). No TensorFlow, no onnx2tf; deterministic bytes.

May import: rnnedge.export.{lowering, calibration, quantize, tflite_writer}.
"""

from rnnedge.export.calibration import collect_ranges
from rnnedge.export.lowering import lower
from rnnedge.export.quantize import quantize
from rnnedge.export.tflite_writer import write


def to_int8_tflite(onnx_model, calibration):
    """Convert an ONNX ModelProto to fully int8 TFLite bytes.

    calibration: list of (1, C, H, W) float32 input arrays (normalised) that set the ranges.
    Raises RnnedgeError naming the first ONNX op the exporter cannot lower.
    """
    graph = lower(onnx_model)
    ranges = collect_ranges(onnx_model, calibration)
    params = quantize(graph, ranges)
    return write(graph, params)
