"""Validation metrics against hand-computed values."""

import numpy as np
import pytest

from rnnedge import metrics


def test_topk_and_agreement_by_hand():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.4, 0.1], [0.2, 0.3, 0.5], [0.3, 0.3, 0.4]])
    labels = np.array([1, 1, 0, 2])
    assert metrics.topk_accuracy(scores, labels, 1) == 50.0  # rows 0 and 3
    assert metrics.topk_accuracy(scores, labels, 2) == 75.0  # + row 1
    assert metrics.topk_accuracy(scores, labels, 5) == 100.0  # k capped at the class count
    other = np.array([[0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], dtype=np.int8)
    # predictions: scores -> [1, 0, 2, 2]; other -> [1, 1, 2, 0] (tie -> lower index)
    assert metrics.agreement(scores, other) == 50.0


def test_output_errors_by_hand():
    ref, got = np.array([3.0, 4.0]), np.array([3.0, 3.0])
    e = metrics.output_errors(ref, got)
    assert e["rmse"] == pytest.approx(np.sqrt(0.5))
    assert e["mae"] == pytest.approx(0.5)
    assert e["max_abs"] == 1.0
    assert e["l2r"] == pytest.approx(1.0 / 5.0)
    assert e["cos"] == pytest.approx((9 + 12) / (5 * np.sqrt(18)))
    assert metrics.output_errors(ref, ref)["cos"] == pytest.approx(1.0)


def test_confusion_matrix_and_plot(tmp_path):
    m = metrics.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1], 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    path = tmp_path / "cm.png"
    metrics.plot_confusion(m, ["a", "b", "c"], path, "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
