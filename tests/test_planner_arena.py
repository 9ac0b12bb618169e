"""Planners: tflm == TFLM's measured head, best <= tflm (== lower bound where reachable),
inplace below the bound on ResNet18-w0.2, and every plan is a valid layout."""

import sys
import itertools

import numpy as np
import pytest

from rnnedge import tinyml_models
from rnnedge.planner import plan, plan_all
from rnnedge.planner.best import _branch_and_bound, best_plan
from rnnedge.planner.greedy import arena_size, first_fit, tflm_plan
from rnnedge.planner.lifetimes import Buffer, lower_bound, tensor_lifetimes
from rnnedge.tflite import read_model
from rnnedge.tflm_probe import measure_tflm

MODELS = sorted(tinyml_models.BUILDERS)


def _assert_valid(p):
    """No two buffers that are live in the same scope share a byte."""
    for a, b in itertools.combinations(p.buffers, 2):
        if a.overlaps(b):
            oa, ob = p.buffer_offsets[a.id], p.buffer_offsets[b.id]
            assert oa + a.size <= ob or ob + b.size <= oa, (p.planner, a.label, b.label)
    assert p.arena == max(p.buffer_offsets[b.id] + b.size for b in p.buffers)
    assert p.arena >= p.lower_bound


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_tflm_planner_equals_measured_head(model_paths, name):
    measured = measure_tflm(model_paths[name])["head"]
    assert plan(read_model(model_paths[name]), "tflm").arena == measured


@pytest.mark.parametrize("name", MODELS)
def test_best_and_inplace_bounds(model_paths, name):
    plans = plan_all(read_model(model_paths[name]))
    for p in plans.values():
        _assert_valid(p)
    assert plans["best"].arena <= plans["tflm"].arena
    assert plans["best"].arena == plans["best"].lower_bound  # reachable on all these graphs
    assert plans["inplace"].arena <= plans["best"].arena


def test_resnet18_w02_paper_numbers(model_paths):
    plans = plan_all(read_model(model_paths["resnet18_w02"]))
    assert plans["tflm"].arena == 49152  # 4 x 32*32*12: greedy fragmentation
    assert plans["tflm"].lower_bound == plans["best"].arena == 36864  # 3 x 12,288
    inplace = plans["inplace"]
    assert inplace.arena == 25088  # 32*32*12 + 2 * 16*16*25, first projection block
    fused = [r for r in inplace.rules if r["rule"] == "fused_residual_add"]
    assert len(fused) == 8  # every residual ADD
    assert not any(r["moved"] for r in fused)
    # identity blocks of conv2.x need 2 x 12,288 (the paper's 24K) plus the fused step's
    # 32x12 conv row scratch
    assert max(inplace.live[1:6]) == 2 * 12288 + 32 * 12
    assert not any(p.reordered for p in plans.values())


def test_tensor_offsets_cover_arena_tensors(model_paths):
    model = read_model(model_paths["unet"])
    p = plan(model, "best")
    tensors = {b.tensor for b in p.buffers if b.tensor is not None}
    assert set(p.tensor_offsets) == tensors
    assert all(t.data is None for t in (model.main.tensors[i] for i in tensors))


# ---- the packers on synthetic buffers (independent: brute force) ----

def _random_buffers(rng, n):
    out = []
    for i in range(n):
        first = int(rng.integers(0, 6))
        out.append(Buffer(i, i, None, 0, 16 * int(rng.integers(1, 9)), first,
                          first + int(rng.integers(0, 4)), f"b{i}"))
    return out


def _brute_force(buffers):
    return min(arena_size(buffers, first_fit(buffers, [b.id for b in order]))
               for order in itertools.permutations(buffers))


def test_best_is_optimal_on_small_random_sets():
    rng = np.random.default_rng(0)
    for _ in range(40):
        buffers = _random_buffers(rng, 6)
        size = arena_size(buffers, best_plan(buffers))
        assert size <= arena_size(buffers, tflm_plan(buffers))
        assert size == _brute_force(buffers)


def test_tflm_tie_order_and_offline_offsets():
    # equal sizes: TFLM places the higher id first
    buffers = [Buffer(0, 0, None, 0, 32, 0, 1, "a"), Buffer(1, 1, None, 0, 32, 1, 2, "b")]
    assert tflm_plan(buffers) == {1: 0, 0: 32}
    # offline buffers keep their offsets; online ones fill the gaps around them
    buffers.append(Buffer(2, 2, None, 0, 16, 0, 2, "c"))
    offsets = tflm_plan(buffers, offline={0: 64})
    assert offsets[0] == 64 and offsets[1] == 0 and offsets[2] == 32


def test_lifetimes_follow_tflm_rules(model_paths):
    sg = read_model(model_paths["resnet18_w02"]).main
    n = len(sg.operators)
    life = tensor_lifetimes(sg, [(i,) for i in range(n)])
    assert life[sg.inputs[0]] == [0, 1]  # graph input created at scope 0, read by op 0
    assert life[sg.outputs[0]] == [n, n]  # graph output created by the last op, kept to the end
    skip = sg.operators[3].inputs[1]  # the first identity block's skip input
    assert life[skip] == [1, 4]


def test_lower_bound_is_max_live():
    buffers = [Buffer(0, 0, None, 0, 48, 0, 2, "a"), Buffer(1, 1, None, 0, 32, 2, 3, "b"),
               Buffer(2, 2, None, 0, 16, 3, 3, "c")]
    assert lower_bound(buffers) == 80


def test_exact_search_handles_graphs_deeper_than_the_recursion_limit():
    """The branch and bound walks one level per buffer: a 480x640 CRNN has more than 2,000
    buffers, so a search deeper than Python's recursion limit must not fail. All lifetimes
    overlap, so any complete layout stacks them: n x 16 bytes, the bound that ends the
    search at its first leaf, n levels down."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default; pytest-xdist's workers raise it
    try:
        n = 3 * sys.getrecursionlimit()
        buffers = [Buffer(i, i, None, 16, 16, 0, 1, f"t{i}") for i in range(n)]
        size, offsets = _branch_and_bound(buffers, bound=n * 16, best_size=10**9,
                                          budget=10**5)
    finally:
        sys.setrecursionlimit(limit)
    assert size == n * 16 and sorted(offsets.values()) == list(range(0, n * 16, 16))
