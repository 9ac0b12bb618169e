"""ONNX -> fully int8 TFLite: the one module boundary for the conversion.

Everything else in rnnedge hands this module an ONNX model and calibration inputs and gets
a `Converted` back: the .tflite bytes and the quantisation of the graph inputs and outputs the
quantiser chose (so nobody re-parses the bytes to learn them); which converter sits behind it
is this module's business. The route
chosen (docs/export.md, "Choice of converter"): rewrite forms the lowering takes apart
(onnx_rewrite.py), lower rnnedge's ONNX op subset to NHWC TFLite
builtins (lowering.py), calibrate on the float ONNX graph (calibration.collect_ranges),
quantise with same-scale groups (quantize.py) and write the flatbuffer directly
(tflite_writer.py). No TensorFlow, no onnx2tf; deterministic bytes.

May import: rnnedge.export.{onnx_rewrite, phase_split, lowering, lowerers_recurrent, fc_steps, calibration,
quantize, tflite_writer}.
"""

from dataclasses import dataclass

from rnnedge.export.calibration import collect_ranges
from rnnedge.export.fc_steps import RECURRENT_STEPS, to_fully_connected
from rnnedge.export.lowering import lower
from rnnedge.export.lowerers_recurrent import calibration_model
from rnnedge.export.onnx_rewrite import rewrite
from rnnedge.export.phase_split import rewrite as rewrite_depth_to_space
from rnnedge.export.quantize import quantize
from rnnedge.export.tflite_writer import write


@dataclass(frozen=True)
class Port:
    """A graph input or output of the written model: NHWC shape, int8 scale and zero point."""
    shape: tuple
    scale: float
    zero_point: int


@dataclass(frozen=True)
class Converted:
    """What the conversion produced: the .tflite bytes and its graph inputs and outputs."""
    tflite: bytes
    inputs: tuple
    outputs: tuple


def to_int8_tflite(onnx_model, calibration, method="minmax", int16x8=False,
                   lstm="unrolled", recurrent_step="conv") -> Converted:
    """Convert an ONNX ModelProto to fully int8 TFLite.

    calibration: list of samples that set the ranges: float32 input arrays (normalised), or
    for a model of several inputs one tuple of arrays per sample (graph input order).
    method: the range choice (calibration.CALIBRATION_METHODS). int16x8: TFLite's 16x8 mode
    (int16 activations, int8 weights, int64 biases) instead of int8 activations.
    lstm: ONNX LSTM nodes as unrolled builtins ("unrolled") or TFLM's
    UNIDIRECTIONAL_SEQUENCE_LSTM ("fused"). recurrent_step: the unrolled recurrence's 1x1
    convolutions as CONV_2D ("conv") or per-tensor FULLY_CONNECTED ("fc", fc_steps.py).
    Raises RnnedgeError naming the first ONNX op the exporter cannot lower.
    """
    if recurrent_step not in RECURRENT_STEPS:
        raise ValueError(f"unknown recurrent step {recurrent_step!r}; choose one of "
                         f"{', '.join(RECURRENT_STEPS)}")
    onnx_model = rewrite_depth_to_space(rewrite(onnx_model))
    graph = lower(onnx_model, lstm)
    if recurrent_step == "fc":
        to_fully_connected(graph)
    ranges = collect_ranges(calibration_model(onnx_model), calibration, method)  # RNNs unrolled
    params = quantize(graph, ranges, int16=int16x8)

    def port(name):
        q = params[name]
        return Port(tuple(int(d) for d in graph.tensors[name].shape), float(q.scale[0]),
                    int(q.zero_point[0]))
    return Converted(write(graph, params), tuple(port(n) for n in graph.inputs),
                     tuple(port(n) for n in graph.outputs))
