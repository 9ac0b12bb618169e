"""Accuracy and float-vs-int8 agreement metrics, as ST Edge AI's `validate` reports them.

Pure numpy over arrays of logits (N, classes) or any per-sample outputs (N, ...):
- `topk_accuracy`: percent of samples whose label is among the k highest scores;
- `agreement`: percent of samples where two models' top-1 predictions agree;
- `output_errors`: RMSE, MAE, cosine similarity and L2r (||ref - x||_2 / ||ref||_2) between a
  reference output (float) and another (dequantised int8), over all elements;
- `confusion_matrix` and `plot_confusion` (matplotlib, Agg).
Imports: numpy, rnnedge.files (matplotlib lazily, for the plot).
"""

import os

import numpy as np

from rnnedge.files import atomic_output


def topk_accuracy(scores, labels, k=1):
    """Percent of rows of `scores` (N, C) whose `labels` entry is among the top k scores.

    Ties are broken towards the lower class index (numpy's stable argsort), so the result is
    deterministic even for int8 logits that tie.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    if len(labels) == 0:
        raise ValueError("no samples")
    k = min(k, scores.shape[1])
    top = np.argsort(-scores.astype(np.float64), axis=1, kind="stable")[:, :k]
    return float(100.0 * np.mean(np.any(top == labels[:, None], axis=1)))


def predictions(scores):
    """Top-1 class per row, ties towards the lower index."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), axis=1, kind="stable")[:, 0]


def agreement(scores_a, scores_b):
    """Percent of samples where the two score arrays pick the same top-1 class."""
    return float(100.0 * np.mean(predictions(scores_a) == predictions(scores_b)))


def output_errors(reference, other):
    """{rmse, mae, cos, l2r, max_abs} between a reference output and another of the same shape."""
    ref = np.asarray(reference, dtype=np.float64).ravel()
    got = np.asarray(other, dtype=np.float64).ravel()
    if ref.shape != got.shape:
        raise ValueError(f"output sizes differ: {ref.size} vs {got.size}")
    diff = ref - got
    ref_norm, got_norm = np.linalg.norm(ref), np.linalg.norm(got)
    return {
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "mae": float(np.mean(np.abs(diff))),
        "max_abs": float(np.max(np.abs(diff))),
        "cos": float(ref @ got / (ref_norm * got_norm)) if ref_norm and got_norm else float(ref_norm == got_norm),
        "l2r": float(np.linalg.norm(diff) / ref_norm) if ref_norm else float(np.linalg.norm(diff)),
    }


def confusion_matrix(labels, predicted, num_classes):
    """(num_classes, num_classes) counts: rows are true labels, columns predictions."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predicted)), 1)
    return matrix


def plot_confusion(matrix, class_names, path, title):
    """Write a confusion-matrix PNG (row-normalised colours, counts in cells when it fits)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(class_names)
    size = min(4 + 0.35 * n, 24)
    fig, ax = plt.subplots(figsize=(size, size))
    rows = matrix.sum(axis=1, keepdims=True)
    ax.imshow(matrix / np.maximum(rows, 1), cmap="Blues", vmin=0, vmax=1)
    if n <= 20:
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=8)
        ax.set_xticks(range(n), class_names, rotation=90)
        ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    try:
        with atomic_output(path, suffix=os.path.splitext(os.fspath(path))[1] or ".png") as tmp:
            fig.savefig(tmp, dpi=100, format="png")
    finally:
        plt.close(fig)
