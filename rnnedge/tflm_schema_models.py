"""TFLite test models written directly with the TFLite schema, for ops no Keras layer converts
to: SVDF (Keras has no SVDF layer) and the fused UNIDIRECTIONAL_SEQUENCE_LSTM (Keras 3
converts an LSTM to a WHILE loop instead).

Why: TFLM runs these ops (keyword spotting and speech models use them), so rnnedge's planner,
tail model and kernels need models that have them. The quantisation follows what TFLM's
Prepare requires (svdf_common.cc, unidirectional_sequence_lstm.cc): symmetric int8 weights,
int32 biases at input scale x weight scale (SVDF: state scale x time-weight scale), variable
state tensors (SVDF activation state int16 or int8, zero point 0; LSTM cell state int16 with
a power-of-two scale, output state int8 with the output's quantisation). Weights are drawn
from a fixed seed, so the bytes are deterministic.

  svdf_int8           input int8 [1, 16] -> SVDF (rank 2, 4 units, memory 6; int16 time
                      weights and state) -> FULLY_CONNECTED -> int8 [1, 3]
  svdf_int8_state8    the same SVDF with int8 time weights and int8 state
  lstm_int8           input int8 [1, 6, 5] -> UNIDIRECTIONAL_SEQUENCE_LSTM (10 units, batch
                      major, int16 cell state) -> int8 [1, 6, 10]
  lstm_int16x8        input int16 [2, 4, 5] -> the 16x8 LSTM (6 units, batch major, int64
                      biases, zero points 0) -> int16 [2, 4, 6]

Imports numpy, flatbuffers and ai_edge_litert's schema only.
"""

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as fb

SEED = 0
_TYPES = {np.int8: fb.TensorType.INT8, np.int16: fb.TensorType.INT16,
          np.int32: fb.TensorType.INT32, np.float32: fb.TensorType.FLOAT32,
          np.int64: fb.TensorType.INT64}


class Graph:
    """Collects tensors and operators of one subgraph and packs a one-subgraph model."""

    def __init__(self):
        self.tensors, self.buffers, self.ops, self.codes = [], [fb.BufferT()], [], []

    def tensor(self, name, shape, dtype, scale=None, zero_point=0, data=None, variable=False):
        """Add a tensor (a constant with `data`, quantised with `scale`); returns its index."""
        t = fb.TensorT()
        t.name, t.shape, t.type = name, list(shape), _TYPES[dtype]
        t.isVariable = variable
        t.buffer = 0
        if data is not None:
            b = fb.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data, dtype).tobytes(), np.uint8)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        if scale is not None:
            q = fb.QuantizationParametersT()
            q.scale, q.zeroPoint = [float(scale)], [int(zero_point)]
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, code, inputs, outputs, options_type=0, options=None, intermediates=None,
           custom_options: bytes | None = None):
        """Add an operator: `code` a BuiltinOperator value or a custom op's name (str) with
        its `custom_options` (a flexbuffer)."""
        if code not in self.codes:
            self.codes.append(code)
        o = fb.OperatorT()
        o.opcodeIndex = self.codes.index(code)
        o.inputs, o.outputs = list(inputs), list(outputs)
        o.builtinOptionsType, o.builtinOptions = options_type, options
        if intermediates:
            o.intermediates = list(intermediates)
        if custom_options is not None:
            o.customOptions, o.customOptionsFormat = list(custom_options), 0
        self.ops.append(o)

    def pack(self, inputs, outputs, description) -> bytes:
        """The flatbuffer of a one-subgraph model with these graph inputs and outputs."""
        sg = fb.SubGraphT()
        sg.tensors, sg.operators = self.tensors, self.ops
        sg.inputs, sg.outputs, sg.name = list(inputs), list(outputs), "main"
        model = fb.ModelT()
        model.version, model.description = 3, description
        model.subgraphs, model.buffers = [sg], self.buffers
        model.operatorCodes = []
        for code in self.codes:
            c = fb.OperatorCodeT()
            if isinstance(code, str):  # a custom op, by its registered name
                c.customCode, code = code, fb.BuiltinOperator.CUSTOM
            c.builtinCode, c.deprecatedBuiltinCode = code, min(code, 127)
            c.version = 1
            model.operatorCodes.append(c)
        builder = flatbuffers.Builder(4096)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def _weights(rng, shape, dtype=np.int8):
    limit = np.iinfo(dtype).max
    return rng.integers(-limit, limit + 1, shape).astype(dtype)


def _svdf(state_dtype) -> bytes:
    rng = np.random.default_rng(SEED)
    g = Graph()
    batch, features, units, rank, memory = 1, 16, 4, 2, 6
    filters = units * rank
    in_scale, wf_scale, wt_scale = 1 / 64, 1 / 256, 1 / 512
    state_scale, out_scale = (1 / 32, 1 / 2) if state_dtype == np.int8 else (1 / 4096, 4.0)
    x = g.tensor("input", (batch, features), np.int8, in_scale, -3)
    wf = g.tensor("weights_feature", (filters, features), np.int8, wf_scale,
                  data=_weights(rng, (filters, features)))
    wt = g.tensor("weights_time", (filters, memory), state_dtype, wt_scale,
                  data=_weights(rng, (filters, memory), state_dtype))
    bias = g.tensor("bias", (units,), np.int32, state_scale * wt_scale,
                    data=rng.integers(-2000, 2000, units).astype(np.int32))
    state = g.tensor("activation_state", (batch, memory * filters), state_dtype, state_scale,
                     variable=True)
    h = g.tensor("svdf_output", (batch, units), np.int8, out_scale, 5)
    opt = fb.SVDFOptionsT()
    opt.rank, opt.fusedActivationFunction = rank, fb.ActivationFunctionType.RELU
    g.op(fb.BuiltinOperator.SVDF, [x, wf, wt, bias, state], [h], fb.BuiltinOptions.SVDFOptions,
         opt)
    fc_w = g.tensor("fc_weights", (3, units), np.int8, 1 / 128, data=_weights(rng, (3, units)))
    fc_b = g.tensor("fc_bias", (3,), np.int32, out_scale / 128,
                    data=rng.integers(-500, 500, 3).astype(np.int32))
    y = g.tensor("output", (batch, 3), np.int8, out_scale / 2, -2)
    g.op(fb.BuiltinOperator.FULLY_CONNECTED, [h, fc_w, fc_b], [y],
         fb.BuiltinOptions.FullyConnectedOptions, fb.FullyConnectedOptionsT())
    return g.pack([x], [y], "rnnedge SVDF test model")


def svdf_int8() -> bytes:
    """SVDF with int16 time weights and state (see the module docstring)."""
    return _svdf(np.int16)


def svdf_int8_state8() -> bytes:
    """SVDF with int8 time weights and state (see the module docstring)."""
    return _svdf(np.int8)


def _lstm(dtype) -> bytes:
    """UNIDIRECTIONAL_SEQUENCE_LSTM with int8 activations (int32 biases) or int16 ones (16x8:
    zero points 0, int64 biases)."""
    rng = np.random.default_rng(SEED)
    g = Graph()
    wide = dtype == np.int16
    batch, steps, features, units = (2, 4, 5, 6) if wide else (1, 6, 5, 10)
    in_scale, out_scale, w_scale = (1 / 64, 1 / 128, 1 / 256) if not wide else \
        (1 / 16384, 1 / 32768, 1 / 256)
    bias_dtype = np.int64 if wide else np.int32
    x = g.tensor("input", (batch, steps, features), dtype, in_scale, 0 if wide else 4)
    inputs = [x]
    for gate in ("input", "forget", "cell", "output"):
        inputs.append(g.tensor(f"input_to_{gate}_weights", (units, features), np.int8, w_scale,
                               data=_weights(rng, (units, features))))
    for gate in ("input", "forget", "cell", "output"):
        inputs.append(g.tensor(f"recurrent_to_{gate}_weights", (units, units), np.int8,
                               w_scale, data=_weights(rng, (units, units))))
    inputs += [-1, -1, -1]  # no peepholes
    for gate in ("input", "forget", "cell", "output"):
        bias = rng.integers(-3000, 3000, units) * (256 if wide else 1)
        inputs.append(g.tensor(f"{gate}_gate_bias", (units,), bias_dtype, in_scale * w_scale,
                               data=bias.astype(bias_dtype)))
    inputs += [-1, -1]  # no projection
    inputs.append(g.tensor("output_state", (batch, units), dtype, out_scale, 0,
                           variable=True))
    inputs.append(g.tensor("cell_state", (batch, units), np.int16, 2.0 ** -11, 0,
                           variable=True))
    inputs += [-1, -1, -1, -1]  # no layer norm
    intermediates = [g.tensor(f"intermediate_{i}", (0,), np.int16, 2.0 ** -12, 0)
                     for i in range(4)]
    intermediates.append(g.tensor("hidden", (0,), dtype, out_scale, 0))
    y = g.tensor("output", (batch, steps, units), dtype, out_scale, 0)
    opt = fb.UnidirectionalSequenceLSTMOptionsT()
    opt.fusedActivationFunction, opt.timeMajor = fb.ActivationFunctionType.TANH, False
    opt.cellClip = 10.0
    g.op(fb.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM, inputs, [y],
         fb.BuiltinOptions.UnidirectionalSequenceLSTMOptions, opt, intermediates)
    return g.pack([x], [y], "rnnedge LSTM test model")


def lstm_int8() -> bytes:
    """UNIDIRECTIONAL_SEQUENCE_LSTM, int8 x int8 -> int16 cell (see the module docstring)."""
    return _lstm(np.int8)


def lstm_int16x8() -> bytes:
    """UNIDIRECTIONAL_SEQUENCE_LSTM 16x8 (see the module docstring)."""
    return _lstm(np.int16)


BUILDERS = {"svdf_int8": svdf_int8, "svdf_int8_state8": svdf_int8_state8,
            "lstm_int8": lstm_int8, "lstm_int16x8": lstm_int16x8}
