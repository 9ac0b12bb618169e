"""UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF kernels bit-exact with TFLM (tflite-micro's Python
interpreter) on single-op models written with TFLM's schema (recurrent_models.py): two
invocations carrying the variable state, then TFLM's reset and a third equal to the first.
Operands are read from the flatbuffer with TFLM's schema bindings, not rnnedge's reader."""

import numpy as np
import pytest

pytest.importorskip("tflite_micro", reason="tflite-micro (the TFLM oracle) is not installed")

from tflite_micro.python.tflite_micro import runtime  # noqa: E402
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb  # noqa: E402

from rnnedge.errors import RnnedgeError  # noqa: E402
from rnnedge.kernels import ops  # noqa: E402
from rnnedge.kernels.params import Quant  # noqa: E402

from recurrent_models import lstm_model, svdf_model  # noqa: E402

_NP = {fb.TensorType.INT8: np.int8, fb.TensorType.INT16: np.int16,
       fb.TensorType.INT32: np.int32, fb.TensorType.INT64: np.int64}


class _Op:
    """Operand i of the first operator: data (constants), shape, Quant."""

    def __init__(self, model: bytes):
        self.m = runtime.convert_bytearray_to_object(bytearray(model))
        self.g = self.m.subgraphs[0]
        self.op = self.g.operators[0]

    def tensor(self, i):
        return self.g.tensors[self.op.inputs[i]] if self.op.inputs[i] >= 0 else None

    def data(self, i):
        t = self.tensor(i)
        raw = self.m.buffers[t.buffer].data
        return np.frombuffer(bytes(raw), _NP[t.type]).reshape(t.shape)

    def quant(self, i, output=False):
        t = self.g.tensors[self.op.outputs[0]] if output else self.tensor(i)
        return Quant(float(t.quantization.scale[0]), int(t.quantization.zeroPoint[0]))

    def shape(self, i):
        return tuple(self.tensor(i).shape)


def _lstm_kernel(model, lib=None):
    o = _Op(model)
    opt = o.op.builtinOptions
    act = {fb.ActivationFunctionType.TANH: "TANH"}.get(opt.fusedActivationFunction, "NONE")
    return ops.UnidirectionalSequenceLstm(
        o.shape(0), [o.data(i) for i in range(1, 9)], [o.quant(i) for i in range(1, 9)],
        [o.data(i) for i in range(12, 16)], o.quant(0), o.quant(18), o.quant(19).scale,
        time_major=bool(opt.timeMajor), cell_clip=float(opt.cellClip), activation=act,
        dtype=_NP[o.tensor(0).type], lib=lib)


def _svdf_kernel(model, lib=None):
    o = _Op(model)
    bias = o.data(3) if o.op.inputs[3] >= 0 else None
    return ops.Svdf(o.shape(0), o.data(1), o.data(2), bias, o.quant(0), o.quant(1).scale,
                    o.quant(2).scale, o.quant(4), o.quant(0, output=True),
                    rank=o.op.builtinOptions.rank, lib=lib)


def _tflm_runs(model, inputs):
    """TFLM outputs for each input in turn (state carried), then for inputs[0] after reset."""
    interp = runtime.Interpreter.from_bytes(model)
    outs = []
    for x in inputs:
        interp.set_input(x, 0)
        interp.invoke()
        outs.append(interp.get_output(0).copy())
    interp.reset()
    interp.set_input(inputs[0], 0)
    interp.invoke()
    return outs, interp.get_output(0).copy()


def _check(model, kernel, zero_points, rng, extreme=False):
    """The kernel over fresh states (TFLM's reset: int8 states at their zero point, others
    0), two invocations and a reset, equal to TFLM byte for byte."""
    dtype = getattr(kernel, "dtype", np.dtype(np.int8))
    info = np.iinfo(dtype)
    if extreme:
        inputs = [rng.choice(np.array([info.min, info.max], dtype), kernel.input_shape)
                  for _ in range(2)]
    else:
        inputs = [rng.integers(info.min, info.max + 1, kernel.input_shape).astype(dtype)
                  for _ in range(2)]
    expected, after_reset = _tflm_runs(model, inputs)

    def fresh():
        return [np.full(s, zp, d) for s, d, zp in zip(kernel.state_shapes, kernel.state_dtypes,
                                                      zero_points)]
    states = fresh()
    for x, want in zip(inputs, expected):
        got = kernel(x, *states)
        np.testing.assert_array_equal(got.reshape(want.shape), want)
    assert not np.array_equal(expected[0], expected[1]) or extreme, "state had no effect"
    states = fresh()
    np.testing.assert_array_equal(kernel(inputs[0], *states).reshape(after_reset.shape),
                                  after_reset)


LSTM_CASES = {
    "batch1": dict(batch=1, time=4, n_input=3, n_cell=5),
    "batch2": dict(batch=2, time=3, n_input=4, n_cell=6, seed=1),
    "time_major": dict(batch=2, time=3, n_input=4, n_cell=6, time_major=True, seed=2),
    "time_major_b1": dict(batch=1, time=5, n_input=2, n_cell=3, time_major=True, seed=3),
    "no_clip": dict(batch=1, time=6, n_input=7, n_cell=9, cell_clip=0.0, seed=4),
    "tight_clip": dict(batch=2, time=6, n_input=5, n_cell=4, cell_clip=0.3, seed=5),
    "cell_2e-15": dict(batch=1, time=4, n_input=3, n_cell=5, cell_scale_power=-15, seed=6),
    "cell_2e-8": dict(batch=1, time=4, n_input=3, n_cell=5, cell_scale_power=-8, seed=7),
    "zero_points": dict(batch=1, time=4, n_input=3, n_cell=5, input_zp=-128, hidden_zp=127,
                        seed=9),
    "wide": dict(batch=1, time=2, n_input=33, n_cell=17, seed=10),
    "16x8": dict(batch=1, time=4, n_input=3, n_cell=5, dtype=np.int16, seed=12),
    "16x8_batch2": dict(batch=2, time=3, n_input=6, n_cell=4, dtype=np.int16, seed=13),
    "16x8_time_major": dict(batch=2, time=3, n_input=4, n_cell=6, dtype=np.int16,
                            time_major=True, cell_clip=0.0, seed=14),
}


@pytest.mark.parametrize("case", sorted(LSTM_CASES))
def test_lstm_matches_tflm_across_invocations(case, lib, rng):
    config = LSTM_CASES[case]
    model = lstm_model(**config)
    kernel = _lstm_kernel(model, lib)
    zp = _Op(model).quant(18).zero_point
    _check(model, kernel, (zp, 0), rng)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_lstm_saturating_inputs(dtype):
    model = lstm_model(batch=2, time=5, n_input=4, n_cell=5, seed=11, dtype=dtype)
    kernel = _lstm_kernel(model)
    _check(model, kernel, (_Op(model).quant(18).zero_point, 0), np.random.default_rng(0),
           extreme=True)


SVDF_CASES = {
    "int16_state": dict(),
    "int16_batch2_rank1": dict(batch=2, n_input=5, n_units=3, rank=1, memory=4, seed=1),
    "int8_state": dict(state_dtype=np.int8, seed=2),
    "int8_batch2": dict(state_dtype=np.int8, batch=2, n_input=9, n_units=5, rank=3,
                        memory=7, seed=3),
    "int8_zero_points": dict(state_dtype=np.int8, input_zp=-128, state_zp=-128, seed=5),
    "memory1": dict(memory=1, seed=6),
}


# No bias-less case: TFLM's PrepareSvdf reads the bias scale unconditionally (its TODO #1751)
# and crashes on a model without one, so there is no oracle for it.
@pytest.mark.parametrize("case", sorted(SVDF_CASES))
def test_svdf_matches_tflm_across_invocations(case, lib):
    model = svdf_model(**SVDF_CASES[case])
    kernel = _svdf_kernel(model, lib)
    zp = _Op(model).quant(4).zero_point if kernel.state_dtypes[0] == np.int8 else 0
    _check(model, kernel, (zp,), np.random.default_rng(len(case)))
    _check(model, kernel, (zp,), np.random.default_rng(7), extreme=True)


def test_lstm_refuses_bad_operands():
    model = lstm_model()
    o = _Op(model)
    weights = [o.data(i) for i in range(1, 9)]
    quants = [o.quant(i) for i in range(1, 9)]
    biases = [o.data(i) for i in range(12, 16)]
    with pytest.raises(RnnedgeError, match="weight matrix 2"):
        ops.UnidirectionalSequenceLstm(o.shape(0), weights[:1] + [weights[1][:, :2]] +
                                       weights[2:], quants, biases, o.quant(0), o.quant(18),
                                       o.quant(19).scale)
    with pytest.raises(RnnedgeError, match="per tensor"):
        ops.UnidirectionalSequenceLstm(o.shape(0), weights, [Quant(np.ones(5), 0)] + quants[1:],
                                       biases, o.quant(0), o.quant(18), o.quant(19).scale)
    with pytest.raises(RnnedgeError, match="TANH"):
        ops.UnidirectionalSequenceLstm(o.shape(0), weights, quants, biases, o.quant(0),
                                       o.quant(18), o.quant(19).scale, activation="RELU")
    with pytest.raises(RnnedgeError, match="too coarse"):
        ops.UnidirectionalSequenceLstm(o.shape(0), weights, quants, biases, o.quant(0),
                                       o.quant(18), 8.0)
    kernel = _lstm_kernel(model)
    with pytest.raises(RnnedgeError, match="cell state has dtype"):
        kernel(np.zeros(kernel.input_shape, np.int8), np.zeros(kernel.state_shapes[0], np.int8),
               np.zeros(kernel.state_shapes[1], np.int8))


def test_svdf_refuses_bad_operands():
    model = svdf_model()
    o = _Op(model)
    with pytest.raises(RnnedgeError, match="do not fit"):
        ops.Svdf(o.shape(0), o.data(1), o.data(2), o.data(3), o.quant(0), o.quant(1).scale,
                 o.quant(2).scale, o.quant(4), o.quant(0, output=True), rank=3)
    with pytest.raises(RnnedgeError, match="int8 or int16"):
        ops.Svdf(o.shape(0), o.data(1), o.data(2).astype(np.int32), o.data(3), o.quant(0),
                 o.quant(1).scale, o.quant(2).scale, o.quant(4), o.quant(0, output=True),
                 rank=2)
