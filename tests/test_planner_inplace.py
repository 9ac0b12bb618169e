"""In-place rules: each fires where it should, and every overlap in an inplace plan is one a
firmware can honour (checked by an independent write-over-live-data scan)."""

import dataclasses

import numpy as np
import pytest

from rnnedge import tinyml_models
from rnnedge.planner import plan
from rnnedge.planner.lifetimes import tensor_lifetimes
from rnnedge.tflite import Operator, Subgraph, Tensor, read_model

VIEW_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
IN_PLACE_WRITERS = ("ADD", "SUB", "MUL", "TANH", "LOGISTIC", "RELU", "RELU6", "QUANTIZE",
                    "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@pytest.fixture(scope="module")
def rules_model():
    """Dense x2 -> CONCATENATION (axis 1 of (1, 32)) -> TANH -> RESHAPE -> RESHAPE -> Dense."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    L = tf.keras.layers
    inp = tf.keras.Input((64,))
    x = L.Concatenate()([L.Dense(32)(inp), L.Dense(32)(inp)])
    x = L.Reshape((64,))(L.Reshape((8, 8))(L.Activation("tanh")(x)))
    return read_model(tinyml_models.to_int8_tflite(tf.keras.Model(inp, L.Dense(10)(x))))


def _byte_origins(sg, offs) -> dict:
    """{tensor: origin}: a RESHAPE-like view, a SPLIT output placed at its slice of the input,
    and a CONCATENATION output placed over its inputs laid out consecutively hold the same
    bytes as their source: they share its origin."""
    origin = {}

    def root(t):
        while t in origin:
            t = origin[t]
        return t

    for op in sg.operators:
        data = [t for t in op.inputs if t in offs]
        if op.opcode in VIEW_OPS and data:
            origin[op.outputs[0]] = data[0]
        elif op.opcode in ("SPLIT", "SPLIT_V") and data:
            x, start = data[0], offs[data[0]]
            for o in op.outputs:
                if offs.get(o) == start:
                    origin[o] = x
                start += sg.tensors[o].nbytes
        elif op.opcode == "CONCATENATION" and data == list(op.inputs):
            start, roots = offs.get(op.outputs[0]), {root(t) for t in data}
            for t in data:
                start = start + sg.tensors[t].nbytes if offs[t] == start else None
                if start is None:
                    break
            if start is not None and len(roots) == 1:
                origin[op.outputs[0]] = data[0]
    return {t: root(t) for t in offs} | {t: t for t in offs if t not in origin}


def check_sound(model, p):
    """Whenever an op writes a tensor, any other tensor sharing those bytes and still live
    must die at that op (read before written, by an elementwise / concat / fused writer), or
    be the same data (a view, a slice of a split or of a concatenation)."""
    sg = model.main
    life = tensor_lifetimes(sg, p.steps)
    producer = {t: op for op in sg.operators for t in op.outputs}
    offs = p.tensor_offsets
    origin = _byte_origins(sg, offs)
    for b, ob in offs.items():
        sb = life[b][0]
        for a, oa in offs.items():
            if a == b or not (oa < ob + sg.tensors[b].nbytes and ob < oa + sg.tensors[a].nbytes):
                continue
            first, last = life[a]
            if not first < sb <= last:
                continue
            if origin[a] == origin[b]:
                continue
            assert last == sb, (sg.tensors[a].name, sg.tensors[b].name)
            writer = producer[b]
            assert writer.opcode in IN_PLACE_WRITERS, writer.opcode


def test_rules_fire_on_synthetic_graph(rules_model):
    p = plan(rules_model, "inplace")
    fired = sorted(r["rule"] for r in p.rules)
    assert fired == ["concat_in_output", "concat_in_output", "elementwise", "view", "view"]
    concat = [r for r in p.rules if r["rule"] == "concat_in_output"]
    assert [r["offset"] for r in concat] == [0, 32]
    # by hand: input (64) + the shared concat/tanh/reshape buffer (64) while the Dense run
    assert p.arena == 128
    assert plan(rules_model, "best").arena == 144
    check_sound(rules_model, p)


@pytest.mark.parametrize("name", sorted(tinyml_models.BUILDERS))
def test_inplace_plans_are_sound(model_paths, name):
    model = read_model(model_paths[name])
    check_sound(model, plan(model, "inplace"))


def test_resnet18_fused_conv_writes_over_skip(model_paths):
    model = read_model(model_paths["resnet18_w02"])
    p = plan(model, "inplace")
    sg = model.main
    for conv, add, skip in p.fusions:
        out = sg.operators[add].outputs[0]
        assert p.tensor_offsets[out] == p.tensor_offsets[skip]
        assert sg.operators[conv].outputs[0] not in p.tensor_offsets  # never stored
        assert (conv, add) in p.steps


def _tensor(i, n):
    return Tensor(index=i, name=f"t{i}", shape=(n,), type_name="INT8", dtype=np.dtype(np.int8),
                  bits=8, buffer=0, data=None, quantization=None)


def _op(i, opcode, inputs, outputs):
    return Operator(index=i, opcode=opcode, builtin_code=0, custom_code=None, version=1,
                    inputs=inputs, outputs=outputs, intermediates=(), options={},
                    options_type=None)


def _scan_graph(reread: bool):
    """g (1x16) -> RESIZE_NEAREST_NEIGHBOR -> x (4x16) -> SPLIT (axis 0) -> TANH of each row -> CONCATENATION (axis 0)
    -> y, then ADD(y, x) -> z when `reread`: the shape of a static recurrence's pass."""
    def tensor(i, shape):
        return dataclasses.replace(_tensor(i, int(np.prod(shape))), shape=shape)

    axis = Tensor(index=1, name="axis", shape=(), type_name="INT32", dtype=np.dtype(np.int32),
                  bits=32, buffer=1, data=np.zeros((), np.int32), quantization=None)
    rows, states = [3, 4, 5, 6], [7, 8, 9, 10]
    tensors = [tensor(0, (1, 16)), axis, tensor(2, (4, 16))]
    tensors += [tensor(t, (1, 16)) for t in rows + states] + [tensor(11, (4, 16))]
    ops = [_op(0, "RESIZE_NEAREST_NEIGHBOR", (0,), (2,)),
           dataclasses.replace(_op(1, "SPLIT", (1, 2), tuple(rows)), options={"num_splits": 4})]
    ops += [_op(2 + k, "TANH", (rows[k],), (states[k],)) for k in range(4)]
    ops.append(dataclasses.replace(_op(6, "CONCATENATION", tuple(states), (11,)),
                                   options={"axis": 0}))
    outputs = (11,)
    if reread:
        tensors.append(tensor(12, (4, 16)))
        ops.append(_op(7, "ADD", (11, 2), (12,)))
        outputs = (12,)
    return Subgraph(index=0, name="", tensors=tuple(tensors), operators=tuple(ops),
                    inputs=(0,), outputs=outputs)


def test_split_views_and_concat_run_make_a_pass_run_in_its_input():
    """Rows are views of x, which dies at the SPLIT; each TANH writes over its row, and the
    concatenation of the states is x's bytes again: the pass needs no buffer beyond x."""
    sg = _scan_graph(reread=False)
    p = plan(sg, "inplace")
    fired = [r["rule"] for r in p.rules]
    assert fired.count("split_view") == 1 and fired.count("elementwise") == 4
    assert fired.count("concat_run") == 1
    assert p.tensor_offsets[11] == p.tensor_offsets[2]
    assert p.arena == 16 + 64  # graph input + x
    assert plan(sg, "best").arena == 64 + 64  # x and its rows, or the states and the output
    check_sound(_Model(sg), p)


def test_rows_of_a_tensor_read_later_are_not_overwritten():
    """x is read again after the pass (the ADD), so no TANH may write over its row views:
    the states go straight into the concatenation's output instead."""
    sg = _scan_graph(reread=True)
    p = plan(sg, "inplace")
    tanh_ops = {2, 3, 4, 5}
    assert not [r for r in p.rules if r["rule"] == "elementwise" and tanh_ops & set(r["ops"])]
    assert [r["rule"] for r in p.rules].count("concat_in_output") == 4
    offsets = [p.tensor_offsets[t] for t in (2, 11)]
    assert abs(offsets[0] - offsets[1]) >= 64  # x and y are disjoint
    check_sound(_Model(sg), p)


class _Model:
    """The `.main` wrapper check_sound expects."""

    def __init__(self, sg):
        self.main = sg


def test_reordering_lowers_peak():
    """File order runs both branches' big tensors together (1024 + 4096 + 2048 live);
    a reordered schedule finishes the 2048-byte branch first and peaks at 5136."""
    sizes = [1024, 4096, 2048, 16, 16, 16]
    ops = (_op(0, "CONV_2D", (0,), (1,)), _op(1, "CONV_2D", (0,), (2,)),
           _op(2, "MEAN", (1,), (3,)), _op(3, "MEAN", (2,), (4,)), _op(4, "ADD", (3, 4), (5,)))
    sg = Subgraph(index=0, name="", tensors=tuple(_tensor(i, n) for i, n in enumerate(sizes)),
                  operators=ops, inputs=(0,), outputs=(5,))
    fixed = plan(sg, "best")
    moved = plan(sg, "best", reorder=True)
    assert fixed.arena == fixed.lower_bound == 1024 + 4096 + 2048
    assert moved.reordered and moved.arena == moved.lower_bound == 1024 + 4096 + 16
    assert sorted(moved.order) == [0, 1, 2, 3, 4] and moved.order != (0, 1, 2, 3, 4)
    assert plan(sg, "tflm", reorder=True).order == (0, 1, 2, 3, 4)  # tflm keeps file order


def test_inplace_never_worse_than_best():
    """Writing the concat inputs into the output makes the 2064-byte output live while the
    4096-byte intermediate exists: 6176 > 6160 bytes, so the planner keeps best's layout."""
    sizes = [16, 16, 4096, 2048, 2064]
    ops = (_op(0, "CONV_2D", (0,), (1,)), _op(1, "CONV_2D", (0,), (2,)),
           _op(2, "CONV_2D", (2,), (3,)),
           dataclasses.replace(_op(3, "CONCATENATION", (1, 3), (4,)), options={"axis": 0}))
    sg = Subgraph(index=0, name="", tensors=tuple(_tensor(i, n) for i, n in enumerate(sizes)),
                  operators=ops, inputs=(0,), outputs=(4,))
    best, inplace = plan(sg, "best"), plan(sg, "inplace")
    assert best.arena == 16 + 4096 + 2048
    assert inplace.arena == best.arena and inplace.rules == () and inplace.planner == "inplace"
