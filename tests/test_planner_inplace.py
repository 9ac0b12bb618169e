"""In-place rules: each fires where it should, and every overlap in an inplace plan is one a
firmware can honour (checked by an independent write-over-live-data scan)."""

import dataclasses

import numpy as np
import pytest

from rnnedge import tinyml_models as T
from rnnedge.planner import plan
from rnnedge.planner.lifetimes import tensor_lifetimes
from rnnedge.tflite import Operator, Subgraph, Tensor, read_model

VIEW_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
IN_PLACE_WRITERS = ("ADD", "SUB", "MUL", "TANH", "LOGISTIC", "RELU", "RELU6", "QUANTIZE",
                    "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@pytest.fixture(scope="session")
def model_paths(tmp_path_factory):
    directory = str(tmp_path_factory.getbasetemp() / "tinyml")
    return {name: T.tflite_path(name, directory) for name in T.BUILDERS}


@pytest.fixture(scope="module")
def rules_model():
    """Dense x2 -> CONCATENATION (axis 1 of (1, 32)) -> TANH -> RESHAPE -> RESHAPE -> Dense."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    L = tf.keras.layers
    inp = tf.keras.Input((64,))
    x = L.Concatenate()([L.Dense(32)(inp), L.Dense(32)(inp)])
    x = L.Reshape((64,))(L.Reshape((8, 8))(L.Activation("tanh")(x)))
    return read_model(T.to_int8_tflite(tf.keras.Model(inp, L.Dense(10)(x))))


def check_sound(model, p):
    """Whenever an op writes a tensor, any other tensor sharing those bytes and still live
    must die at that op (read before written, by an elementwise / concat / fused writer), or
    be the same data (a view)."""
    sg = model.main
    life = tensor_lifetimes(sg, p.steps)
    producer = {t: op for op in sg.operators for t in op.outputs}
    views = {}
    for op in sg.operators:
        if op.opcode in VIEW_OPS:
            views[op.outputs[0]] = op.inputs[0]

    def root(t):
        while t in views:
            t = views[t]
        return t

    offs = p.tensor_offsets
    for b, ob in offs.items():
        sb = life[b][0]
        for a, oa in offs.items():
            if a == b or not (oa < ob + sg.tensors[b].nbytes and ob < oa + sg.tensors[a].nbytes):
                continue
            first, last = life[a]
            if not first < sb <= last:
                continue
            if root(a) == root(b):
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


@pytest.mark.parametrize("name", sorted(T.BUILDERS))
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
