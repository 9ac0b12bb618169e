"""Fixtures shared by the test modules: the public TinyML models (converted once per session
into the session's temp dir, each on first use), rnnedge's zoo exports, and `saved` (records
checkpoint.save calls in the training tests). Plain helper
functions are in helpers.py.

Under pytest-xdist (the README's test command runs one worker per core) each worker is pinned
to its own share of the cores before torch starts, so the code under test sees one core per
worker: rnnedge's defaults (training threads, `check --jobs`) then use what the worker owns,
and no two workers' OpenMP threads spin against each other on one core. A test marked
`all_cpus` gets every core back for its duration (it measures how work is shared out).
"""

import os
from collections.abc import Mapping

_ALL_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def _pin_xdist_worker() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker.startswith("gw") and 1 < count <= len(_ALL_CPUS):
        os.sched_setaffinity(0, _ALL_CPUS[int(worker[2:]) % count::count])


_pin_xdist_worker()

import pytest  # noqa: E402 - after the pinning, so torch sizes its thread pool to it
import torch  # noqa: E402

if hasattr(os, "sched_getaffinity"):
    torch.set_num_threads(len(os.sched_getaffinity(0)))


@pytest.fixture(autouse=True)
def _all_cpus_when_marked(request):
    """Every core for a test marked `all_cpus`, the worker's share again after it."""
    if request.node.get_closest_marker("all_cpus") is None or not _ALL_CPUS:
        yield
        return
    share = os.sched_getaffinity(0)
    os.sched_setaffinity(0, _ALL_CPUS)
    try:
        yield
    finally:
        os.sched_setaffinity(0, share)

from helpers import export_zoo_model


class _TinymlPaths(Mapping):
    """{TinyML model name: .tflite path}, converting a model only when a test asks for it."""

    def __init__(self, directory: str, module=None):
        from rnnedge import tinyml_models
        self._module, self._directory, self._paths = module or tinyml_models, directory, {}

    def __getitem__(self, name):
        if name not in self._module.BUILDERS:
            raise KeyError(name)
        if name not in self._paths:
            self._paths[name] = self._module.tflite_path(name, self._directory)
        return self._paths[name]

    def __iter__(self):
        return iter(sorted(self._module.BUILDERS))

    def __len__(self):
        return len(self._module.BUILDERS)


@pytest.fixture(scope="session")
def model_paths(tmp_path_factory):
    """{name: path} of the TinyML test models (rnnedge.tinyml_models), built with Keras and
    converted by TFLiteConverter: models that do not come from rnnedge's own exporter."""
    pytest.importorskip("tensorflow", reason="tensorflow (TFLiteConverter) is not installed")
    return _TinymlPaths(str(tmp_path_factory.getbasetemp() / "tinyml"))


@pytest.fixture(scope="session")
def tflm_model_paths(tmp_path_factory):
    """{name: path} of rnnedge.tflm_test_models (int16x8, TRANSPOSE_CONV, WHILE, two inputs,
    SVDF, UNIDIRECTIONAL_SEQUENCE_LSTM), each built on first use."""
    pytest.importorskip("tensorflow", reason="tensorflow (TFLiteConverter) is not installed")
    from rnnedge import tflm_test_models
    return _TinymlPaths(str(tmp_path_factory.getbasetemp() / "tflm_models"), tflm_test_models)


@pytest.fixture(scope="session")
def zoo_export(tmp_path_factory):
    """zoo_export(name) -> path of rnnedge's int8 export of zoo model `name` (once per
    session); an export failure fails the test."""
    return lambda name: export_zoo_model(tmp_path_factory, name)


@pytest.fixture
def saved(monkeypatch):
    """Record checkpoint.save calls and write the weights only: the tiny local models here are
    not rnnedge classes, so a real checkpoint could not name them (the CLI tests round-trip
    real checkpoints of zoo models)."""
    from rnnedge import checkpoint

    calls = []

    def save(model, path, **meta):
        calls.append({"path": path, "state": {k: v.clone() for k, v in model.state_dict().items()},
                      **meta})
        torch.save(model.state_dict(), path)

    monkeypatch.setattr(checkpoint, "save", save)
    return calls
