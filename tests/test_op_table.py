"""The one op table (rnnedge.op_table) and its one MAC convention: `rnnedge export` and
`rnnedge arena` print the same MACs for the same file, on every zoo model and the TinyML test
models; for the zoo's CNNs both equal the paper's formulas applied to the PyTorch module
(rnnedge.accounting, which never sees the .tflite); the firmware's kernel table is the op
table's."""

import json

import pytest
import torch
from click.testing import CliRunner

from rnnedge import op_table, zoo
from rnnedge.accounting import count_macs
from rnnedge.cli import main
from rnnedge.export.graph_stats import graph_stats
from rnnedge.firmware_sim.operators import OPERATORS
from rnnedge.kernels import ops as kernel_ops
from rnnedge.tflite import read_model

# The paper's (seed 000) zoo: its MACs have the paper's formulas to be checked against too. The
# family's models (issue 14) are exported by tests/test_export_family.py.
PAPER_ZOO = ("cifar-resnet18", "cifar-resnet18-rnn", "cifar-resnet18-thin", "cifar-resnet18-short",
             "det-cnn-256", "det-crnn-256", "det-cnn-480x640", "det-crnn-480x640")
# Small inputs keep the 480x640 detectors quick; MACs are counted at whatever shape is given.
SHAPES = {"det-cnn-256": (3, 64, 64), "det-crnn-256": (3, 64, 64),
          "det-cnn-480x640": (3, 64, 96), "det-crnn-480x640": (3, 64, 96)}


def _arena_macs(path) -> int:
    result = CliRunner().invoke(main, ["arena", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["macs_complete"], report["flags"]
    return report["macs"]


@pytest.mark.slow
@pytest.mark.parametrize("name", PAPER_ZOO)
def test_export_and_arena_count_the_same_macs(name, tmp_path):
    from rnnedge.export.pipeline import export_int8
    torch.manual_seed(0)
    model = zoo.build(name).eval()
    shape = SHAPES.get(name, tuple(zoo.get(name).input_shape))
    path = tmp_path / f"{name}.tflite"
    report = export_int8(model, {"input_shape": list(shape)}, str(path), calib_samples=2,
                         check_samples=1, run_tflm=False)
    exported = report["stats"]["graph_macs"]
    assert exported == _arena_macs(path)
    paper = sum(count_macs(model, shape).values())
    if "rnn" in name:
        # the graph computes the shared W_ih*x once for both directions (docs/export.md)
        assert 0 < exported < paper
    else:
        assert exported == paper


def test_tinyml_models_count_the_same_macs(model_paths):
    for name in ("ds_cnn", "resnet8", "mobilenet_v1_025"):
        stats = graph_stats(read_model(model_paths[name]))
        assert stats["graph_macs"] == _arena_macs(model_paths[name]), name


def test_firmware_kernels_are_the_op_tables():
    assert set(OPERATORS) == set(op_table.names(kernel=True))
    for name in op_table.names(kernel=True):
        assert isinstance(getattr(kernel_ops, op_table.info(name).kernel), type), name


def test_free_and_unknown_ops():
    """Activations, comparisons and data movement are free; TFLite's recurrent ops and
    unknown ones have no formula (None, so reports flag them)."""
    class Op:
        def __init__(self, opcode):
            self.opcode, self.inputs, self.outputs, self.options = opcode, (0,), (0,), {}

    class T:
        shape, num_elements = (1, 4, 4, 8), 128

    for free in ("TANH", "LOGISTIC", "RELU", "SOFTMAX", "MAX_POOL_2D", "MAXIMUM", "RESHAPE",
                 "CONCATENATION", "QUANTIZE"):
        assert op_table.op_macs(Op(free), [T()]) == 0, free
    for counted in ("ADD", "SUB", "MUL"):
        assert op_table.op_macs(Op(counted), [T()]) == 128, counted
    for unknown in ("UNIDIRECTIONAL_SEQUENCE_LSTM", "CUSTOM", "NOT_AN_OP"):
        assert op_table.op_macs(Op(unknown), [T()]) is None, unknown
