"""LEAKY_RELU, HARD_SWISH, ABS, RSQRT, ELU and LOG_SOFTMAX against TFLM: every int8 input value
(both orders), fixed and seeded random input quantisations, the converter's own output
quantisation. TF's converter keeps ELU in float, so the int8 ELU models are converted RELU
(LEAKY_RELU) models with the operator code rewritten to ELU (TFLM's kernel takes any int8 quantisation)."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    random_range, with_opcode
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops
from rnnedge.kernels.params import Quant

SHAPE = (2, 128)


def _hard_swish(x):
    return x * tf.nn.relu6(x + 3.0) / 6.0


CASES = [
    # (op, tf function, representative range, kernel options)
    ("LEAKY_RELU", lambda x: tf.nn.leaky_relu(x, 0.2), (-3.0, 3.0), {"alpha": 0.2}),
    ("LEAKY_RELU", lambda x: tf.nn.leaky_relu(x, 0.01), (-8.0, 1.0), {"alpha": 0.01}),
    ("LEAKY_RELU", lambda x: tf.nn.leaky_relu(x, 1.7), (-1.0, 6.0), {"alpha": 1.7}),
    ("LEAKY_RELU", lambda x: tf.nn.leaky_relu(x, -0.5), (-2.0, 2.0), {"alpha": -0.5}),
    ("HARD_SWISH", _hard_swish, (-6.0, 6.0), {}),
    ("HARD_SWISH", _hard_swish, (-0.5, 40.0), {}),
    ("HARD_SWISH", _hard_swish, (-100.0, 120.0), {}),
    ("ABS", tf.math.abs, (-3.0, 5.0), {}),
    ("ABS", tf.math.abs, (-9.0, 0.5), {}),
    ("RSQRT", tf.math.rsqrt, (0.01, 4.0), {}),
    ("RSQRT", tf.math.rsqrt, (0.5, 60.0), {}),
    ("ELU", lambda x: tf.nn.leaky_relu(x, 0.25), (-4.0, 3.0), {}),
    ("ELU", lambda x: tf.nn.leaky_relu(x, 0.3), (-3.0, 9.0), {}),
    ("LOG_SOFTMAX", tf.nn.log_softmax, (-3.0, 3.0), {}),
    ("LOG_SOFTMAX", tf.nn.log_softmax, (-20.0, 12.0), {}),
    ("LOG_SOFTMAX", tf.nn.log_softmax, (-0.2, 0.3), {}),
] + [(name, fn, random_range(np.random.default_rng(1700 + i)), kw)
     for i, (name, fn, kw) in enumerate([
         ("LEAKY_RELU", lambda x: tf.nn.leaky_relu(x, 0.3), {"alpha": 0.3}),
         ("HARD_SWISH", _hard_swish, {}), ("ABS", tf.math.abs, {}),
         ("ELU", lambda x: tf.nn.leaky_relu(x, 0.25), {}), ("LOG_SOFTMAX", tf.nn.log_softmax, {})])]

KERNELS = {"LEAKY_RELU": ops.LeakyRelu, "HARD_SWISH": ops.HardSwish, "ABS": ops.Abs,
           "RSQRT": ops.Rsqrt, "ELU": ops.Elu, "LOG_SOFTMAX": ops.LogSoftmax}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_unary_matches_tflm(case, lib, rng):
    name, fn, (lo, hi), options = case
    model = convert(f"unary-{name}-{lo}-{hi}-{options}", fn, [SHAPE],
                    float_samples(rng, [SHAPE], lo, hi))
    if name == "ELU":
        model = with_opcode(model, "ELU")
    _, (x,), (out,) = SingleOp(model, reference=name != "ELU").only(name)
    kernel = KERNELS[name](x.shape, x.quant, out.quant, lib=lib, **options)
    every_value = np.arange(-128, 128, dtype=np.int8).reshape(SHAPE)
    tflm = Tflm(model)
    inputs = [every_value, every_value[::-1].copy(), rng.integers(-128, 128, SHAPE, np.int8)]
    if name == "RSQRT":  # TFLM refuses inputs below the zero point; keep them at or above it
        inputs = [np.maximum(v, np.int8(x.quant.zero_point)) for v in inputs]
    for xin in inputs:
        assert_bytes_equal(tflm(xin)[0], kernel(xin), name)


def test_rsqrt_refuses_inputs_below_the_zero_point(lib):
    kernel = ops.Rsqrt((4,), Quant(0.05, -10), Quant(0.1, -128), lib=lib)
    out = np.full(4, 7, np.int8)
    with pytest.raises(RnnedgeError, match="outside the range"):
        kernel(np.array([0, -10, -11, 5], np.int8), out)
    assert np.all(out == 7)  # nothing written


def test_fixed_output_quantisations_are_enforced(lib):
    with pytest.raises(RnnedgeError, match="16/256"):
        ops.LogSoftmax((2, 4), Quant(0.1, 0), Quant(1 / 256, -128), lib=lib)
    with pytest.raises(RnnedgeError, match="HARD_SWISH"):
        ops.HardSwish((4,), Quant(1e-4, 0), Quant(1.0, 0), lib=lib)


GELU_CASES = [(False, (-3.0, 3.0)), (False, (-8.0, 2.0)), (True, (-3.0, 3.0)),
              (True, (-0.5, 6.0))] + [(bool(i % 2), random_range(np.random.default_rng(1760 + i)))
                                      for i in range(2)]


@pytest.mark.slow
@pytest.mark.parametrize("case", GELU_CASES, ids=[f"GELU{i}" for i in range(len(GELU_CASES))])
def test_gelu_matches_tflite_reference(case, lib, rng):
    """TFLM's resolver does not register GELU, so the oracle is TFLite's reference kernel
    (tf.lite.Interpreter, BUILTIN_REF), exact and tanh-approximate."""
    approximate, (lo, hi) = case
    model = convert(f"gelu-{approximate}-{lo}-{hi}", lambda v: tf.nn.gelu(v, approximate),
                    [SHAPE], float_samples(rng, [SHAPE], lo, hi))
    options, (x,), (out,) = SingleOp(model).only("GELU")
    assert bool(options.approximate) == approximate
    kernel = ops.Gelu(x.shape, x.quant, out.quant, approximate=approximate, lib=lib)
    interp = tf.lite.Interpreter(
        model_content=model,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    every_value = np.arange(-128, 128, dtype=np.int8).reshape(SHAPE)
    for xin in (every_value, rng.integers(-128, 128, SHAPE, np.int8)):
        interp.set_tensor(interp.get_input_details()[0]["index"], xin)
        interp.invoke()
        expected = interp.get_tensor(interp.get_output_details()[0]["index"])
        assert_bytes_equal(expected, kernel(xin), "GELU")
