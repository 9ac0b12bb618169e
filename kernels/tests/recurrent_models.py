"""Small int8 TFLite models of TFLM's recurrent builtins, written with TFLM's own flatbuffer
schema bindings (TensorFlow 2.21's converter with Keras 3 turns a Keras LSTM into a WHILE
loop, not the fused op, and has no SVDF layer), for the recurrent kernel tests.

`lstm_model` builds one UNIDIRECTIONAL_SEQUENCE_LSTM in the form TF's converter gives a Keras
LSTM (24 inputs: four input and four recurrent int8 weight matrices, four int32 gate biases,
no peephole / projection / layer norm; an int8 output-state and an int16 cell-state VARIABLE
tensor, cell scale a power of two), optionally followed by a STRIDED_SLICE of the last time
step (Keras' return_sequences=False). `svdf_model` builds one SVDF (int8 input and weights
feature, int8 or int16 weights time and state, int32 bias) with its VARIABLE state.
Quantisation parameters are drawn from a seed; weights are random int8.

May import: numpy, flatbuffers and tflite_micro's schema bindings.
"""

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

_TYPES = {np.dtype(np.int8): fb.TensorType.INT8, np.dtype(np.int16): fb.TensorType.INT16,
          np.dtype(np.int32): fb.TensorType.INT32, np.dtype(np.int64): fb.TensorType.INT64}


class _Graph:
    """Tensors and buffers of one subgraph under construction."""

    def __init__(self):
        self.tensors, self.buffers = [], [fb.BufferT()]

    def tensor(self, name, shape, dtype, scale=None, zero_point=0, data=None, variable=False):
        """Append a tensor; returns its index."""
        t = fb.TensorT()
        t.name, t.shape, t.type = name, [int(d) for d in shape], _TYPES[np.dtype(dtype)]
        t.buffer, t.isVariable = 0, variable
        if data is not None:
            buf = fb.BufferT()
            buf.data = np.frombuffer(np.ascontiguousarray(data, dtype).tobytes(), np.uint8)
            self.buffers.append(buf)
            t.buffer = len(self.buffers) - 1
        if scale is not None:
            q = fb.QuantizationParametersT()
            q.scale, q.zeroPoint = [float(scale)], [int(zero_point)]
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1


def _model(graph: _Graph, ops, inputs, outputs) -> bytes:
    """Serialise `ops` [(builtin code, inputs, outputs, options type, options)]."""
    codes = []
    sub = fb.SubGraphT()
    sub.tensors, sub.inputs, sub.outputs, sub.operators = graph.tensors, inputs, outputs, []
    for code, ins, outs, otype, options in ops:
        if code not in codes:
            codes.append(code)
        op = fb.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = codes.index(code), ins, outs
        op.builtinOptionsType, op.builtinOptions = otype, options
        sub.operators.append(op)
    model = fb.ModelT()
    model.version, model.subgraphs, model.buffers = 3, [sub], graph.buffers
    model.operatorCodes = []
    for code in codes:
        oc = fb.OperatorCodeT()
        oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
        model.operatorCodes.append(oc)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def lstm_model(batch=1, time=4, n_input=3, n_cell=5, *, time_major=False, cell_clip=10.0,
               cell_scale_power=-11, last_step=False, seed=0, input_zp=None,
               hidden_zp=None, activation=fb.ActivationFunctionType.TANH,
               dtype=np.int8) -> bytes:
    """One UNIDIRECTIONAL_SEQUENCE_LSTM with int8 activations, or int16 ones (`dtype`: TFLM's
    16x8, symmetric, int64 biases); see the module docstring."""
    rng = np.random.default_rng(seed)
    g = _Graph()
    wide = np.dtype(dtype) == np.int16
    in_scale = float(rng.uniform(0.005, 0.03)) / (256 if wide else 1)
    in_zp = 0 if wide else int(rng.integers(-20, 20)) if input_zp is None else input_zp
    h_scale = float(rng.uniform(1.0 / 200, 1.0 / 100)) / (256 if wide else 1)
    h_zp = 0 if wide else int(rng.integers(-10, 10)) if hidden_zp is None else hidden_zp
    in_shape = (time, batch, n_input) if time_major else (batch, time, n_input)
    out_shape = (time, batch, n_cell) if time_major else (batch, time, n_cell)
    x = g.tensor("input", in_shape, dtype, in_scale, in_zp)
    ins = [x]
    w_scales = []
    for kind, depth, act_scale in (("input", n_input, in_scale), ("recurrent", n_cell, h_scale)):
        for gate in ("input", "forget", "cell", "output"):
            ws = float(rng.uniform(0.002, 0.02))
            w_scales.append(ws)
            ins.append(g.tensor(f"{kind}_to_{gate}_w", (n_cell, depth), np.int8, ws, 0,
                                rng.integers(-127, 128, (n_cell, depth))))
    ins += [-1, -1, -1]
    for i, gate in enumerate(("input", "forget", "cell", "output")):
        bs = in_scale * w_scales[i]
        ins.append(g.tensor(f"{gate}_gate_bias", (n_cell,), np.int64 if wide else np.int32, bs,
                            0, rng.integers(-3000, 3000, n_cell) * (256 if wide else 1)))
    ins += [-1, -1]
    ins.append(g.tensor("output_state", (batch, n_cell), dtype, h_scale, h_zp, variable=True))
    ins.append(g.tensor("cell_state", (batch, n_cell), np.int16, 2.0 ** cell_scale_power, 0,
                        variable=True))
    ins += [-1, -1, -1, -1]
    y = g.tensor("lstm_output", out_shape, dtype, h_scale, h_zp)
    opt = fb.UnidirectionalSequenceLSTMOptionsT()
    opt.fusedActivationFunction, opt.cellClip, opt.projClip = activation, cell_clip, 0.0
    opt.timeMajor, opt.asymmetricQuantizeInputs = time_major, False
    ops = [(fb.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM, ins, [y],
            fb.BuiltinOptions.UnidirectionalSequenceLSTMOptions, opt)]
    outputs = [y]
    if last_step and not time_major:
        begin = g.tensor("begin", (3,), np.int32, data=[0, -1, 0])
        end = g.tensor("end", (3,), np.int32, data=[0, 0, 0])
        strides = g.tensor("strides", (3,), np.int32, data=[1, 1, 1])
        last = g.tensor("last_step", (batch, n_cell), dtype, h_scale, h_zp)
        sopt = fb.StridedSliceOptionsT()
        sopt.beginMask, sopt.endMask, sopt.shrinkAxisMask = 5, 5, 2
        ops.append((fb.BuiltinOperator.STRIDED_SLICE, [y, begin, end, strides], [last],
                    fb.BuiltinOptions.StridedSliceOptions, sopt))
        outputs = [last]
    return _model(g, ops, [x], outputs)


def svdf_model(batch=1, n_input=6, n_units=4, rank=2, memory=5, *, state_dtype=np.int16,
               bias=True, seed=0, input_zp=None, state_zp=None) -> bytes:
    """One int8-input SVDF with an int8 or int16 (`state_dtype`) state (module docstring)."""
    rng = np.random.default_rng(seed)
    g = _Graph()
    n_filter = n_units * rank
    in_scale, in_zp = float(rng.uniform(0.005, 0.05)), (int(rng.integers(-30, 30))
                                                        if input_zp is None else input_zp)
    wf_scale = float(rng.uniform(0.002, 0.02))
    int8_state = np.dtype(state_dtype) == np.int8
    st_scale = float(rng.uniform(0.002, 0.01) if int8_state else rng.uniform(1e-5, 1e-4))
    st_zp = (int(rng.integers(-10, 10)) if state_zp is None else state_zp) if int8_state else 0
    wt_scale = float(rng.uniform(0.002, 0.02) if int8_state else rng.uniform(1e-5, 1e-4))
    out_scale, out_zp = float(rng.uniform(0.01, 0.05)), int(rng.integers(-20, 20))
    wt_max = 127 if int8_state else 32767
    x = g.tensor("input", (batch, n_input), np.int8, in_scale, in_zp)
    wf = g.tensor("weights_feature", (n_filter, n_input), np.int8, wf_scale, 0,
                  rng.integers(-127, 128, (n_filter, n_input)))
    wt = g.tensor("weights_time", (n_filter, memory), state_dtype, wt_scale, 0,
                  rng.integers(-wt_max, wt_max + 1, (n_filter, memory)))
    b = (g.tensor("bias", (n_units,), np.int32, st_scale * wt_scale, 0,
                  rng.integers(-20000, 20000, n_units)) if bias else -1)
    state = g.tensor("activation_state", (batch, memory * n_filter), state_dtype, st_scale,
                     st_zp, variable=True)
    y = g.tensor("output", (batch, n_units), np.int8, out_scale, out_zp)
    opt = fb.SVDFOptionsT()
    opt.rank, opt.fusedActivationFunction = rank, fb.ActivationFunctionType.NONE
    return _model(g, [(fb.BuiltinOperator.SVDF, [x, wf, wt, b, state], [y],
                       fb.BuiltinOptions.SVDFOptions, opt)], [x], [y])
