"""Per-span lifetimes and eager frees (the fused planner's way through the SWS-BiRNN head).

Independent checks: a synthetic bidirectional pass (T = 4 rows of 16 B) whose arena is
worked out by hand below; the span-aware first fit against hand-placed buffers; and the
small-input exports of the CRNN detectors, whose fused plans are scanned for writes over live
data (test_planner_inplace.check_sound) and whose direction-sum ADDs must run right after
the steps that make their inputs. Firmware execution of these plans against TFLM is
tests/test_firmware_fused.py."""

import dataclasses
import json

import numpy as np
import pytest

from rnnedge.planner import plan
from rnnedge.planner.greedy import span_fit
from rnnedge.planner.lifetimes import Buffer, lower_bound
from rnnedge.tflite import Operator, Subgraph, Tensor, read_model
from helpers import small_export
from test_planner_inplace import check_sound

CRNN = {"det-crnn-256": (3, 64, 64), "det-crnn-480x640": (3, 64, 96)}


def _tensor(i, shape):
    n = int(np.prod(shape))
    return Tensor(index=i, name=f"t{i}", shape=shape, type_name="INT8",
                  dtype=np.dtype(np.int8), bits=8, buffer=0, data=None, quantization=None)


def _op(i, opcode, inputs, outputs, **options):
    return Operator(index=i, opcode=opcode, builtin_code=0, custom_code=None, version=1,
                    inputs=inputs, outputs=outputs, intermediates=(), options=options,
                    options_type=None)


def bidirectional_pass(T=4):
    """g (1x16) -> RESIZE -> x (T rows of 16 B, the projection) -> SPLIT into rows; step s:
    CONCATENATION(row s, row T-1-s) -> TANH (the state, 32 B) -> SPLIT into halves; output
    row t = ADD(forward half of state t, backward half of state T-1-t); CONCATENATION of the
    output rows -> y (the graph output). The exporter's SWS-BiRNN layout, without the
    recurrent conv."""
    axis = Tensor(index=1, name="axis", shape=(), type_name="INT32", dtype=np.dtype(np.int32),
                  bits=32, buffer=1, data=np.zeros((), np.int32), quantization=None)
    tensors = [_tensor(0, (1, 16)), axis, _tensor(2, (T, 16))]
    new = lambda shape: tensors.append(_tensor(len(tensors), shape)) or len(tensors) - 1
    rows = [new((1, 16)) for _ in range(T)]
    ops = [_op(0, "RESIZE_NEAREST_NEIGHBOR", (0,), (2,)),
           _op(1, "SPLIT", (1, 2), tuple(rows), num_splits=T)]
    halves = []
    for s in range(T):
        pair, state = new((2, 16)), new((2, 16))
        f, b = new((1, 16)), new((1, 16))
        ops += [_op(len(ops), "CONCATENATION", (rows[s], rows[T - 1 - s]), (pair,), axis=0),
                _op(len(ops) + 1, "TANH", (pair,), (state,)),
                _op(len(ops) + 2, "SPLIT", (1, state), (f, b), num_splits=2)]
        halves.append((f, b))
    out = []
    for t in range(T):
        out.append(new((1, 16)))
        ops.append(_op(len(ops), "ADD", (halves[t][0], halves[T - 1 - t][1]), (out[-1],)))
    y = new((T, 16))
    ops.append(_op(len(ops), "CONCATENATION", tuple(out), (y,), axis=0))
    return Subgraph(index=0, name="", tensors=tuple(tensors), operators=tuple(ops),
                    inputs=(0,), outputs=(y,))


def test_bidirectional_pass_holds_two_maps_not_three():
    """By hand, T = 4, M = 64 B (the projection; the output map is as large). inplace: the
    projection is one buffer until its last row is read (step 3) and every state lives until
    the output ADDs after the last step: at step 3's CONCATENATION, 64 + 3 x 32 (states 0-2)
    + 32 (the new pair) = 192 B. fused: rows die at their second read and the ADDs of output
    rows 1 and 2 run right after step 2, freeing states 1 and 2; the peak is step 2's
    CONCATENATION: 64 (all rows: rows 1 and 2 are read there) + 2 x 32 (states 0, 1) + 32
    (the pair) = 160 B = 2 M + one pair; the output rows are written into y's slices."""
    sg = bidirectional_pass()
    inplace, fused = plan(sg, "inplace"), plan(sg, "fused")
    assert inplace.arena == 192
    assert fused.arena == fused.lower_bound == 160
    assert any(b.spans for b in fused.buffers) and fused.reordered
    adds = [op.index for op in sg.operators if op.opcode == "ADD"]
    order = list(fused.order)
    step2_split = 2 + 3 * 2 + 2  # RESIZE, SPLIT, then (CONCATENATION, TANH, SPLIT) per step
    assert order[order.index(step2_split) + 1:order.index(step2_split) + 3] == [adds[1], adds[2]]
    y = sg.outputs[0]
    for k, t in enumerate(sg.operators[-1].inputs):  # each output row in its slice of y
        assert fused.tensor_offsets[t] == fused.tensor_offsets[y] + 16 * k
    check_sound(dataclasses.make_dataclass("M", ["main"])(sg), fused)


def test_span_fit_places_over_a_dead_span():
    """A (256 B) whose first 128 B die after scope 2 and B (128 B, scopes 5-8): B fits at
    offset 0, over A's dead half; C (144 B, scopes 1-8) overlaps both halves' lifetimes and
    goes above A; D (16 B at scope 2) still finds A's first half live."""
    a = Buffer(0, 0, None, 256, 256, 1, 10, "A", spans=((0, 128, 1, 2), (128, 256, 1, 10)))
    b = Buffer(1, 1, None, 128, 128, 5, 8, "B")
    c = Buffer(2, 2, None, 144, 144, 1, 8, "C")
    d = Buffer(3, 3, None, 16, 16, 2, 2, "D")
    assert span_fit(b, [(0, a)]) == 0
    assert span_fit(c, [(0, a), (0, b)]) == 256
    assert span_fit(d, [(0, a), (0, b), (256, c)]) == 400
    assert lower_bound([a, b]) == 256  # scope 5: A's live half + B
    assert lower_bound([a, b, c]) == 400


@pytest.fixture(scope="module")
def crnn_paths(tmp_path_factory):
    return {name: small_export(tmp_path_factory, name, shape) for name, shape in CRNN.items()}


@pytest.mark.parametrize("name", sorted(CRNN))
@pytest.mark.parametrize("stream", [False, True])
def test_crnn_fused_plans_are_sound_and_run_the_sums_early(crnn_paths, name, stream):
    model = read_model(crnn_paths[name])
    sg = model.main
    fused = plan(model, "fused", stream_input=stream)
    assert fused.arena <= plan(model, "inplace").arena
    check_sound(model, fused)
    if not fused.reordered:
        return
    producer = {t: op.index for op in sg.operators for t in op.outputs}
    position = {i: p for p, i in enumerate(fused.order)}
    sums = [op for op in sg.operators if op.opcode == "ADD"
            and all(sg.operators[producer[t]].opcode == "SPLIT" for t in op.inputs)]
    assert sums
    for op in sums:  # between its inputs' SPLIT and itself, only other direction sums
        ready = max(position[producer[t]] for t in op.inputs)
        between = fused.order[ready + 1:position[op.index]]
        assert all(sg.operators[i] in sums for i in between)


def test_arena_cli_reports_the_span_lifetimes(crnn_paths):
    from click.testing import CliRunner
    from rnnedge.cli import main

    path = crnn_paths["det-crnn-256"]
    result = CliRunner().invoke(main, ["arena", path, "--planner", "fused", "--stream-input",
                                       "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["fused"]["span_lifetimes"] and report["fused"]["stream_input_span_lifetimes"]
    spanned = [b for b in report["placement"] if "spans" in b]
    assert spanned
    for b in spanned:  # ranges inside the buffer, lifetimes inside its own
        assert all(0 <= lo < hi <= b["size"] and b["first"] <= f <= l <= b["last"]
                   for lo, hi, f, l in b["spans"])
    live = {}
    for b in report["placement"]:  # bytes live per scope, summed here from the spans
        for lo, hi, f, l in b.get("spans") or [[0, b["size"], b["first"], b["last"]]]:
            for s in range(max(f, 0), l + 1):
                live[s] = live.get(s, 0) + hi - lo
    assert max(live.values()) <= report["arena"]["fused"]
    assert [live.get(s, 0) for s in range(len(report["live"]["fused"]))] == \
        report["live"]["fused"]


def test_arena_text_names_the_moved_operators_only(crnn_paths):
    """The text report of a reordered plan counts the operators at another position and names
    the first few as 'operator -> position', read here from the JSON's whole order."""
    import re

    from click.testing import CliRunner
    from rnnedge.arena_report import MOVES_SHOWN
    from rnnedge.cli import main

    path = crnn_paths["det-crnn-256"]
    args = ["arena", path, "--planner", "fused"]
    order = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)["reordered"]["fused"]
    moved = [(op, p) for p, op in enumerate(order) if op != p]
    assert moved and sorted(order) == list(range(len(order)))
    text = CliRunner().invoke(main, args).output
    line = next(x for x in text.splitlines() if x.startswith("fused: operators reordered"))
    assert f"{len(moved)} of {len(order)} at another position" in line
    pairs = [tuple(map(int, m)) for m in re.findall(r"(\d+) -> (\d+)", line)]
    assert pairs == moved[:MOVES_SHOWN]
    assert str(order) not in text
