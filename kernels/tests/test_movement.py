"""SPACE_TO_DEPTH, DEPTH_TO_SPACE, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, MIRROR_PAD (REFLECT,
SYMMETRIC), BROADCAST_TO, REVERSE_V2, FILL, ZEROS_LIKE and SHAPE against TFLM, byte for byte
(converted models where TF emits the op in int8, schema-written ones otherwise), and their
refusals of what TFLM refuses."""

import numpy as np
import pytest
import tensorflow as tf

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, float_samples, \
    int8_inputs
from schema_models import Spec, options, single_op_model
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops

Q = (0.05, 3)


def _converted(key, fn, shape, rng, name):
    model = convert(key, fn, [shape], float_samples(rng, [shape], -1.0, 1.0))
    return model, SingleOp(model).only(name)


def _check(model, kernel, shape, rng, what):
    tflm = Tflm(model)
    for xin in int8_inputs(rng, shape, count=2):
        assert_bytes_equal(tflm(xin)[0], kernel(xin), what)


@pytest.mark.slow
@pytest.mark.parametrize("shape, block", [((1, 4, 6, 3), 2), ((2, 6, 3, 2), 3)])
def test_space_to_depth_matches_tflm(shape, block, lib, rng):
    model, (opts, (x,), (out,)) = _converted(f"s2d-{shape}", lambda t: tf.nn.space_to_depth(
        t, block), shape, rng, "SPACE_TO_DEPTH")
    kernel = ops.SpaceToDepth(x.shape, opts.blockSize, lib=lib)
    assert kernel.output_shape == out.shape
    _check(model, kernel, x.shape, rng, "SPACE_TO_DEPTH")


@pytest.mark.parametrize("shape, block", [((1, 2, 3, 8), 2), ((2, 1, 2, 18), 3)])
def test_depth_to_space_matches_tflm(shape, block, lib, rng):
    """tf.lite.Interpreter cannot load int8 DEPTH_TO_SPACE v2, so the model is written with
    the schema; TFLM runs it."""
    n, h, w, c = shape
    out_shape = (n, h * block, w * block, c // block ** 2)
    model = single_op_model("DEPTH_TO_SPACE", [Spec(shape, np.int8, Q)],
                            [Spec(out_shape, np.int8, Q)],
                            options("DepthToSpaceOptions", blockSize=block),
                            "DepthToSpaceOptions")
    kernel = ops.DepthToSpace(shape, block, lib=lib)
    assert kernel.output_shape == out_shape
    _check(model, kernel, shape, rng, "DEPTH_TO_SPACE")


S2B = [((1, 4, 6, 3), [2, 2], [[1, 1], [0, 2]]), ((2, 5, 4), [3], [[1, 0]]),
       ((1, 3, 3, 2), [1, 3], [[0, 0], [1, 2]])]


@pytest.mark.slow
@pytest.mark.parametrize("case", S2B, ids=["4d", "3d", "block1"])
def test_space_to_batch_nd_matches_tflm(case, lib, rng):
    shape, block, pads = case
    model, (_, (x, b, p), (out,)) = _converted(
        f"s2b-{case}", lambda t: tf.space_to_batch_nd(t, block, pads), shape, rng,
        "SPACE_TO_BATCH_ND")
    zp = out.quant.zero_point
    kernel = ops.SpaceToBatchNd(x.shape, b.data, p.data, zp, lib=lib)
    other = ops.SpaceToBatchNd(x.shape, b.data, p.data, zp ^ 1, lib=lib)
    assert kernel.output_shape == out.shape
    tflm, tflite = Tflm(model), _tflite_reference(model)
    for xin in int8_inputs(rng, x.shape, count=2):
        got = kernel(xin)
        padding = got != other(xin)
        assert padding.any() == bool(np.any(p.data))
        # TFLM never sets the pad value (SpaceToBatchNDPrepare leaves the persistent
        # SpaceToBatchParams.output_offset uninitialised), so its padding bytes are whatever
        # that memory held; the data bytes must match it, and TFLite's reference kernel,
        # which pads with the output zero point, must match everywhere.
        assert_bytes_equal(tflm(xin)[0][~padding], got[~padding], "SPACE_TO_BATCH_ND")
        assert np.all(got[padding] == zp)
        assert_bytes_equal(tflite(xin), got, "SPACE_TO_BATCH_ND (TFLite reference)")


def _tflite_reference(model):
    """tf.lite.Interpreter with the BUILTIN_REF kernels over a one-input model."""
    interp = tf.lite.Interpreter(
        model_content=model,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()

    def run(x):
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
        return np.array(interp.get_tensor(interp.get_output_details()[0]["index"]))
    return run


B2S = [((4, 3, 3, 2), [2, 2], [[0, 1], [1, 0]]), ((6, 4, 3), [3], [[2, 1]]),
       ((6, 2, 2, 1), [2, 3], [[0, 0], [0, 0]])]


@pytest.mark.slow
@pytest.mark.parametrize("case", B2S, ids=["4d", "3d", "no-crop"])
def test_batch_to_space_nd_matches_tflm(case, lib, rng):
    shape, block, crops = case
    model, (_, (x, b, c), (out,)) = _converted(
        f"b2s-{case}", lambda t: tf.compat.v1.batch_to_space_nd(t, block, crops), shape, rng,
        "BATCH_TO_SPACE_ND")
    kernel = ops.BatchToSpaceNd(x.shape, b.data, c.data, lib=lib)
    assert kernel.output_shape == out.shape
    _check(model, kernel, x.shape, rng, "BATCH_TO_SPACE_ND")


MIRROR = [((1, 4, 5, 3), [[0, 0], [1, 3], [4, 0], [0, 0]], "REFLECT"),
          ((1, 4, 5, 3), [[0, 0], [4, 2], [0, 5], [0, 0]], "SYMMETRIC"),
          ((3, 6), [[2, 1], [5, 5]], "REFLECT")]


@pytest.mark.slow
@pytest.mark.parametrize("case", MIRROR, ids=["reflect", "symmetric", "2d"])
def test_mirror_pad_matches_tflm(case, lib, rng):
    shape, pads, mode = case
    model, (opts, (x, p), (out,)) = _converted(
        f"mirror-{case}", lambda t: tf.pad(t, pads, mode=mode), shape, rng, "MIRROR_PAD")
    kernel = ops.MirrorPad(x.shape, p.data, ("REFLECT", "SYMMETRIC")[opts.mode], lib=lib)
    assert kernel.output_shape == out.shape
    _check(model, kernel, x.shape, rng, "MIRROR_PAD")


@pytest.mark.slow
@pytest.mark.parametrize("shape, target", [((3, 1, 5), (2, 3, 4, 5)), ((1,), (4, 2)),
                                           ((2, 1), (2, 3))])
def test_broadcast_to_matches_tflm(shape, target, lib, rng):
    model, (_, (x, t), (out,)) = _converted(
        f"bcast-{shape}-{target}", lambda v: tf.broadcast_to(v, target), shape, rng,
        "BROADCAST_TO")
    kernel = ops.BroadcastTo(x.shape, t.data, lib=lib)
    assert kernel.output_shape == out.shape
    _check(model, kernel, x.shape, rng, "BROADCAST_TO")


@pytest.mark.parametrize("shape, axes", [((2, 5, 3), [1, 2]), ((4, 3), [0]),
                                         ((2, 3, 4, 2), [-3])])
def test_reverse_v2_matches_tflm(shape, axes, lib, rng):
    model = single_op_model("REVERSE_V2", [Spec(shape, np.int8, Q),
                                           Spec((len(axes),), np.int32, None,
                                                np.array(axes, np.int32))],
                            [Spec(shape, np.int8, Q)])
    _check(model, ops.ReverseV2(shape, axes, lib=lib), shape, rng, "REVERSE_V2")


def test_fill_zeros_like_shape_match_tflm(lib):
    fill = single_op_model("FILL", [Spec((2,), np.int32, None, np.array([2, 3], np.int32)),
                                    Spec((), np.int8, Q)], [Spec((2, 3), np.int8, Q)])
    for value in (-128, -7, 127):
        v = np.array(value, np.int8)
        assert_bytes_equal(Tflm(fill)(v)[0], ops.Fill([2, 3], lib=lib)(v), "FILL")
    x = np.arange(-3, 3, dtype=np.int8).reshape(2, 3)
    zeros = single_op_model("ZEROS_LIKE", [Spec((2, 3), np.int8, Q)], [Spec((2, 3), np.int8, Q)])
    assert_bytes_equal(Tflm(zeros)(x)[0], ops.ZerosLike((2, 3), lib=lib)(x), "ZEROS_LIKE")
    assert ops.ZerosLike((2, 3), lib=lib)(x).tolist() == [[0, 0, 0], [0, 0, 0]]  # not the zp
    shape = single_op_model("SHAPE", [Spec((2, 3), np.int8, Q)], [Spec((2,), np.int32)],
                            options("ShapeOptions", outType=2), "ShapeOptions")
    assert_bytes_equal(Tflm(shape)(x)[0], ops.Shape((2, 3), lib=lib)(x), "SHAPE")


def test_movement_refusals(lib):
    with pytest.raises(RnnedgeError, match="not one ascending run"):
        ops.ReverseV2((2, 5, 3), [0, 2], lib=lib)  # TFLM: "Non-contiguous axes not supported"
    with pytest.raises(RnnedgeError, match="do not fit"):
        ops.MirrorPad((3, 4), [[3, 0], [0, 0]], "REFLECT", lib=lib)  # reflect needs pad < dim
    assert ops.MirrorPad((3, 4), [[3, 0], [0, 0]], "SYMMETRIC", lib=lib).output_shape == (6, 4)
    with pytest.raises(RnnedgeError, match="multiples"):
        ops.SpaceToDepth((1, 5, 4, 1), 2, lib=lib)
    with pytest.raises(RnnedgeError, match="cannot be broadcast"):
        ops.BroadcastTo((3, 2), (3, 4), lib=lib)
    with pytest.raises(RnnedgeError, match="cannot broadcast"):
        ops.BroadcastTo((1, 4), (3, 1), lib=lib)  # numpy would give (3, 4)
