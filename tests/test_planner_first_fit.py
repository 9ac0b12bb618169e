"""first_fit's time index (greedy.Placed) gives exactly the offsets of the plain quadratic
first fit TFLM's GreedyMemoryPlanner runs: the oracle here is written out independently (scan
every placed buffer by increasing offset; for per-span buffers, the lowest 16-aligned offset
no live piece conflicts with, found by trying offsets one by one)."""

import bisect

import numpy as np
import pytest

from helpers import export_zoo_model
from rnnedge.planner.greedy import Placed, first_fit, tflm_order
from rnnedge.planner.inplace import inplace_buffers
from rnnedge.planner.lifetimes import Buffer, plan_buffers
from rnnedge.tflite import read_model


def _oracle(buffers, order, offline=None):
    """TFLM's loop: placed buffers in a list sorted by offset (ties: insertion order); for
    each new buffer walk it, skipping buffers not live at the same time, and stop at the first
    gap that holds the buffer."""
    offline = offline or {}
    by_id = {b.id: b for b in buffers}
    placed, keys, out = [], [], {}
    for bid in order:
        b = by_id[bid]
        if bid in offline:
            offset = offline[bid]
        elif any(x.spans for x in buffers):
            offset = _oracle_span_offset(b, placed)
        else:
            offset = 0
            for o, other in placed:
                if b.first > other.last or other.first > b.last:
                    continue
                if o - offset >= b.size:
                    break
                offset = max(offset, o + other.size)
        out[bid] = offset
        at = bisect.bisect_right(keys, offset)
        keys.insert(at, offset)
        placed.insert(at, (offset, b))
    return out


def _pieces(b):
    return b.spans or ((0, b.size, b.first, b.last),)


def _oracle_span_offset(b, placed):
    """Lowest 16-aligned x such that no piece of b at x shares a byte with a piece of a
    placed buffer live in the same scope; the answer is 0 or an aligned end of a clash."""
    clashes = [(o + lo - bhi, o + hi - blo) for o, other in placed
               for lo, hi, first, last in _pieces(other)
               for blo, bhi, bfirst, blast in _pieces(b) if bfirst <= last and first <= blast]
    candidates = sorted({0} | {(h + 15) // 16 * 16 for _, h in clashes if h > 0})
    return next(x for x in candidates if not any(lo < x < hi for lo, hi in clashes))


def _random_buffers(rng, n, scopes, spans=False):
    out = []
    for i in range(n):
        kind = rng.integers(0, 10)
        first = int(rng.integers(-1, scopes))
        if kind == 0:  # long-lived (graph input/output like)
            last = int(rng.integers(first, scopes + 1))
        elif kind == 1:  # untouched: TFLM's (-1, -1)
            first = last = -1
        else:
            last = first + int(rng.integers(0, 4))
        size = 16 * int(rng.choice([0, 1, 1, 2, 4, 4, 8, 64]))  # many equal sizes, some zero
        pieces = ()
        if spans and size >= 32 and rng.integers(0, 3) == 0:
            cut = 16 * int(rng.integers(1, size // 16))
            mid = int(rng.integers(first, last + 1))
            pieces = ((0, cut, first, mid), (cut, size, first, last))
        out.append(Buffer(i, i, None, size, size, first, last, f"b{i}", spans=pieces))
    return out


@pytest.mark.parametrize("seed, scopes", [(0, 5), (1, 200), (2, 2000)])
def test_first_fit_equals_quadratic_reference_on_random_sets(seed, scopes):
    rng = np.random.default_rng(seed)
    buffers = _random_buffers(rng, 2000, scopes)
    for order in (tflm_order(buffers), [int(i) for i in rng.permutation(len(buffers))]):
        assert first_fit(buffers, order) == _oracle(buffers, order)
    offline = {b.id: 16 * int(rng.integers(0, 40)) for b in buffers[:50]}
    order = tflm_order(buffers, offline)
    assert first_fit(buffers, order, offline) == _oracle(buffers, order, offline)


def test_first_fit_equals_reference_with_spans_and_nesting():
    rng = np.random.default_rng(7)
    for _ in range(20):
        buffers = _random_buffers(rng, 60, scopes=12, spans=True)
        buffers.append(Buffer(60, 60, None, 64, 64, -1, 13, "outer"))  # holds every lifetime
        order = tflm_order(buffers)
        assert first_fit(buffers, order) == _oracle(buffers, order)


def test_placed_finds_exactly_the_live_buffers_and_forgets_removed_ones():
    rng = np.random.default_rng(3)
    buffers = _random_buffers(rng, 400, scopes=50)
    index = Placed(buffers)
    pairs = [(16 * i, b) for i, b in enumerate(buffers)]
    for p in pairs:
        index.add(p)
    for p in pairs[::3]:
        index.remove(p)
    kept = [p for i, p in enumerate(pairs) if i % 3]
    for b in buffers:
        got = sorted(p[1].id for p in index.live_during(b))
        assert got == sorted(p[1].id for p in kept
                             if not (b.first > p[1].last or p[1].first > b.last))


def _check_model(path):
    sg = read_model(path).main
    order = list(range(len(sg.operators)))
    buffers = plan_buffers(sg)
    packed = inplace_buffers(sg, order, (), False)[0]
    spanned = inplace_buffers(sg, order, (), True)[0]
    for bufs in (buffers, packed, spanned):
        for o in (tflm_order(bufs), [b.id for b in sorted(bufs, key=lambda b: (b.first, b.id))]):
            assert first_fit(bufs, o) == _oracle(bufs, o)


@pytest.mark.parametrize("name", ["resnet18_w02", "unet", "ds_cnn"])
def test_first_fit_equals_reference_on_tinyml_models(model_paths, name):
    _check_model(model_paths[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cifar-resnet18-rnn", "det-crnn-256"])
def test_first_fit_equals_reference_on_zoo_exports(tmp_path_factory, name):
    _check_model(export_zoo_model(tmp_path_factory, name))
