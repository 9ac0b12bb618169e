"""TRANSPOSE_CONV against TFLM, int8 and int16x8, with and without bias: Keras
Conv2DTranspose layers (strides 1-3, SAME / VALID, odd sizes, several channels) converted
by TensorFlow, run on random and saturated inputs."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import (SingleOp, Tflm, assert_bytes_equal, convert, float_samples,
                             int8_inputs, int16_inputs, padding)
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops
from rnnedge.kernels.params import Quant

# (input NHWC, filters, kernel, strides, padding, bias)
CASES = [
    ((1, 4, 5, 3), 4, 3, 2, "same", True),
    ((1, 5, 4, 2), 3, (3, 2), (2, 1), "valid", True),
    ((2, 3, 3, 4), 2, 4, 3, "same", False),
    ((1, 6, 5, 1), 5, 2, 1, "valid", False),
    ((1, 3, 4, 6), 3, 5, 2, "valid", True),
]


def _model(case, rng, int16x8):
    shape, filters, kernel, strides, pad, bias = case
    layer = tf.keras.layers.Conv2DTranspose(filters, kernel, strides=strides, padding=pad,
                                            use_bias=bias)
    layer.build(shape)
    weights = [rng.normal(0, 0.5, size=w.shape).astype(np.float32)
               for w in layer.get_weights()]
    layer.set_weights(weights)
    return convert(f"tconv-{int16x8}-{case}", lambda x: layer(x), [shape],
                   float_samples(rng, [shape], -1.5, 2.5), int16x8=int16x8)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
@pytest.mark.parametrize("int16x8", [False, True], ids=["int8", "16x8"])
def test_transpose_conv_matches_tflm(case, int16x8, lib, rng):
    model = _model(case, rng, int16x8)
    opts, ins, (out,) = SingleOp(model).only("TRANSPOSE_CONV")
    shape_t, w, x = ins[:3]
    b = ins[3] if len(ins) > 3 else None
    has_bias = b is not None
    assert has_bias == case[5], "the converter did not fold the bias into TRANSPOSE_CONV"
    cls = ops.TransposeConv16x8 if int16x8 else ops.TransposeConv
    kernel = cls(x.shape, w.data, None if b is None else b.data, x.quant, w.quant.scale,
                 out.quant, tuple(shape_t.data), stride=(opts.strideH, opts.strideW),
                 padding=padding(opts), lib=lib)
    tflm = Tflm(model)
    inputs = int16_inputs(rng, x.shape) if int16x8 else int8_inputs(rng, x.shape)
    for xin in inputs:
        assert_bytes_equal(tflm(xin)[0], kernel(xin), f"TRANSPOSE_CONV {case}")


def test_transpose_conv_refuses_mismatched_shapes(lib):
    w = np.ones((4, 3, 3, 2), np.int8)
    with pytest.raises(RnnedgeError, match="do not match"):
        ops.TransposeConv((1, 4, 4, 3), w, None, Quant(0.1, 0), np.float32([0.1] * 4),
                          Quant(0.1, 0), (1, 8, 8, 4), stride=2, lib=lib)
    with pytest.raises(RnnedgeError, match="bias has 3 entries"):
        ops.TransposeConv((1, 4, 4, 2), w, np.zeros(3, np.int32), Quant(0.1, 0),
                          np.float32([0.1] * 4), Quant(0.1, 0), (1, 8, 8, 4), stride=2, lib=lib)
    with pytest.raises(RnnedgeError, match="zero point 5"):
        ops.TransposeConv16x8((1, 4, 4, 2), w, None, Quant(0.1, 5), np.float32([0.1] * 4),
                              Quant(0.1, 0), (1, 8, 8, 4), stride=2, lib=lib)
