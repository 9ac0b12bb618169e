"""QUANTIZE (float32 -> int8 and int8 -> int8) and DEQUANTIZE against TFLM.

A float-in/float-out model of one RELU is QUANTIZE -> RELU -> DEQUANTIZE; the three
kernels chained must give TFLM's float output bit for bit.  The int8 -> int8
QUANTIZE is the one the converter inserts when a TANH output (fixed scale 1/128)
is concatenated with a tensor of another scale.

Not compared: floats whose quantised value overflows int32 (|x / scale| >= 2^31).
TFLM casts those unchecked (undefined behaviour; x86 and Arm disagree); the kernel
saturates them to -128 / 127."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs
from rnnedge.kernels import ops


@pytest.mark.slow
def test_float_quantize_relu_dequantize_chain_matches_tflm(lib, rng):
    shape = (3, 50)
    model = convert("float-io-relu", tf.nn.relu, [shape], float_samples(rng, [shape], -3, 5),
                    int8_io=False)
    graph = SingleOp(model)
    assert graph.names == ["QUANTIZE", "RELU", "DEQUANTIZE"]
    (_, _, _, (q_out,)), (_, _, _, (r_out,)), _ = graph.ops
    quant = ops.Quantize(shape, q_out.quant, lib=lib)
    relu = ops.Relu(shape, q_out.quant, r_out.quant, lib=lib)
    deq = ops.Dequantize(shape, r_out.quant, lib=lib)
    tflm = Tflm(model)
    xs = [rng.uniform(-4, 6, size=shape).astype(np.float32) for _ in range(3)]
    # Exact half-steps of the input scale exercise round-half-away-from-zero.
    xs.append(((np.arange(150).reshape(shape) - 75) * 0.5 * np.float32(q_out.quant.scale))
              .astype(np.float32))
    xs.append(np.array([[1e4, -1e4] * 25] * 3, np.float32))
    for x in xs:
        assert_bytes_equal(tflm(x)[0], deq(relu(quant(x))), "QUANTIZE/RELU/DEQUANTIZE")


def test_quantize_saturates_out_of_range_floats(lib):
    from rnnedge.kernels.params import Quant
    x = np.array([1e30, -1e30, np.inf, -np.inf, 3e9, -3e9], np.float32)
    got = ops.Quantize(x.shape, Quant(0.1, -3), lib=lib)(x)
    assert got.tolist() == [127, -128, 127, -128, 127, -128]


@pytest.mark.slow
def test_requantize_matches_tflm(lib, rng):
    shape = (2, 40)
    model = convert("requant-tanh-concat", lambda a: tf.concat([tf.math.tanh(a), a * 3.0], 1),
                    [shape], float_samples(rng, [shape], -4, 4))
    graph = SingleOp(model)
    assert "QUANTIZE" in graph.names, f"no int8 requantisation in {graph.names}"
    kernels = {"TANH": lambda i, o: ops.Tanh(i[0].shape, i[0].quant, o[0].quant, lib=lib),
               "QUANTIZE": lambda i, o: ops.Requantize(i[0].shape, i[0].quant, o[0].quant,
                                                       lib=lib),
               "MUL": lambda i, o: ops.Mul(i[0].shape, i[1].shape, i[0].quant, i[1].quant,
                                           o[0].quant, lib=lib),
               "CONCATENATION": lambda i, o: ops.Concatenation([t.shape for t in i], 1,
                                                               lib=lib)}
    tflm = Tflm(model)
    for x in int8_inputs(rng, shape, count=3):
        values = {graph.ops[0][2][0].index: x}
        for name, _, ins, outs in graph.ops:
            args = [values[t.index] if t.data is None else t.data for t in ins]
            kernel = kernels[name](ins, outs)
            values[outs[0].index] = kernel(args) if name == "CONCATENATION" else kernel(*args)
        assert_bytes_equal(tflm(x)[0], values[graph.ops[-1][3][0].index], "QUANTIZE int8")
