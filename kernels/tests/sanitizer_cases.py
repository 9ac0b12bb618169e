"""Every kernel on random shapes and quantisation, without TensorFlow, so that the
same cases can run in a subprocess on the ASan + UBSan build and be compared
byte for byte with the release build.

`run_all(lib, seed)` returns {case name: output array}.  Run as a script
(``python sanitizer_cases.py SEED OUT.npz``) it loads the library selected by
RNNEDGE_KERNELS_SANITIZE and writes the outputs to OUT.npz.

May import: numpy and rnnedge.kernels.
"""

import sys

import numpy as np

from rnnedge.kernels import load, ops
from rnnedge.kernels.params import Quant


def _q(rng, lo=0.005, hi=0.2) -> Quant:
    return Quant(float(rng.uniform(lo, hi)), int(rng.integers(-128, 128)))


def _x(rng, shape) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def run_all(lib, seed: int) -> dict:
    """Outputs of one random case per kernel (two for the image ops)."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(2):
        n, h, w, c, oc = (int(v) for v in rng.integers(1, 9, size=5))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        stride, pad = int(rng.integers(1, 3)), ("SAME", "VALID")[i]
        w_conv = _x(rng, (oc, kh, kw, c))
        bias = rng.integers(-2000, 2000, size=oc).astype(np.int32)
        scales = rng.uniform(0.001, 0.05, size=oc)
        conv = ops.Conv2D((n, h + 3, w + 3, c), w_conv, bias, _q(rng), scales, _q(rng),
                          stride=stride, padding=pad, activation="RELU6", lib=lib)
        out[f"conv{i}"] = conv(_x(rng, conv.input_shape))
        dw = ops.DepthwiseConv2D((n, h + 3, w + 3, c), _x(rng, (1, kh, kw, 2 * c)), None,
                                 _q(rng), scales[0], _q(rng), stride=stride, padding=pad,
                                 dilation=1 + i, lib=lib)
        out[f"dwconv{i}"] = dw(_x(rng, dw.input_shape))
        for cls in (ops.AveragePool2D, ops.MaxPool2D):
            q = _q(rng)
            pool = cls((n, h + 2, w + 2, c), (kh, kw), q, stride=stride, padding=pad,
                       activation="RELU", lib=lib)
            out[f"{cls.op}{i}"] = pool(_x(rng, pool.input_shape))
        fc = ops.FullyConnected((n, 3 * c), _x(rng, (oc, 3 * c)), bias, _q(rng),
                                Quant(scales if i else scales[0], 0), _q(rng), lib=lib)
        out[f"fc{i}"] = fc(_x(rng, fc.input_shape))
    shape_a, shape_b = (2, 3, 4, 5), (1, 3, 1, 5)
    for cls in (ops.Add, ops.Sub, ops.Mul):
        k = cls(shape_a, shape_b, _q(rng), _q(rng), _q(rng), activation="RELU", lib=lib)
        out[cls.op] = k(_x(rng, shape_a), _x(rng, shape_b))
    every = np.arange(-128, 128, dtype=np.int8).reshape(4, 64)
    out["tanh"] = ops.Tanh(every.shape, _q(rng, 0.01, 0.3), Quant(1 / 128, 0), lib=lib)(every)
    out["logistic"] = ops.Logistic(every.shape, _q(rng, 0.01, 0.3), Quant(1 / 256, -128),
                                   lib=lib)(every)
    out["relu"] = ops.Relu(every.shape, _q(rng), _q(rng), lib=lib)(every)
    out["relu6"] = ops.Relu6(every.shape, _q(rng, 0.01, 0.05), lib=lib)(every)
    out["softmax"] = ops.Softmax(every.shape, _q(rng, 0.01, 0.3), Quant(1 / 256, -128),
                                 lib=lib)(every)
    out["mean"] = ops.Mean((2, 5, 6, 3), (1, 2), _q(rng), _q(rng), lib=lib)(
        _x(rng, (2, 5, 6, 3)))
    out["pad"] = ops.Pad((2, 3, 4), [[1, 0], [0, 2], [3, 1]], -7, lib=lib)(_x(rng, (2, 3, 4)))
    parts = [_x(rng, (2, k, 3)) for k in (1, 4, 2)]
    out["concat"] = ops.Concatenation([p.shape for p in parts], 1, lib=lib)(parts)
    for j, piece in enumerate(ops.Split((2, 7, 3), 1, [2, 5], lib=lib)(out["concat"])):
        out[f"split{j}"] = piece
    src = _x(rng, (3, 8, 5, 4))
    out["strided_slice"] = ops.StridedSlice(src.shape, (0, -1, 1, 0), (3, 0, 5, 4),
                                            (2, -2, 2, 1), end_mask=8, lib=lib)(src)
    out["slice"] = ops.Slice(src.shape, (1, 2, 0, 1), (2, 3, -1, 2), lib=lib)(src)
    out["transpose"] = ops.Transpose(src.shape, (2, 0, 3, 1), lib=lib)(src)
    out["reshape"] = ops.Reshape(src.shape, (12, 40), lib=lib)(src)
    out["resize"] = ops.ResizeNearestNeighbor(src.shape, (11, 3), half_pixel_centers=True,
                                              lib=lib)(src)
    floats = rng.uniform(-30, 30, size=(5, 7)).astype(np.float32)
    q = _q(rng)
    out["quantize"] = ops.Quantize(floats.shape, q, lib=lib)(floats)
    out["requantize"] = ops.Requantize(every.shape, _q(rng), _q(rng), lib=lib)(every)
    out["dequantize"] = ops.Dequantize(every.shape, q, lib=lib)(every)
    out.update(_recurrent(rng, lib))
    _elementwise_math(lib, rng, every, out)
    _shape_family(rng, lib, src, out)
    out.update(_int16_cases(lib, rng))
    return out


def _x16(rng, shape) -> np.ndarray:
    return rng.integers(-32768, 32768, size=shape).astype(np.int16)


def _int16_cases(lib, rng) -> dict:
    """The int16x8 kernels and TRANSPOSE_CONV (int8 and 16x8) on random shapes."""
    out, q16 = {}, lambda: Quant(float(rng.uniform(1e-5, 1e-3)), 0)  # noqa: E731
    n, h, w, c, oc = (int(v) for v in rng.integers(1, 7, size=5))
    scales = rng.uniform(0.001, 0.05, size=oc)
    bias = rng.integers(-1 << 20, 1 << 20, size=oc).astype(np.int64)
    conv = ops.Conv2D16x8((n, h + 3, w + 3, c), _x(rng, (oc, 3, 2, c)), bias, q16(), scales,
                          q16(), stride=2, activation="RELU", lib=lib)
    out["conv16"] = conv(_x16(rng, conv.input_shape))
    dw = ops.DepthwiseConv2D16x8((n, h + 3, w + 3, c), _x(rng, (1, 3, 3, c)), None, q16(),
                                 scales[0], q16(), dilation=2, lib=lib)
    out["dwconv16"] = dw(_x16(rng, dw.input_shape))
    fc = ops.FullyConnected16x8((n, 3 * c), _x(rng, (oc, 3 * c)), bias, q16(),
                                Quant(scales, 0), q16(), lib=lib)
    out["fc16"] = fc(_x16(rng, fc.input_shape))
    for cls in (ops.AddInt16, ops.SubInt16, ops.MulInt16):
        k = cls((2, 3, 4, 5), (1, 3, 1, 5), q16(), q16(), q16(), lib=lib)
        out[f"{cls.op}16"] = k(_x16(rng, (2, 3, 4, 5)), _x16(rng, (1, 3, 1, 5)))
    for cls in (ops.AveragePool2DInt16, ops.MaxPool2DInt16):
        pool = cls((n, h + 2, w + 2, c), (3, 2), q16(), stride=2, padding="SAME", lib=lib)
        out[f"{cls.op}16"] = pool(_x16(rng, pool.input_shape))
    every = np.arange(-32768, 32768, 256, dtype=np.int16).reshape(4, 64)
    out["mean16"] = ops.MeanInt16(every.shape, (1,), q16(), q16(), lib=lib)(every)
    out["tanh16"] = ops.TanhInt16(every.shape, q16(), Quant(2.0 ** -15, 0), lib=lib)(every)
    out["logistic16"] = ops.LogisticInt16(every.shape, Quant(2.0 ** -12, 0), Quant(2.0 ** -15, 0),
                                          lib=lib)(every)
    out["softmax16"] = ops.SoftmaxInt16(every.shape, q16(), Quant(1 / 32768, 0), lib=lib)(every)
    floats = rng.uniform(-30, 30, size=(5, 7)).astype(np.float32)
    out["quantize16"] = ops.QuantizeInt16(floats.shape, Quant(0.001, 0), lib=lib)(floats)
    out["requantize16"] = ops.RequantizeInt16(every.shape, q16(), _q(rng), np.int16, np.int8,
                                              lib=lib)(every)
    out["dequantize16"] = ops.DequantizeInt16(every.shape, q16(), lib=lib)(every)
    for wide, cls in ((False, ops.TransposeConv), (True, ops.TransposeConv16x8)):
        tb = bias if wide else bias.astype(np.int32)
        tq = q16 if wide else (lambda: _q(rng))
        k = cls((n, h, w, c), _x(rng, (oc, 3, 3, c)), tb, tq(), scales, tq(),
                (n, 2 * h, 2 * w, oc), stride=2, lib=lib)
        out[f"tconv{int(wide)}"] = k(_x16(rng, k.input_shape) if wide else _x(rng, k.input_shape))
    return out


def _recurrent(rng, lib) -> dict:
    """LSTM (both layouts, and 16x8) and SVDF (both state types), each invoked twice on its
    state."""
    out = {}
    for time_major in (False, True):
        b, t, n_in, n_cell = (int(v) for v in rng.integers(1, 6, size=4))
        weights = [_x(rng, (n_cell, n_in if k < 4 else n_cell)) for k in range(8)]
        lstm = ops.UnidirectionalSequenceLstm(
            (t, b, n_in) if time_major else (b, t, n_in), weights,
            [Quant(float(rng.uniform(0.002, 0.02)), 0) for _ in range(8)],
            [rng.integers(-3000, 3000, n_cell).astype(np.int32) for _ in range(4)], _q(rng),
            _q(rng, 0.004, 0.01), 2.0 ** -11, time_major=time_major, cell_clip=3.0, lib=lib)
        h = np.zeros(lstm.state_shapes[0], np.int8)
        c = np.zeros(lstm.state_shapes[1], np.int16)
        for step in range(2):
            out[f"lstm{int(time_major)}_{step}"] = lstm(_x(rng, lstm.input_shape), h, c)
    b, t, n_in, n_cell = (int(v) for v in rng.integers(1, 6, size=4))  # 16x8, batch-major
    lstm = ops.UnidirectionalSequenceLstm(
        (b, t, n_in), [_x(rng, (n_cell, n_in if k < 4 else n_cell)) for k in range(8)],
        [Quant(float(rng.uniform(0.002, 0.02)), 0) for _ in range(8)],
        [rng.integers(-2**20, 2**20, n_cell).astype(np.int64) for _ in range(4)],
        Quant(1e-4, 0), Quant(3e-5, 0), 2.0 ** -11, cell_clip=3.0, dtype=np.int16, lib=lib)
    h, c = (np.zeros(s, d) for s, d in zip(lstm.state_shapes, lstm.state_dtypes))
    for step in range(2):
        out[f"lstm16x8_{step}"] = lstm(_x16(rng, lstm.input_shape), h, c)
    for dtype in (np.int8, np.int16):
        units, rank, memory, depth = (int(v) for v in rng.integers(1, 6, size=4))
        svdf = ops.Svdf((2, depth), _x(rng, (units * rank, depth)),
                        rng.integers(-100, 100, (units * rank, memory)).astype(dtype),
                        rng.integers(-2000, 2000, units).astype(np.int32), _q(rng), 0.01,
                        0.01, Quant(0.05, 0), _q(rng), rank=rank, lib=lib)
        state = np.zeros(svdf.state_shapes[0], dtype)
        for step in range(2):
            out[f"svdf{np.dtype(dtype).itemsize}_{step}"] = svdf(_x(rng, svdf.input_shape),
                                                                 state)
    return out


def _elementwise_math(lib, rng, every, out) -> None:
    """The elementwise math kernels of issue 17 on every int8 value and broadcast shapes."""
    for cls, kw in ((ops.LeakyRelu, {"alpha": -0.3}), (ops.HardSwish, {}), (ops.Abs, {}),
                    (ops.Elu, {})):
        out[cls.op] = cls(every.shape, _q(rng, 0.01, 0.1), _q(rng, 0.02, 0.2), lib=lib,
                          **kw)(every)
    out["GELU"] = ops.Gelu(every.shape, _q(rng, 0.01, 0.1), _q(rng, 0.02, 0.2),
                           approximate=True, lib=lib)(every)
    q_in = Quant(0.02, -128)
    out["RSQRT"] = ops.Rsqrt(every.shape, q_in, _q(rng, 0.01, 0.1), lib=lib)(every)
    out["LOG_SOFTMAX"] = ops.LogSoftmax(every.shape, _q(rng, 0.01, 0.3), Quant(16 / 256, 127),
                                        lib=lib)(every)
    shape_a, shape_b = (2, 3, 4, 5), (1, 3, 1, 5)
    a, b = _x(rng, shape_a), _x(rng, shape_b)
    for cls in (ops.Prelu, ops.Maximum, ops.Minimum, ops.SquaredDifference):
        out[cls.op] = cls(shape_a, shape_b, _q(rng), _q(rng), _q(rng), lib=lib)(a, b)
    q_b = _q(rng)
    divisor = np.where(b == q_b.zero_point, np.int8(q_b.zero_point ^ 1), b).astype(np.int8)
    out["DIV"] = ops.Div(shape_a, shape_b, _q(rng), q_b, _q(rng, 0.05, 0.5), lib=lib)(
        a, divisor)
    for cls in (ops.Equal, ops.NotEqual, ops.Less, ops.LessEqual, ops.Greater,
                ops.GreaterEqual):
        out[cls.op] = cls(shape_a, shape_b, _q(rng), _q(rng), lib=lib)(a, b)
    ca, cb = out["LESS"], out["GREATER"][:1, :, :1, :].copy()
    out["LOGICAL_AND"] = ops.LogicalAnd(shape_a, cb.shape, lib=lib)(ca, cb)
    out["LOGICAL_OR"] = ops.LogicalOr(shape_a, cb.shape, lib=lib)(ca, cb)
    out["LOGICAL_NOT"] = ops.LogicalNot(shape_a, lib=lib)(ca)
    out["SELECT_V2"] = ops.SelectV2(shape_a, shape_b, (5,), lib=lib)(ca, b, _x(rng, (5,)))
    for dtype in (np.int8, np.int32, np.float32, np.bool_):
        out[f"CAST_{np.dtype(dtype).name}"] = ops.Cast(shape_a, np.bool_, dtype, lib=lib)(ca)
        out[f"CAST_int8_{np.dtype(dtype).name}"] = ops.Cast(shape_a, np.int8, dtype, lib=lib)(a)


def _shape_family(rng, lib, src, out) -> None:
    """17shape's kernels: reductions, lookups, PACK/UNPACK, BATCH_MATMUL, RESIZE_BILINEAR."""
    out["sum"] = ops.Sum(src.shape, (1, -1), _q(rng), _q(rng), lib=lib)(src)
    out["reduce_max"] = ops.ReduceMax(src.shape, (0, 2), keep_dims=True, lib=lib)(src)
    out["reduce_min"] = ops.ReduceMin(src.shape, (3,), lib=lib)(src)
    idx = rng.integers(0, 8, size=(3, 4)).astype(np.int32)
    out["gather"] = ops.Gather(src.shape, idx.shape, 1, 1, lib=lib)(src, idx)
    nd = (rng.integers(0, 1 << 20, size=(6, 2)) % np.array([3, 8])).astype(np.int32)
    out["gather_nd"] = ops.GatherNd(src.shape, nd.shape, lib=lib)(src, nd)
    pieces = ops.Unpack(src.shape, 2, lib=lib)(src)
    for j, piece in enumerate(pieces):
        out[f"unpack{j}"] = piece
    out["pack"] = ops.Pack(pieces[0].shape, len(pieces), -1, lib=lib)(pieces)
    lhs, rhs = _x(rng, (3, 1, 5, 7)), _x(rng, (4, 6, 7))
    out["batch_matmul"] = ops.BatchMatmul(lhs.shape, rhs.shape, _q(rng), _q(rng), _q(rng),
                                          adj_y=True, lib=lib)(lhs, rhs)
    out["resize_bilinear"] = ops.ResizeBilinear(src.shape, (13, 3), half_pixel_centers=True,
                                                lib=lib)(src)
    img = _x(rng, (2, 4, 6, 4))
    out["arg_max"] = ops.ArgMax(src.shape, 1, lib=lib)(src)
    out["arg_min"] = ops.ArgMin(src.shape, -1, lib=lib)(src)
    out["space_to_depth"] = ops.SpaceToDepth(img.shape, 2, lib=lib)(img)
    out["depth_to_space"] = ops.DepthToSpace(img.shape, 2, lib=lib)(img)
    s2b = ops.SpaceToBatchNd(img.shape, (2, 3), ((1, 1), (2, 1)), -3, lib=lib)
    out["space_to_batch_nd"] = s2b(img)
    out["batch_to_space_nd"] = ops.BatchToSpaceNd(s2b.output_shape, (2, 3), ((1, 1), (2, 1)),
                                                  lib=lib)(out["space_to_batch_nd"])
    out["mirror_pad"] = ops.MirrorPad(img.shape, ((0, 1), (3, 2), (1, 5), (0, 0)), "REFLECT",
                                      lib=lib)(img)
    out["broadcast_to"] = ops.BroadcastTo((4, 1, 4), (3, 4, 5, 4), lib=lib)(img[0, :, :1].copy())
    out["reverse_v2"] = ops.ReverseV2(src.shape, (1, 2), lib=lib)(src)
    out["fill"] = ops.Fill((3, 5), lib=lib)(np.array(-9, np.int8))
    out["zeros_like"] = ops.ZerosLike(src.shape, lib=lib)(src)
    out["shape"] = ops.Shape(src.shape, lib=lib)(src)
    out["l2_normalization"] = ops.L2Normalization(src.shape, _q(rng), lib=lib)(src)
    parts = [_x(rng, (3, 7)) for _ in range(4)]
    out["add_n"] = ops.AddN((3, 7), 4, _q(rng), _q(rng), lib=lib)(parts)
    ids = rng.integers(0, 3, size=5).astype(np.int32)
    out["embedding_lookup"] = ops.EmbeddingLookup((3, 7), (5,), lib=lib)(parts[0], ids)
    out["cumsum"] = ops.Cumsum(src.shape, 1, _q(rng), _q(rng), exclusive=True, reverse=True,
                               lib=lib)(src)


if __name__ == "__main__":
    np.savez(sys.argv[2], **run_all(load(), int(sys.argv[1])))
