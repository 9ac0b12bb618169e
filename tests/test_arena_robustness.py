"""The report never crashes on odd graphs that still parse: rewired operands, cycles, ops
without inputs or outputs (only RnnedgeError may escape)."""

import dataclasses

import numpy as np
import pytest

from rnnedge.arena_report import arena_report
from rnnedge.errors import RnnedgeError
from rnnedge.tflite import read_model


def _rewire(model, rng):
    sg = model.main
    ops = list(sg.operators)
    for _ in range(2):
        i = int(rng.integers(len(ops)))
        field = ("inputs", "outputs")[int(rng.integers(2))]
        values = list(getattr(ops[i], field))
        if rng.random() < 0.2:
            values = []
        elif values:
            low = -1 if field == "inputs" else 0
            values[int(rng.integers(len(values)))] = int(rng.integers(low, len(sg.tensors)))
        ops[i] = dataclasses.replace(ops[i], **{field: tuple(values)})
    return dataclasses.replace(model, subgraphs=(dataclasses.replace(sg, operators=tuple(ops)),))


@pytest.mark.parametrize("name", ["resnet8", "unet", "ds_cnn"])
def test_rewired_graphs_never_crash(model_paths, name):
    model = read_model(model_paths[name])
    rng = np.random.default_rng(11)
    for _ in range(60):
        try:
            report = arena_report(_rewire(model, rng))
        except RnnedgeError:
            continue
        arena = report["arena"]
        assert arena["best"] <= arena["tflm"] and arena["inplace"] <= arena["best"]


def test_empty_graph_is_an_error(model_paths):
    model = read_model(model_paths["autoencoder"])
    empty = dataclasses.replace(model.main, operators=())
    with pytest.raises(RnnedgeError, match="no operators"):
        arena_report(dataclasses.replace(model, subgraphs=(empty,)))


def test_unknown_op_is_reported_with_unknown_macs(model_paths):
    model = read_model(model_paths["resnet8"])
    ops = list(model.main.operators)
    ops[1] = dataclasses.replace(ops[1], opcode="MY_CUSTOM_OP", builtin_code=32,
                                 custom_code="MY_CUSTOM_OP")
    odd = dataclasses.replace(model, subgraphs=(dataclasses.replace(model.main,
                                                                     operators=tuple(ops)),))
    report = arena_report(odd)
    assert report["ops"][1]["macs"] is None and not report["macs_complete"]
    assert "op 1 MY_CUSTOM_OP: MACs unknown" in report["flags"]
    assert report["macs"] == sum(o["macs"] for o in report["ops"] if o["macs"] is not None)
