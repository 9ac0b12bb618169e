"""The int16x8 kernels against TFLM: single-op models converted by TensorFlow with
EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 (int16 activations, int8 weights,
int64 biases), run on random and saturated int16 inputs; every byte must equal TFLM's."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import (SingleOp, Tflm, activation, assert_bytes_equal, convert,
                             float_samples, int16_inputs, padding)
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops
from rnnedge.kernels.params import Quant

ACTS = {"relu": tf.nn.relu, "relu6": tf.nn.relu6}


def _convert(key, fn, shapes, rng, lo=-2.0, hi=2.0, **kw):
    return convert(f"int16-{key}", fn, shapes, float_samples(rng, shapes, lo, hi),
                   int16x8=True, **kw)


def _check(model, kernel, name, rng, n_inputs=1):
    tflm = Tflm(model)
    shapes = getattr(kernel, "input_shapes", None) or (
        [kernel.shape1, kernel.shape2] if hasattr(kernel, "shape1") else [kernel.input_shape])
    for trial in zip(*[int16_inputs(rng, s) for s in shapes[:n_inputs]]):
        assert_bytes_equal(tflm(*trial)[0], kernel(*trial), name)


# (input NHWC, kh, kw, out_ch, stride, dilation, padding, activation, per_channel, range)
CONV_CASES = [
    ((1, 9, 8, 3), 3, 3, 5, 1, 1, "SAME", "relu", True, (-1.5, 2.5)),
    ((2, 11, 7, 4), 5, 3, 6, 2, 1, "VALID", None, True, (-3.0, 1.0)),
    ((1, 10, 10, 2), 3, 3, 4, 1, 2, "SAME", "relu6", True, (-8.0, 8.0)),
    ((1, 6, 9, 8), 1, 1, 3, (2, 1), 1, "SAME", None, False, (-0.1, 0.2)),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CONV_CASES, ids=[str(i) for i in range(len(CONV_CASES))])
@pytest.mark.parametrize("depthwise", [False, True], ids=["conv", "depthwise"])
def test_conv_16x8_matches_tflm(case, depthwise, lib, rng):
    shape, kh, kw, oc, stride, dilation, pad, act, per_channel, (lo, hi) = case
    cols = shape[3] * 2 if depthwise else oc
    w = (rng.normal(0, 0.5, size=(kh, kw, shape[3], oc if not depthwise else 2))
         * rng.uniform(0.1, 2.0, size=oc if not depthwise else 2)).astype(np.float32)
    b = tf.constant(rng.normal(0, 0.3, size=(cols,)).astype(np.float32))
    strides = (1, *stride, 1) if isinstance(stride, tuple) else (1, stride, stride, 1)

    def fn(x):
        if depthwise:
            y = tf.nn.depthwise_conv2d(x, w, strides, pad, dilations=(dilation, dilation))
        else:
            y = tf.nn.conv2d(x, w, strides=strides, padding=pad, dilations=dilation)
        return ACTS.get(act, tf.identity)(y + b)
    # TF's converter fails on per-tensor 16x8 depthwise weights ("Quantized dimension ...").
    model = _convert(f"conv{depthwise}-{case}", fn, [shape], rng, lo, hi,
                     per_channel=per_channel or depthwise)
    name = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
    opts, (x, wt, bt), (out,) = SingleOp(model).only(name)
    assert x.dtype == np.int16 and bt.data.dtype == np.int64
    cls = ops.DepthwiseConv2D16x8 if depthwise else ops.Conv2D16x8
    kernel = cls(x.shape, wt.data, bt.data, x.quant, wt.quant.scale, out.quant,
                 stride=(opts.strideH, opts.strideW),
                 dilation=(opts.dilationHFactor, opts.dilationWFactor), padding=padding(opts),
                 activation=activation(opts), output_shape=out.shape, lib=lib)
    _check(model, kernel, name, rng)


@pytest.mark.slow
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_fully_connected_16x8_matches_tflm(per_channel, bias, lib, rng):
    w = rng.normal(0, 0.4, size=(13, 7)).astype(np.float32)
    b = rng.normal(0, 0.5, size=(7,)).astype(np.float32)
    layer = tf.keras.layers.Dense(7, use_bias=bias, activation="relu" if bias else None)
    layer.build((3, 13))
    layer.set_weights([w, b] if bias else [w])
    model = _convert(f"fc-{per_channel}-{bias}", lambda x: layer(x), [(3, 13)], rng,
                     per_channel_dense=per_channel)
    opts, ins, (out,) = SingleOp(model).only("FULLY_CONNECTED")
    x, wt = ins[0], ins[1]
    bt = ins[2] if len(ins) > 2 else None
    assert (bt is not None) == bias
    kernel = ops.FullyConnected16x8(x.shape, wt.data, None if bt is None else bt.data, x.quant,
                                    wt.quant, out.quant, activation=activation(opts), lib=lib)
    _check(model, kernel, "FULLY_CONNECTED", rng)


BINARY = {"ADD": (tf.add, ops.AddInt16), "SUB": (tf.subtract, ops.SubInt16),
          "MUL": (tf.multiply, ops.MulInt16)}
BINARY_CASES = [("ADD", (1, 6, 5, 3), (1, 6, 5, 3), None),
                ("ADD", (2, 4, 5, 3), (1, 1, 5, 1), "relu"),
                ("SUB", (1, 6, 5, 3), (1, 6, 5, 3), None), ("SUB", (3, 1, 8), (1, 5, 1), "relu6"),
                ("MUL", (1, 6, 5, 3), (1, 6, 5, 3), None),
                ("MUL", (2, 3, 4, 5), (1, 3, 1, 5), "relu")]


@pytest.mark.slow
@pytest.mark.parametrize("case", BINARY_CASES, ids=[c[0] + str(i) for i, c in enumerate(BINARY_CASES)])
def test_binary_int16_matches_tflm(case, lib, rng):
    name, sa, sb, act = case
    tf_op, cls = BINARY[name]
    model = convert(f"int16-bin-{case}", lambda a, b: ACTS.get(act, tf.identity)(tf_op(a, b)),
                    [sa, sb], [[rng.uniform(-1, 2, sa).astype(np.float32),
                                rng.uniform(-4, 3, sb).astype(np.float32)] for _ in range(32)],
                    int16x8=True)
    opts, (a, b), (out,) = SingleOp(model).only(name)
    kernel = cls(a.shape, b.shape, a.quant, b.quant, out.quant, activation=activation(opts),
                 lib=lib)
    _check(model, kernel, name, rng, n_inputs=2)


@pytest.mark.slow
@pytest.mark.parametrize("pool", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("pad", ["SAME", "VALID"])
def test_pools_int16_match_tflm(pool, pad, lib, rng):
    shape = (2, 9, 7, 3)
    fn = tf.nn.avg_pool2d if pool == "AVERAGE_POOL_2D" else tf.nn.max_pool2d
    model = _convert(f"{pool}-{pad}", lambda x: fn(x, (3, 2), (2, 2), pad), [shape], rng)
    opts, (x,), (out,) = SingleOp(model).only(pool)
    cls = ops.AveragePool2DInt16 if pool == "AVERAGE_POOL_2D" else ops.MaxPool2DInt16
    kernel = cls(x.shape, (opts.filterHeight, opts.filterWidth), out.quant,
                 stride=(opts.strideH, opts.strideW), padding=padding(opts),
                 activation=activation(opts), output_shape=out.shape, lib=lib)
    _check(model, kernel, pool, rng)


@pytest.mark.slow
@pytest.mark.parametrize("axes, keep", [((1, 2), True), ((2,), False), ((0, 3), True)])
def test_mean_int16_matches_tflm(axes, keep, lib, rng):
    shape = (2, 5, 7, 3)
    model = _convert(f"mean-{axes}-{keep}", lambda x: tf.reduce_mean(x, axis=axes,
                                                                     keepdims=keep),
                     [shape], rng, -1.0, 3.0)
    opts, (x, axis), (out,) = SingleOp(model).only("MEAN")
    kernel = ops.MeanInt16(x.shape, axis.data, x.quant, out.quant, keep_dims=opts.keepDims,
                           lib=lib)
    _check(model, kernel, "MEAN", rng)


@pytest.mark.slow
@pytest.mark.parametrize("shape, beta, hi", [((2, 10), 1.0, 4.0), ((3, 1, 37), 1.0, 12.0),
                                             ((1, 1), 1.0, 1.0)])
def test_softmax_int16_matches_tflm(shape, beta, hi, lib, rng):
    """(TF keeps a beta other than 1 as a MUL before SOFTMAX, so beta is 1 here.)"""
    model = _convert(f"softmax-{shape}-{beta}", lambda x: tf.nn.softmax(beta * x), [shape],
                     rng, -hi, hi)
    opts, (x,), (out,) = SingleOp(model).only("SOFTMAX")
    kernel = ops.SoftmaxInt16(x.shape, x.quant, out.quant, beta=opts.beta, lib=lib)
    _check(model, kernel, "SOFTMAX", rng)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["TANH", "LOGISTIC"])
@pytest.mark.parametrize("hi", [1.0, 4.0, 7.3, 30.0])
def test_tanh_logistic_int16_match_tflm(name, hi, lib, rng):
    """Every int16 input value (the whole sigmoid table is read) and the random cases."""
    fn = tf.tanh if name == "TANH" else tf.sigmoid
    model = _convert(f"{name}-{hi}", fn, [(256, 256)], rng, -hi, hi)
    _, (x,), (out,) = SingleOp(model).only(name)
    cls = ops.TanhInt16 if name == "TANH" else ops.LogisticInt16
    kernel = cls(x.shape, x.quant, out.quant, lib=lib)
    every = np.arange(-32768, 32768, dtype=np.int64).astype(np.int16).reshape(256, 256)
    assert_bytes_equal(Tflm(model)(every)[0], kernel(every), f"{name} every input")
    _check(model, kernel, name, rng)


def test_power_of_two_tanh_scale_takes_the_shift_path(lib):
    """Input scale 2^-11 (shift 1): TFLM's power-of-two case (multiplier 0)."""
    kernel = ops.TanhInt16((4,), Quant(2.0 ** -11, 0), Quant(2.0 ** -15, 0), lib=lib)
    assert (kernel.params.input_multiplier, kernel.params.input_left_shift) == (0, 1)
    with pytest.raises(RnnedgeError, match="output scale 1/32768"):
        ops.LogisticInt16((4,), Quant(2.0 ** -11, 0), Quant(2.0 ** -14, 0), lib=lib)


@pytest.mark.slow
def test_quantize_and_dequantize_int16_match_tflm(lib, rng):
    """float -> QUANTIZE (int16) -> RESHAPE -> DEQUANTIZE (float) with TFLM's float bytes."""
    shape = (2, 5, 6)
    model = _convert("q-dq", lambda x: tf.reshape(x, (10, 6)), [shape], rng, -3.0, 5.0,
                     int8_io=False)
    single = SingleOp(model)
    assert single.names == ["QUANTIZE", "RESHAPE", "DEQUANTIZE"]
    _, (xf,), (xq,) = single.ops[0][1:]
    _, (yq,), _ = single.ops[2][1:]
    quantize = ops.QuantizeInt16(shape, xq.quant, lib=lib)
    reshape = ops.Int16Bytes(ops.Reshape(shape + (2,), (10, 6, 2), lib=lib))
    dequantize = ops.DequantizeInt16((10, 6), yq.quant, lib=lib)
    tflm = Tflm(model)
    samples = [rng.uniform(-4, 6, shape).astype(np.float32) for _ in range(4)]
    # Saturation beyond int16 (not beyond int32: TFLM's float -> int32 cast is undefined there).
    samples += [np.full(shape, 1e5, np.float32), np.full(shape, -1e5, np.float32)]
    for x in samples:
        q = quantize(x)
        assert q.dtype == np.int16
        assert_bytes_equal(tflm(x)[0], dequantize(reshape(q)), "QUANTIZE/DEQUANTIZE int16")


def _movement_cases():
    return {
        "RESHAPE": (lambda a: tf.reshape(a, (6, 8)), [(2, 3, 8)]),
        "PAD": (lambda a: tf.pad(a, [[0, 0], [1, 2], [0, 1], [0, 0]]), [(1, 4, 3, 2)]),
        "STRIDED_SLICE": (lambda a: a[:, 1:5:2, ::-1, :], [(1, 6, 5, 3)]),
        "TRANSPOSE": (lambda a: tf.transpose(a, (0, 2, 3, 1)), [(1, 4, 3, 2)]),
        "RESIZE_NEAREST_NEIGHBOR": (lambda a: tf.image.resize(a, (6, 4), "nearest"),
                                    [(1, 3, 2, 3)]),
    }


def _byte_kernel(name, opts, ins, out, lib):
    """The int8 kernel over the int16 tensors' bytes, as firmware_sim builds it."""
    byte = lambda s: tuple(s) + (2,)  # noqa: E731
    if name == "RESHAPE":
        return ops.Reshape(byte(ins[0].shape), byte(out.shape), lib=lib)
    if name == "PAD":
        return ops.Pad(byte(ins[0].shape), np.vstack([ins[1].data, [[0, 0]]]), 0, lib=lib)
    if name == "STRIDED_SLICE":
        return ops.StridedSlice(byte(ins[0].shape), list(ins[1].data) + [0],
                                list(ins[2].data) + [2], list(ins[3].data) + [1],
                                begin_mask=opts.beginMask, end_mask=opts.endMask,
                                shrink_axis_mask=opts.shrinkAxisMask, lib=lib)
    if name == "TRANSPOSE":
        return ops.Transpose(byte(ins[0].shape), list(ins[1].data) + [len(ins[0].shape)],
                             lib=lib)
    n, h, w, c = ins[0].shape
    return ops.ResizeNearestNeighbor((n, h, w, 2 * c), tuple(ins[1].data),
                                     align_corners=opts.alignCorners,
                                     half_pixel_centers=opts.halfPixelCenters, lib=lib)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_movement_cases()))
def test_byte_moving_ops_on_int16_match_tflm(name, lib, rng):
    fn, shapes = _movement_cases()[name]
    model = _convert(f"move-{name}", fn, shapes, rng)
    opts, ins, (out,) = SingleOp(model).only(name)
    assert ins[0].dtype == np.int16
    kernel = _byte_kernel(name, opts, ins, out, lib)
    if name == "RESIZE_NEAREST_NEIGHBOR":
        tflm = Tflm(model)
        for x in int16_inputs(rng, ins[0].shape):
            got = kernel(x.view(np.int8).reshape(kernel.input_shape))
            assert_bytes_equal(tflm(x)[0], got.view(np.int16), name)
        return
    wrapped = ops.Int16Bytes(kernel)
    tflm = Tflm(model)
    data = [t for t in ins if t.data is None]
    for trial in zip(*[int16_inputs(rng, t.shape) for t in data]):
        assert_bytes_equal(tflm(*trial)[0], wrapped(*trial), name)


@pytest.mark.slow
def test_requantize_int16_and_concatenation_match_tflm(lib, rng):
    """The converter rescales one CONCATENATION input with an int16 -> int16 QUANTIZE."""
    shapes = [(1, 3, 4, 2), (1, 3, 2, 2)]
    model = convert("int16-concat", lambda a, b: tf.concat([a, b], axis=2), shapes,
                    [[rng.uniform(-1, 1, shapes[0]).astype(np.float32),
                      rng.uniform(-6, 6, shapes[1]).astype(np.float32)] for _ in range(32)],
                    int16x8=True)
    single = SingleOp(model)
    assert single.names == ["QUANTIZE", "CONCATENATION"]
    _, (qin,), (qout,) = single.ops[0][1:]
    opts, cins, (out,) = single.ops[1][1:]
    requantize = ops.RequantizeInt16(qin.shape, qin.quant, qout.quant, np.int16, np.int16,
                                     lib=lib)
    concat = ops.Int16Bytes(ops.Concatenation([t.shape + (2,) for t in cins], opts.axis % 4,
                                              lib=lib))
    inputs = sorted([(qin.index, 0), (next(t for t in cins if t.index != qout.index).index, 1)])
    tflm = Tflm(model)
    for trial in zip(*[int16_inputs(rng, s) for s in shapes]):
        by_tensor = {t: trial[i] for t, i in inputs}
        parts = [requantize(by_tensor[qin.index]) if t.index == qout.index else by_tensor[t.index]
                 for t in cins]
        assert_bytes_equal(tflm(*[trial[i] for _, i in inputs])[0], concat(parts),
                           "QUANTIZE int16 + CONCATENATION")


def test_16x8_kernels_refuse_what_tflm_refuses(lib):
    w = np.ones((2, 1, 1, 3), np.int8)
    with pytest.raises(RnnedgeError, match="zero point 3"):
        ops.Conv2D16x8((1, 2, 2, 3), w, None, Quant(0.01, 3), np.float32([0.1, 0.1]),
                       Quant(0.02, 0), lib=lib)
    with pytest.raises(RnnedgeError, match="bias has 3 entries"):
        ops.Conv2D16x8((1, 2, 2, 3), w, np.zeros(3, np.int64), Quant(0.01, 0),
                       np.float32([0.1, 0.1]), Quant(0.02, 0), lib=lib)
    with pytest.raises(RnnedgeError, match="expected int16"):
        ops.Conv2D16x8((1, 2, 2, 3), w, None, Quant(0.01, 0), np.float32([0.1, 0.1]),
                       Quant(0.02, 0), lib=lib)(np.zeros((1, 2, 2, 3), np.int8))


def test_16x8_accumulator_beyond_tflm_range_is_refused(lib):
    """TFLM's int64 requantisation assumes |acc| < 2^47; a larger bias is bad input."""
    fc = ops.FullyConnected16x8((1, 2), np.ones((1, 2), np.int8), np.int64([1 << 50]),
                                Quant(0.01, 0), Quant(0.1, 0), Quant(0.02, 0), lib=lib)
    with pytest.raises(RnnedgeError, match="outside the range"):
        fc(np.zeros((1, 2), np.int16))
