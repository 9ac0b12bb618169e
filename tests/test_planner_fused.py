"""The `fused` planner (rnnedge/planner/fused.py, fused_choice.py): row-fused regions below the
live-set bound.

Independent checks: every region's event list is replayed by a slot-by-slot simulation
written here (which rows each window slot holds), so every band a kernel reads must be rows
that were computed and are still held, each output row is computed exactly once (no
recompute), windows never exceed their capacity; the window sizes are compared with a
formula for a plain chain of 3x3 convs; and the fused arena is never above inplace's on every
model at hand. Firmware execution (bit-exact vs TFLM) is tests/test_firmware_fused.py."""

import numpy as np
import pytest

from rnnedge import tinyml_models
from rnnedge.planner import plan
from rnnedge.planner.fused import Region, RowOp, clobbers, schedule
from rnnedge.planner.lifetimes import ROW_WINDOW
from rnnedge.tflite import read_model
from helpers import small_export

DET = {"det-cnn-256": (3, 64, 64), "det-crnn-256": (3, 64, 64),
       "det-cnn-480x640": (3, 64, 96)}


@pytest.fixture(scope="module")
def det_paths(tmp_path_factory):
    """Small-input int8 exports of the paper's detectors (same layers, fewer pixels)."""
    return {name: small_export(tmp_path_factory, name, shape) for name, shape in DET.items()}


def replay(region, sg):
    """Replay `region.events` slot by slot; returns {row op index: rows computed}."""
    slots = {t: [None] * cap for t, cap in region.windows.items()}
    produced = {ro.output: [] for ro in region.row_ops}
    streamed = region.streamed
    for event in region.events:
        if event[0] == "shift":
            _, t, start, count = event
            moved = slots[t][start:start + count]
            assert None not in moved, "a shift moves rows never written"
            slots[t][:count] = moved
            continue
        if event[0] == "fetch":
            _, t, r, slot = event
            assert (t in (streamed, region.copied) or t in region.staged) and \
                0 <= slot < len(slots[t])
            slots[t][slot] = r
            continue
        _, k, y, ins, slot = event
        ro = region.row_ops[k]
        for (t, first, end, s), expected in zip(ins, [ro.rows(y)] * len(ins)):
            assert (first, end) == expected
            if s is None:  # a whole tensor: produced here before, or the region's input
                if t in produced:
                    assert len(produced[t]) >= end, "read a row not computed yet"
            else:
                assert s >= 0 and s + (end - first) <= len(slots[t]), "band outside window"
                assert slots[t][s:s + end - first] == list(range(first, end)), \
                    f"window of {sg.tensors[t].name} does not hold rows {first}..{end - 1}"
        if slot is not None:
            assert 0 <= slot < len(slots[ro.output])
            slots[ro.output][slot] = y
        produced[ro.output].append(y)
    return produced


def check_plan(p, sg):
    """Replay every region; each row op computes each output row once, in order."""
    for region in p.regions:
        produced = replay(region, sg)
        for ro in region.row_ops:
            assert produced[ro.output] == list(range(ro.out_height))
        for t in region.windows:
            # else never stored whole (a staged input of column tiles is, and is fetched)
            assert (t in p.tensor_offsets) == (t == region.copied or t in region.staged)
        windows = [b for b in p.buffers if b.kind == ROW_WINDOW]
        assert sum(b.nbytes for b in windows) == sum(
            r.window_bytes(t) for r in p.regions for t in r.windows)


def test_chain_of_3x3_convs_holds_three_rows_each():
    """A chain of stride-1 3x3 SAME convs needs exactly 3 rows of each intermediate; a
    stride-2 3x3 consumer needs 3 as well; the skip of a residual block of three 3x3 convs
    holds 1 + 3 rows (row y for the ADD while the first conv reads up to row y + 3)."""
    h = 12
    conv = [RowOp((i,), "CONV_2D", (i,), i + 1, 1, 1, 3, h, h) for i in range(3)]
    _, need = schedule(conv, {1, 2})
    assert need == {1: 3, 2: 3}
    s2 = [RowOp((0,), "CONV_2D", (0,), 1, 1, 1, 3, h, h),
          RowOp((1,), "CONV_2D", (1,), 2, 2, 0, 3, h, (h - 3) // 2 + 1)]
    _, need = schedule(s2, {1})
    assert need == {1: 3}
    res = [RowOp((0,), "CONV_2D", (0,), 1, 1, 1, 3, h, h),
           RowOp((1,), "CONV_2D", (1,), 2, 1, 1, 3, h, h),
           RowOp((2,), "CONV_2D", (2,), 3, 1, 1, 3, h, h),
           RowOp((3,), "CONV_2D", (3,), 4, 1, 1, 3, h, h),
           RowOp((4,), "ADD", (1, 4), 5, 1, 0, 1, h, h)]
    events, need = schedule(res, {1, 2, 3, 4})
    assert need == {1: 4, 2: 3, 3: 3, 4: 1}
    events, _ = schedule(res, {1, 2, 3, 4}, capacity=need)
    assert sum(e[0] == "row" for e in events) == 5 * h  # nothing computed twice


@pytest.mark.parametrize("name", sorted(DET))
def test_fused_plans_of_the_detectors(det_paths, name):
    model = read_model(det_paths[name])
    sg = model.main
    inplace = plan(model, "inplace")
    fused = plan(model, "fused")
    streamed = plan(model, "fused", stream_input=True)
    assert fused.arena <= inplace.arena
    check_plan(fused, sg)
    check_plan(streamed, sg)
    assert streamed.stream_input and sg.inputs[0] not in streamed.tensor_offsets
    assert streamed.arena <= fused.arena
    if name.startswith("det-cnn"):  # the CRNNs' floor at this size is the recurrent head
        assert fused.regions and fused.arena < inplace.arena
        assert streamed.arena < fused.arena


def test_fused_never_above_inplace_on_the_tinyml_models(model_paths):
    for name in sorted(tinyml_models.BUILDERS):
        model = read_model(model_paths[name])
        fused, inplace = plan(model, "fused"), plan(model, "inplace")
        assert fused.arena <= inplace.arena, name
        check_plan(fused, model.main)


def test_region_ops_run_as_one_step(det_paths):
    model = read_model(det_paths["det-cnn-256"])
    p = plan(model, "fused")
    region = p.regions[0]
    assert tuple(region.ops) in p.steps
    assert sorted(i for s in p.steps for i in s) == list(range(len(model.main.operators)))
    assert np.all(np.diff([p.order.index(i) for i in region.ops]) == 1)


def test_inplace_depthwise_never_overwrites_an_input_row_before_it_is_fetched():
    """A stride-1 3x3 depthwise over its own input (same offset) is safe: output row y
    lands on input row y once rows up to y + 1 are in the window. Placed two rows ahead, row 0
    would overwrite input row 2 before it is fetched; a stride-2 conv writing half-width
    rows over the input is safe."""
    h, rb = 10, 24
    ro = RowOp((0,), "DEPTHWISE_CONV_2D", (0,), 1, 1, 1, 3, h, h)
    events, need = schedule([ro], {0}, 0)
    events, _ = schedule([ro], {0}, 0, need)
    region = Region((0,), (ro,), need, {0: rb}, None, events, copied=0)
    assert need == {0: 3}
    assert clobbers(region, 0, 0, rb) is None
    assert clobbers(region, 0, 2 * rb, rb) == (0, 2)
    s2 = RowOp((0,), "DEPTHWISE_CONV_2D", (0,), 1, 2, 0, 3, h, (h - 3) // 2 + 1)
    events, need = schedule([s2], {0}, 0)
    events, _ = schedule([s2], {0}, 0, need)
    region = Region((0,), (s2,), need, {0: rb}, None, events, copied=0)
    assert clobbers(region, 0, 0, rb // 2) is None
    # VALID: 4 output rows read input rows 0..8; row 9 is read by none, so never fetched
    assert sum(e[0] == "fetch" for e in events) == h - 1
    assert sum(e[0] == "row" for e in events) == 4
