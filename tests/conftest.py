"""Fixtures shared by the test modules: the public TinyML models (converted once per session
into the session's temp dir, each on first use), rnnedge's zoo exports, and `saved` (records
checkpoint.save calls in the training tests). Plain helper
functions are in helpers.py."""

from collections.abc import Mapping

import pytest
import torch

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
