"""EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL (int8 in, bool out),
LOGICAL_AND / LOGICAL_OR / LOGICAL_NOT and SELECT_V2 against TFLM: different input scales,
broadcasting between two model inputs and against constants, inputs that equal each other
after rescaling (the edge of every comparison). The logical ops and SELECT_V2 take bool
tensors that only comparisons make, so they are checked on small graphs run kernel by kernel
(each comparison's bool output feeding the next kernel) against TFLM's final output."""

import numpy as np
import pytest
import tensorflow as tf
from tflite_micro.python.tflite_micro import runtime

from kernels_harness import SingleOp, Tflm, assert_bytes_equal, convert, int8_inputs, \
    random_range, with_opcode
from rnnedge.errors import RnnedgeError
from rnnedge.kernels import ops
from rnnedge.kernels.params import Quant

COMPARISONS = {"EQUAL": (tf.math.equal, ops.Equal), "NOT_EQUAL": (tf.math.not_equal, ops.NotEqual),
               "LESS": (tf.math.less, ops.Less), "LESS_EQUAL": (tf.math.less_equal, ops.LessEqual),
               "GREATER": (tf.math.greater, ops.Greater),
               "GREATER_EQUAL": (tf.math.greater_equal, ops.GreaterEqual)}
SHAPES = [((2, 3, 4, 5), (1, 3, 1, 5)), ((4, 7), (4, 7)), ((6,), (1,)), ((2, 5, 3), (5, 1))]


def _reps(rng, shapes, ranges):
    return [[rng.uniform(lo, hi, s).astype(np.float32) for s, (lo, hi) in zip(shapes, ranges)]
            for _ in range(32)]


def _ops(model):
    """[(name, kernel inputs, kernel outputs)] of every operator, in order."""
    return [(name, ins, outs) for name, _, ins, outs in SingleOp(model).ops]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMPARISONS))
@pytest.mark.parametrize("shapes", SHAPES, ids=[str(i) for i in range(len(SHAPES))])
def test_comparison_matches_tflm(name, shapes, lib, rng):
    ranges = (random_range(rng), random_range(rng))
    # TF's converter keeps NOT_EQUAL in float: rewrite an int8 EQUAL model's operator instead
    source = "EQUAL" if name == "NOT_EQUAL" else name
    model = convert(f"cmp-{source}-{shapes}-{ranges}", COMPARISONS[source][0], list(shapes),
                    _reps(rng, shapes, ranges))
    if name != source:
        model = with_opcode(model, name)
    _, (a, b), (out,) = SingleOp(model).only(name)
    assert out.dtype == np.bool_
    kernel = COMPARISONS[name][1](a.shape, b.shape, a.quant, b.quant, lib=lib)
    tflm = Tflm(model)
    pairs = list(zip(int8_inputs(rng, a.shape), int8_inputs(rng, b.shape)[::-1]))
    # equal real values: the same int8 pattern on both sides when the quantisations agree
    same = rng.integers(-128, 128, a.shape, np.int8)
    pairs.append((same, np.broadcast_to(same, a.shape)[tuple(
        slice(0, 1) if d == 1 else slice(None) for d in (1,) * (len(a.shape) - len(b.shape))
        + b.shape)].reshape(b.shape).copy()))
    for xa, xb in pairs:
        got = kernel(xa, xb)
        assert got.dtype == np.bool_
        assert_bytes_equal(tflm(xa, xb)[0], got, name)


def test_comparison_against_a_constant_matches_tflm(lib, rng):
    const = tf.constant(rng.uniform(-1, 1, size=(5,)).astype(np.float32))
    model = convert("cmp-const", lambda a: tf.math.greater_equal(a, const), [(3, 5)],
                    _reps(rng, [(3, 5)], [(-2.0, 2.0)]))
    _, (a, b), _ = SingleOp(model).only("GREATER_EQUAL")
    kernel = ops.GreaterEqual(a.shape, b.shape, a.quant, b.quant, lib=lib)
    tflm = Tflm(model)
    for xa in int8_inputs(rng, a.shape):
        assert_bytes_equal(tflm(xa)[0], kernel(xa, b.data), "GREATER_EQUAL")


def _chain(model, lib, inputs):
    """Run every operator of `model` with rnnedge's kernels; returns the graph's output."""
    graph = runtime.convert_bytearray_to_object(model).subgraphs[0]
    values = dict(zip((int(i) for i in graph.inputs), inputs))
    for name, ins, outs in _ops(model):
        args = [t.data if t.data is not None else values[t.index] for t in ins]
        if name in COMPARISONS:
            kernel = COMPARISONS[name][1](ins[0].shape, ins[1].shape,
                                          *(None if t.dtype == np.bool_ else t.quant
                                            for t in ins[:2]), lib=lib)
        elif name in ("LOGICAL_AND", "LOGICAL_OR"):
            kernel = {"LOGICAL_AND": ops.LogicalAnd, "LOGICAL_OR": ops.LogicalOr}[name](
                ins[0].shape, ins[1].shape, lib=lib)
        elif name == "LOGICAL_NOT":
            kernel = ops.LogicalNot(ins[0].shape, lib=lib)
        elif name == "SELECT_V2":
            kernel = ops.SelectV2(*(t.shape for t in ins), lib=lib)
        else:
            raise AssertionError(f"unexpected operator {name}")
        values[outs[0].index] = kernel(*args)
    return values[outs[0].index]


GRAPHS = [
    ("and", lambda a, b: tf.logical_and(a < b, b > 0.5), [(3, 8), (3, 8)]),
    ("or", lambda a, b: tf.logical_or(a >= b, b < -0.25), [(2, 4, 6), (4, 1)]),
    ("not", lambda a, b: tf.logical_not(tf.logical_or(a < b, a > 1.0)), [(5, 6), (6,)]),
    ("bool-eq", lambda a, b: tf.math.equal(a < 0.0, b < 0.0), [(4, 5), (4, 5)]),
    ("bool-ne", lambda a, b: tf.math.not_equal(a < 0.0, b > 0.0), [(2, 3, 5), (3, 1)]),
]


@pytest.mark.slow
@pytest.mark.parametrize("graph", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_bool_graph_matches_tflm(graph, lib, rng):
    key, fn, shapes = graph
    model = convert(f"bool-{key}", fn, shapes, _reps(rng, shapes, [(-2.0, 2.0)] * 2))
    names = [n for n, _, _ in _ops(model)]
    assert set(names) - set(COMPARISONS) or key.startswith("bool-"), names
    tflm = Tflm(model)
    for xs in zip(*(int8_inputs(rng, s) for s in shapes)):
        assert_bytes_equal(tflm(*xs)[0], _chain(model, lib, xs), key)


@pytest.mark.slow
@pytest.mark.parametrize("shapes", [[(3, 8), (1, 8)], [(2, 3, 4), (2, 1, 4)],
                                    [(1, 2, 3, 4, 5), (1, 2, 1, 4, 1)]],
                         ids=["2d", "3d", "5d"])
def test_select_v2_matches_tflm(shapes, lib, rng):
    # tf.where with broadcasting converts to SELECT_V2 (same shapes give SELECT, which TFLM
    # does not register); x and y share the output's quantisation
    model = convert(f"select-{shapes}", lambda a, b: tf.where(a > 0.25, a, b), shapes,
                    _reps(rng, shapes, [(-2.0, 2.0)] * 2))
    assert [n for n, _, _ in _ops(model)][-1] == "SELECT_V2"
    tflm = Tflm(model)
    for xs in zip(*(int8_inputs(rng, s) for s in shapes)):
        assert_bytes_equal(tflm(*xs)[0], _chain(model, lib, xs), "SELECT_V2")


def test_comparison_rules_follow_tflm(lib):
    q = Quant(0.1, 0)
    with pytest.raises(RnnedgeError, match="only for equality"):
        ops.Less((3,), (3,), lib=lib)
    with pytest.raises(RnnedgeError, match="below 1"):
        ops.Greater((3,), (3,), Quant(1.5, 0), q, lib=lib)
    with pytest.raises(RnnedgeError, match="at most 4"):
        ops.Equal((2, 1, 3, 1, 5), (1, 4, 1, 6, 1), q, q, lib=lib)
    with pytest.raises(RnnedgeError, match="dtype"):
        ops.LogicalNot((3,), lib=lib)(np.zeros(3, np.int8))


CASTS = [("float32", lambda a, b: tf.cast(a < b, tf.float32) * a),
         ("int32", lambda a, b: tf.cast(tf.math.greater_equal(a, b), tf.int32)),
         ("int8", lambda a, b: tf.cast(tf.math.equal(a, b), tf.int8))]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASTS, ids=[c[0] for c in CASTS])
def test_cast_of_a_comparison_matches_tflm(case, lib, rng):
    """CAST(bool -> float32 / int32 / int8) as TF's converter emits it (tf.cast of a mask);
    the float32 case runs on through QUANTIZE and MUL in rnnedge's kernels too."""
    key, fn, shape = case[0], case[1], (3, 7)
    model = convert(f"cast-{key}", fn, [shape, shape], _reps(rng, [shape] * 2, [(-2.0, 2.0)] * 2))
    tflm = Tflm(model)
    graph = runtime.convert_bytearray_to_object(model).subgraphs[0]
    for xs in zip(*(int8_inputs(rng, shape) for _ in range(2))):
        values = dict(zip((int(i) for i in graph.inputs), xs))
        for name, ins, outs in _ops(model):
            args = [t.data if t.data is not None else values[t.index] for t in ins]
            if name == "CAST":
                kernel = ops.Cast(ins[0].shape, ins[0].dtype, outs[0].dtype, lib=lib)
            elif name == "QUANTIZE":
                kernel = ops.Quantize(ins[0].shape, outs[0].quant, lib=lib)
            elif name == "MUL":
                kernel = ops.Mul(ins[0].shape, ins[1].shape, ins[0].quant, ins[1].quant,
                                 outs[0].quant, lib=lib)
            else:
                kernel = COMPARISONS[name][1](ins[0].shape, ins[1].shape, ins[0].quant,
                                              ins[1].quant, lib=lib)
            values[outs[0].index] = kernel(*args)
        assert_bytes_equal(tflm(*xs)[0], values[outs[0].index], key)


def test_cast_rules(lib):
    assert np.array_equal(ops.Cast((3,), np.int8, np.float32, lib=lib)(
        np.array([-128, 0, 127], np.int8)), np.array([-128.0, 0.0, 127.0], np.float32))
    assert np.array_equal(ops.Cast((3,), np.int8, np.bool_, lib=lib)(
        np.array([-128, 0, 3], np.int8)), np.array([True, False, True]))
    with pytest.raises(RnnedgeError, match="not supported"):
        ops.Cast((3,), np.float32, np.int8, lib=lib)
