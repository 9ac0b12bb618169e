"""TFLite Micro's arena scratch requests, op by op and dtype by dtype, as its reference kernels
make them in Prepare (RequestScratchBufferInArena); rnnedge.op_table.scratch_requests is the
one entry point and lifetimes.plan_buffers the one user.

Why a module: these are facts read from TFLM's kernel sources, one rule per kernel, and the
planners' `tflm` figure equals TFLM's head only if every rule is exact:

  MEAN, SUM (int8/int16 input)        4 B x output elements (int32 accumulators)
  REDUCE_MAX, REDUCE_MIN              4 B x input rank, then 4 B x axis elements
  TRANSPOSE_CONV int8 input           4 B x output elements (int32 accumulators)
  TRANSPOSE_CONV int16 input          8 B x output elements (int64 accumulators); with an
                                      int16 bias also 8 B x bias elements (the bias widened)
  SVDF int8 input                     4 B x batch x filters, then 4 B x batch x units
  SVDF float input                    4 B x batch x filters
  UNIDIRECTIONAL_SEQUENCE_LSTM        four buffers of batch x state x sizeof(cell state)
                                      (int16 cell: 2 B, float: 4 B)
  SignalRfft (custom)                 fft_length x sizeof(input element), fft_length being
                                      the complex output's last dimension - 2
  TFLite_Detection_PostProcess        eleven buffers from boxes N, scores, max_detections D
  (custom)                            and num_classes C (its flexbuffer options): N, 16 N,
                                      4 x scores, 4 N, 4 N, 4 DN, 4 DN, 4 N, 4 DN,
                                      4 max(C, D) N, 4 min(N, D) N

Every other builtin of rnnedge.op_table requests none in the reference build (CMSIS-NN and
other optimised kernels request more, e.g. im2col buffers; not modelled). The other Signal
library ops keep their state in persistent buffers (the tail), not in scratch.

Works on rnnedge.tflite.model objects; imports numpy (flatbuffers' flexbuffers lazily,
for custom options).
"""

import numpy as np

QUANTIZED = ("INT8", "UINT8", "INT16")
_ELEMENT_BYTES = {"INT8": 1, "UINT8": 1, "INT16": 2, "INT32": 4, "FLOAT32": 4, "INT64": 8}
DETECTION_POSTPROCESS = "TFLite_Detection_PostProcess"  # TFLM's one builtin-registered custom
# The custom ops of TFLM's Signal library (signal/micro/kernels), by their registered names.
SIGNAL_OPS = ("SignalDelay", "SignalEnergy", "SignalFftAutoScale", "SignalFilterBank",
              "SignalFilterBankLog", "SignalFilterBankSpectralSubtraction",
              "SignalFilterBankSquareRoot", "SignalFramer", "SignalIrfft", "SignalOverlapAdd",
              "SignalPCAN", "SignalRfft", "SignalStacker", "SignalWindow")


def _tensor(subgraph, op, position, outputs=False):
    ids = op.outputs if outputs else op.inputs
    if position >= len(ids) or ids[position] < 0:
        return None
    return subgraph.tensors[ids[position]]


def _elements(tensor) -> int:
    return int(np.prod(tensor.shape, dtype=np.int64)) if tensor.shape else 1


def _transpose_conv(sg, op):
    source, out, bias = _tensor(sg, op, 2), _tensor(sg, op, 0, True), _tensor(sg, op, 3)
    if source is None or out is None:
        return []
    if source.type_name == "INT8":
        return [(4 * _elements(out), "scratch")]
    if source.type_name == "INT16":
        requests = [(8 * _elements(out), "int64 scratch")]
        if bias is not None and bias.type_name == "INT16":
            requests.append((8 * _elements(bias), "int64 bias"))
        return requests
    return []


def _svdf(sg, op):
    x, features = _tensor(sg, op, 0), _tensor(sg, op, 1)
    if x is None or features is None or len(x.shape) != 2 or not features.shape:
        return []
    batch, filters = x.shape[0], features.shape[0]
    rank = max(int(op.options.get("rank", 1) or 1), 1)
    if x.type_name == "INT8":
        return [(4 * batch * filters, "scratch"), (4 * batch * (filters // rank), "output")]
    if x.type_name == "FLOAT32":
        return [(4 * batch * filters, "scratch")]
    return []


def _lstm(sg, op):
    x, state, cell = _tensor(sg, op, 0), _tensor(sg, op, 18), _tensor(sg, op, 19)
    if x is None or state is None or cell is None or len(x.shape) != 3 or len(state.shape) < 2:
        return []
    batch = x.shape[1] if op.options.get("time_major") else x.shape[0]
    size = batch * state.shape[-1] * _ELEMENT_BYTES.get(cell.type_name, 4)
    return [(size, f"buffer {i}") for i in range(4)]


def _reduce(sg, op):
    x, out = _tensor(sg, op, 0), _tensor(sg, op, 0, True)
    if op.opcode in ("MEAN", "SUM"):
        return [(4 * _elements(out), "scratch")] if x.type_name in QUANTIZED else []
    axis = _tensor(sg, op, 1)
    if axis is None:
        return []
    return [(4 * len(x.shape), "scratch"), (4 * _elements(axis), "axis")]


def _rfft(sg, op):
    x, out = _tensor(sg, op, 0), _tensor(sg, op, 0, True)
    if x is None or out is None or not out.shape:
        return []
    return [((out.shape[-1] - 2) * _ELEMENT_BYTES.get(x.type_name, 4), "work area")]


def custom_options(op) -> dict:
    """A custom op's flexbuffer options as a dict ({} when absent or unreadable)."""
    if not op.custom_options:
        return {}
    from flatbuffers import flexbuffers

    try:
        value = flexbuffers.Loads(op.custom_options)
    except Exception:  # a malformed buffer in a hostile file: the options are unknown
        return {}
    return value if isinstance(value, dict) else {}


def _detection_postprocess(sg, op):
    boxes, scores = _tensor(sg, op, 0), _tensor(sg, op, 1)
    options = custom_options(op)
    if boxes is None or scores is None or len(boxes.shape) != 3 or len(scores.shape) != 3:
        return []
    if not {"max_detections", "num_classes"} <= options.keys():
        return []
    n, detections, classes = boxes.shape[1], int(options["max_detections"]), int(
        options["num_classes"])
    return [(n, "active candidates"), (16 * n, "decoded boxes"),
            (4 * scores.shape[1] * scores.shape[2], "scores"), (4 * n, "score buffer"),
            (4 * n, "keep scores"), (4 * detections * n, "scores after nms"),
            (4 * detections * n, "sorted values"), (4 * n, "keep indices"),
            (4 * detections * n, "sorted indices"),
            (4 * max(classes, detections) * n, "buffer"),
            (4 * min(n, detections) * n, "selected")]


RULES = {"MEAN": _reduce, "SUM": _reduce, "REDUCE_MAX": _reduce, "REDUCE_MIN": _reduce,
         "TRANSPOSE_CONV": _transpose_conv, "SVDF": _svdf,
         "UNIDIRECTIONAL_SEQUENCE_LSTM": _lstm, "SignalRfft": _rfft,
         "TFLite_Detection_PostProcess": _detection_postprocess}


def kernel_scratch(subgraph) -> list:
    """[(operator index, bytes, label)] of the scratch requests of `subgraph`'s operators, in
    TFLM's request order (operator order, each kernel's requests in its own order)."""
    out = []
    for op in subgraph.operators:
        rule = RULES.get(op.opcode)
        if rule is None or not op.inputs or op.inputs[0] < 0 or not op.outputs:
            continue
        for nbytes, what in rule(subgraph, op):
            out.append((op.index, nbytes, f"op{op.index} {op.opcode} {what}"))
    return out
