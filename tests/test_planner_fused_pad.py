"""The fused_pad in-place rule: on rnnedge's CIFAR ResNet18 exports it folds the explicit PAD
of every stride-2 3x3 conv into the conv, which brings the inplace arena to the issue's
25,088 B (input 32x32x12 + conv-a output 16x16x25 + shortcut output, the spec notes' sum);
a PAD the conv cannot take as explicit offsets is left alone."""

import dataclasses

import numpy as np
import pytest

from rnnedge.planner import plan
from rnnedge.planner.fused_pad import explicit_padding, find_pad_fusions
from rnnedge.planner.inplace import inplace_buffers
from rnnedge.planner.lifetimes import align, tensor_lifetimes
from rnnedge.tflite import Operator, Tensor, read_model
from helpers import export_zoo_model, padded_strided_convs

LIMIT = 25_088  # issue 4: 12,288 + 6,400 + 6,400 at the first conv3.x block


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """{zoo name: parsed Model} for the thin and RNN CIFAR ResNet18 exports."""
    return {name: read_model(export_zoo_model(tmp_path_factory, name))
            for name in ("cifar-resnet18-thin", "cifar-resnet18-rnn")}


def raw_rules(sg):
    """(steps, rules, placement) of the inplace rules applied without best's fallback."""
    _, placement, steps, _, rules = inplace_buffers(sg)
    return steps, rules, placement


@pytest.mark.parametrize("name", ["cifar-resnet18-thin", "cifar-resnet18-rnn"])
def test_fused_pad_fires_at_every_padded_stride2_conv(exports, name):
    sg = exports[name].main
    expected = padded_strided_convs(sg)
    assert expected  # the exporter pads every stride-2 3x3 conv explicitly
    steps, rules, placement = raw_rules(sg)
    fired = [r for r in rules if r["rule"] == "fused_pad"]
    assert {tuple(r["ops"]) for r in fired} == expected
    for r in fired:
        pad, conv = (sg.operators[i] for i in r["ops"])
        assert r["tensors"] == [sg.tensors[pad.inputs[0]].name, sg.tensors[pad.outputs[0]].name]
        assert r["padding"] == [[1, 1], [1, 1]]  # PyTorch's padding 1, as explicit offsets
        assert pad.outputs[0] not in placement  # the padded tensor takes no arena space
        assert (pad.index, conv.index) in steps  # one step, at the conv's position
        life = tensor_lifetimes(sg, steps)
        scope = steps.index((pad.index, conv.index)) + 1
        assert life[pad.inputs[0]][1] >= scope  # the PAD's input lives to the conv


def test_thin_inplace_arena_reaches_the_issue_limit(exports):
    model = exports["cifar-resnet18-thin"]
    sg = model.main
    p = plan(model, "inplace")
    assert set(p.fused_pads) == padded_strided_convs(sg)
    fused = [r for r in p.rules if r["rule"] == "fused_pad"]
    assert len(fused) == len(p.fused_pads)
    # The spec notes' peak: the first conv3.x block's input (still live for the shortcut)
    # and its two 16x16 outputs, from the tensor shapes themselves.
    pad, conv = sg.operators[fused[0]["ops"][0]], sg.operators[fused[0]["ops"][1]]
    x, y = sg.tensors[pad.inputs[0]], sg.tensors[conv.outputs[0]]
    assert (x.nbytes, y.nbytes) == (32 * 32 * 12, 16 * 16 * 25)
    assert p.arena == align(x.nbytes) + 2 * align(y.nbytes) == LIMIT
    assert p.arena >= p.lower_bound


@pytest.mark.parametrize("name", ["cifar-resnet18-thin", "cifar-resnet18-rnn"])
def test_tflm_and_best_ignore_the_rule(exports, name):
    """tflm and best never fuse: the PAD output keeps its buffer and no rule is reported;
    best stays at the identity block's 3 x 12,288 bound."""
    model = exports[name]
    for planner in ("tflm", "best"):
        p = plan(model, planner)
        assert p.rules == () and p.fused_pads == ()
        assert all(len(step) == 1 for step in p.steps)
        for pad, _ in padded_strided_convs(model.main):
            assert model.main.operators[pad].outputs[0] in p.tensor_offsets
    assert plan(model, "best").arena == 3 * 32 * 32 * 12


def test_rnn_inplace_arena_reaches_the_issue_limit(exports):
    """cifar-resnet18-rnn: the conv part peaks at 25,088 B as in the thin model, and the
    SWS-BiRNN section (from its first TRANSPOSE on) stays at or below 3 x 8x8x102 = 19,584 B:
    the projected rows are paired in one 13,056-byte buffer that the recurrence overwrites in
    place (split_view, fused_residual_add, elementwise, concat_run), plus the 6,528-byte
    projection while the pairs are built and the 6,528-byte output while the directions are
    summed. So the whole model's inplace arena is the issue's 25,088 B."""
    model = exports["cifar-resnet18-rnn"]
    sg = model.main
    p = plan(model, "inplace")
    fired = {r["rule"] for r in p.rules}
    assert {"split_view", "concat_run", "elementwise", "fused_residual_add"} <= fired
    first_rnn = min(s for s, group in enumerate(p.steps, start=1)
                    if any(sg.operators[i].opcode == "TRANSPOSE" for i in group))
    assert max(p.live[1:first_rnn]) == LIMIT
    assert max(p.live[first_rnn:]) <= 3 * 8 * 8 * 102
    assert p.arena == p.lower_bound == LIMIT


# -- PADs the rule must leave alone ------------------------------------------------------------

def _first_pad(sg):
    pad, conv = sorted(padded_strided_convs(sg))[0]
    return sg.operators[pad], sg.operators[conv]


def _replace_tensor(sg, index, **changes):
    tensors = list(sg.tensors)
    tensors[index] = dataclasses.replace(tensors[index], **changes)
    return dataclasses.replace(sg, tensors=tuple(tensors))


def _replace_op(sg, op):
    ops = list(sg.operators)
    ops[op.index] = op
    return dataclasses.replace(sg, operators=tuple(ops))


def _with_const(sg, value):
    """`sg` plus a constant int8 scalar tensor holding `value` (returns sg, its index)."""
    t = Tensor(index=len(sg.tensors), name="pad_value", shape=(), type_name="INT8",
               dtype=np.dtype(np.int8), bits=8, buffer=0, data=np.array(value, np.int8),
               quantization=None)
    return dataclasses.replace(sg, tensors=sg.tensors + (t,)), t.index


def _is_fused(sg, pad) -> bool:
    steps, rules, placement = raw_rules(sg)
    fired = any(r["rule"] == "fused_pad" and r["ops"][0] == pad.index for r in rules)
    assert fired == (sg.tensors[pad.outputs[0]].index not in placement)
    return fired


def _padv2(sg, pad, value):
    sg, t = _with_const(sg, value)
    op = dataclasses.replace(pad, opcode="PADV2", inputs=tuple(pad.inputs[:2]) + (t,))
    return _replace_op(sg, op), op


def test_padv2_with_the_zero_point_is_fused(exports):
    sg = exports["cifar-resnet18-thin"].main
    pad, _ = _first_pad(sg)
    zp = int(sg.tensors[pad.inputs[0]].quantization.zero_points[0])
    sg2, pad2 = _padv2(sg, pad, zp)
    assert _is_fused(sg2, pad2)
    sg3, pad3 = _padv2(sg, pad, zp + 1 if zp < 127 else zp - 1)
    assert not _is_fused(sg3, pad3)


def test_pad_on_channels_is_not_fused(exports):
    sg = exports["cifar-resnet18-thin"].main
    pad, _ = _first_pad(sg)
    paddings = np.array([[0, 0], [1, 1], [1, 1], [0, 1]], np.int32)
    out = sg.tensors[pad.outputs[0]]
    sg2 = _replace_tensor(sg, pad.inputs[1], data=paddings)
    sg2 = _replace_tensor(sg2, out.index, shape=out.shape[:3] + (out.shape[3] + 1,))
    assert not _is_fused(sg2, pad)


def test_pad_with_two_readers_is_not_fused(exports):
    sg = exports["cifar-resnet18-thin"].main
    pad, _ = _first_pad(sg)
    out = sg.tensors[pad.outputs[0]]
    extra = dataclasses.replace(out, index=len(sg.tensors), name="second_reader_out")
    reader = Operator(index=len(sg.operators), opcode="RELU", builtin_code=0, custom_code=None,
                      version=1, inputs=(out.index,), outputs=(extra.index,), intermediates=(),
                      options={}, options_type=None)
    sg2 = dataclasses.replace(sg, tensors=sg.tensors + (extra,),
                              operators=sg.operators + (reader,),
                              outputs=sg.outputs + (extra.index,))
    assert find_pad_fusions(sg2) == [p for p in find_pad_fusions(sg) if p[0] != pad.index]
    assert not _is_fused(sg2, pad)


def test_pad_changing_quantisation_is_not_fused(exports):
    sg = exports["cifar-resnet18-thin"].main
    pad, _ = _first_pad(sg)
    q = sg.tensors[pad.outputs[0]].quantization
    sg2 = _replace_tensor(sg, pad.outputs[0],
                          quantization=dataclasses.replace(q, scales=q.scales * 2))
    assert not _is_fused(sg2, pad)


def test_leading_pad_beyond_the_kernel_is_not_fused(exports):
    """A PAD of 3 rows/cols before a VALID stride-2 3x3 conv (offset 3 > kernel - 1 = 2)
    cannot be explicit conv padding; 2 before and 0 after can."""
    sg = exports["cifar-resnet18-thin"].main
    pad, conv = _first_pad(sg)
    x = sg.tensors[pad.inputs[0]]
    for before, ok in ((3, False), (2, True)):
        paddings = np.array([[0, 0], [before, 0], [before, 0], [0, 0]], np.int32)
        side = x.shape[1] + before
        n_out = (side - 3) // 2 + 1
        sg2 = _replace_tensor(sg, pad.inputs[1], data=paddings)
        sg2 = _replace_tensor(sg2, pad.outputs[0], shape=(1, side, side, x.shape[3]))
        y = sg2.tensors[conv.outputs[0]]
        sg2 = _replace_tensor(sg2, y.index, shape=(1, n_out, n_out, y.shape[3]))
        assert (explicit_padding(sg2, pad, conv) is not None) == ok
