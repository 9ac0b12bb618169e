"""ONNX RNN / GRU / LSTM nodes unrolled with every weight once (export/lowerers_recurrent.py).

Independent references: onnxruntime's own RNN/GRU/LSTM kernels and PyTorch's nn.RNN/GRU/LSTM
(float, the unrolled graph run by onnxruntime), tflite-micro (runs the int8 model) and the
C kernels (`rnnedge run --backend c` gives TFLM's bytes).
"""

import io
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from rnnedge.errors import RnnedgeError
from rnnedge.export import graph_stats
from rnnedge.export.converter import to_int8_tflite
from rnnedge.export.lowerers_recurrent import calibration_model
from rnnedge.export.verify import ReferenceInterpreter, tflm_check
from rnnedge.tflite import read_model

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class Sequence(nn.Module):
    """A torch recurrent layer returning (output, h_n)."""

    def __init__(self, cell, features=5, hidden=4, **kwargs):
        super().__init__()
        self.rnn = CELLS[cell](features, hidden, **kwargs)

    def forward(self, x):
        out, state = self.rnn(x)
        return out, state[0] if isinstance(state, tuple) else state


class KeywordSpotter(nn.Module):
    """A keyword-spotting GRU: (N, T, F) MFCC frames -> class logits from the last state."""

    def __init__(self, features=10, hidden=16, classes=6):
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h[-1])


class BiLSTMClassifier(nn.Module):
    """A 2-layer bidirectional LSTM over (N, T, F) with a linear head on the last step."""

    def __init__(self, features=8, hidden=12, classes=5):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


class ReNet(nn.Module):
    """ReNet (Visin et al.): a bidirectional nn.GRU over the rows, then one over the columns
    of the result, with permute/reshape around each (rows and columns are the GRU's batch)."""

    def __init__(self, channels=3, hidden=6, classes=4):
        super().__init__()
        self.rows = nn.GRU(channels, hidden, bidirectional=True, batch_first=True)
        self.cols = nn.GRU(2 * hidden, hidden, bidirectional=True, batch_first=True)
        self.head = nn.Conv2d(2 * hidden, classes, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        rows = x.permute(0, 2, 3, 1).reshape(n * h, w, c)            # each row a sequence
        y, _ = self.rows(rows)
        y = y.reshape(n, h, w, -1).permute(0, 2, 1, 3).reshape(n * w, h, -1)  # columns
        y, _ = self.cols(y)
        y = y.reshape(n, w, h, -1).permute(0, 3, 2, 1)                # back to (N, C, H, W)
        return nn.functional.adaptive_avg_pool2d(self.head(y), 1).flatten(1)


def _onnx(model, shape, opset):
    """torch.onnx.export (TorchScript exporter) of `model` at input `shape`."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.zeros(shape),), buffer, opset_version=opset,
                          dynamo=False, input_names=["x"])
    return onnx.load_from_string(buffer.getvalue())


def _ort(model, feeds):
    """onnxruntime outputs of `model` (ModelProto) for the feeds."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    if not isinstance(feeds, dict):
        feeds = {session.get_inputs()[0].name: feeds}
    return session.run(None, feeds)


def _samples(shape, count, seed):
    """`count` standard-normal inputs of `shape`."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(count)]


def _torch(model, x):
    """The float torch outputs as a list of arrays."""
    with torch.no_grad():
        out = model.eval()(torch.from_numpy(x))
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


# -- the float lowering, against onnxruntime's kernels and torch ----------------------------

COMBOS = [(cell, kw) for cell in CELLS for kw in (
    {}, {"bidirectional": True}, {"num_layers": 2}, {"num_layers": 2, "bidirectional": True})]
COMBOS += [("rnn", {"nonlinearity": "relu"}), ("rnn", {"nonlinearity": "relu",
                                                        "bidirectional": True})]


@pytest.mark.parametrize("opset", [13, 17])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("cell,kwargs", COMBOS)
def test_unrolled_float_graph_matches_onnxruntime_and_torch(cell, kwargs, batch_first, opset):
    torch.manual_seed(1)
    model = Sequence(cell, batch_first=batch_first, **kwargs).eval()
    shape = (1, 7, 5) if batch_first else (7, 1, 5)
    original = _onnx(model, shape, opset)
    unrolled = calibration_model(original)
    assert not {n.op_type for n in unrolled.graph.node} & {"RNN", "GRU", "LSTM", "Loop", "Scan"}
    for x in _samples(shape, 3, seed=5):
        want_ort, want_torch = _ort(original, x), _torch(model, x)
        got = _ort(unrolled, x)
        for g, a, t in zip(got, want_ort, want_torch):
            assert g.shape == a.shape
            assert np.max(np.abs(g - a)) <= 1e-5
            assert np.max(np.abs(g - t)) <= 1e-5


def _node_model(op_type, hidden, steps, features, batch=1, attrs=None, inputs=(), consts=(),
                seed=0):
    """A one-node ONNX model of op_type with random weights; `inputs`: extra graph inputs
    {position: (name, shape)}, `consts`: {position: array} constant inputs."""
    attrs = dict(attrs or {})
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op_type]
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    rng = np.random.default_rng(seed)
    inits = {"W": rng.uniform(-0.5, 0.5, (dirs, gates * hidden, features)),
             "R": rng.uniform(-0.5, 0.5, (dirs, gates * hidden, hidden)),
             "B": rng.uniform(-0.5, 0.5, (dirs, 2 * gates * hidden))}
    names = ["X", "W", "R", "B"] + [""] * 4
    graph_inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, [steps, batch, features])]
    for pos, (name, shape) in dict(inputs).items():
        names[pos] = name
        graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
    for pos, value in dict(consts).items():
        names[pos] = f"c{pos}"
        inits[f"c{pos}"] = value
    while names and not names[-1]:
        names.pop()
    outs = ["Y", "Y_h", "Y_c"][:3 if op_type == "LSTM" else 2]
    node = helper.make_node(op_type, names, outs, hidden_size=hidden, **attrs)
    shapes = {"Y": [steps, dirs, batch, hidden], "Y_h": [dirs, batch, hidden],
              "Y_c": [dirs, batch, hidden]}
    graph = helper.make_graph(
        [node], "g", graph_inputs,
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, shapes[o]) for o in outs],
        [numpy_helper.from_array(np.asarray(v, np.int32 if k.startswith("c4") else np.float32), k)
         for k, v in inits.items()])
    return onnx.helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


NODE_CASES = [
    ("RNN", {"direction": "reverse"}),
    ("RNN", {"activations": ["Sigmoid"]}),
    ("RNN", {"direction": "bidirectional", "activations": ["Relu", "Tanh"]}),
    ("GRU", {"linear_before_reset": 0}),
    ("GRU", {"linear_before_reset": 0, "direction": "bidirectional"}),
    ("GRU", {"linear_before_reset": 1, "direction": "reverse"}),
    ("GRU", {"activations": ["Sigmoid", "Relu"]}),
    ("LSTM", {"direction": "reverse"}),
    ("LSTM", {"direction": "bidirectional"}),
    ("LSTM", {"activations": ["HardSigmoid", "Tanh", "Tanh"], "activation_alpha": [0.25],
              "activation_beta": [0.4]}),
]


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("op_type,attrs", NODE_CASES)
def test_node_forms_match_onnxruntime(op_type, attrs, batch):
    model = _node_model(op_type, 4, 6, 3, batch=batch, attrs=attrs)
    unrolled = calibration_model(model)
    for x in _samples((6, batch, 3), 2, seed=2):
        for got, want in zip(_ort(unrolled, x), _ort(model, x)):
            assert np.max(np.abs(got - want)) <= 1e-5


@pytest.mark.parametrize("op_type", ["RNN", "GRU", "LSTM"])
def test_initial_states_as_inputs_and_constants(op_type):
    """initial_h (and initial_c) given as graph inputs, or as non-zero constants (folded)."""
    dirs, batch, hidden = 2, 2, 4
    state = [5, 6] if op_type == "LSTM" else [5]
    attrs = {"direction": "bidirectional"}
    fed = _node_model(op_type, hidden, 5, 3, batch, attrs,
                      inputs={p: (f"s{p}", [dirs, batch, hidden]) for p in state})
    rng = np.random.default_rng(3)
    values = {p: rng.uniform(-1, 1, (dirs, batch, hidden)).astype(np.float32) for p in state}
    fixed = _node_model(op_type, hidden, 5, 3, batch, attrs, consts=values)
    x = _samples((5, batch, 3), 1, seed=4)[0]
    feeds = {"X": x, **{f"s{p}": values[p] for p in state}}
    reference = _ort(fed, feeds)
    for got, want in zip(_ort(calibration_model(fed), feeds), reference):
        assert np.max(np.abs(got - want)) <= 1e-5
    for got, want in zip(_ort(calibration_model(fixed), x), reference):
        assert np.max(np.abs(got - want)) <= 1e-5


@pytest.mark.parametrize("op_type,attrs,consts,message", [
    ("LSTM", {}, {7: np.ones((1, 12))}, "peephole"),
    ("LSTM", {"input_forget": 1}, {}, "input_forget"),
    ("GRU", {"clip": 2.0}, {}, "clip"),
    ("RNN", {}, {4: np.array([6])}, "sequence_lens"),
    ("RNN", {"activations": ["Affine"]}, {}, "Affine"),
])
def test_unsupported_forms_name_node_and_reason(op_type, attrs, consts, message):
    model = _node_model(op_type, 3, 4, 2, attrs=attrs, consts=consts)
    with pytest.raises(RnnedgeError, match=message):
        calibration_model(model)


# -- int8: fully int8, weights once, TFLM, cosine against torch ----------------------------

def _cosine(a, b):
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _int8(model, shape, opset=17, calib=48):
    """(tflite bytes, read model, torch model) after export -> int8 with random calibration."""
    converted = to_int8_tflite(_onnx(model, shape, opset), _samples(shape, calib, seed=11))
    return converted.tflite, read_model(converted.tflite)


def _check_int8(tmp_path, model, shape, opset=17, steps_ops=None):
    """The export's promises for a recurrent model; returns the graph statistics."""
    tflite, read = _int8(model, shape, opset)
    stats = graph_stats.graph_stats(read)
    assert stats["problems"] == []                    # fully int8, builtins only
    assert not set(stats["op_counts"]) & {"WHILE", "CUSTOM", "CALL_ONCE", "IF", "QUANTIZE",
                                          "GATHER"}
    assert stats["duplication_factor"] == 1.0
    sg = read.main
    weights = {}
    for op in sg.operators:
        if op.opcode == "FULLY_CONNECTED":
            weights.setdefault(sg.tensors[op.inputs[1]].buffer, set()).add(op.inputs[1])
    assert all(len(tensors) == 1 for tensors in weights.values())   # one tensor per weight
    if steps_ops is not None:
        assert stats["ops_per_step"] == steps_ops
    interp = ReferenceInterpreter(tflite)
    for x in _samples(shape, 6, seed=99):             # held apart from the calibration
        for got, want in zip(interp.run(x), _torch(model, x)):
            assert got.shape == want.shape
            assert _cosine(got, want) >= 0.98
    path = tmp_path / "m.tflite"
    path.write_bytes(tflite)
    tflm = tflm_check(str(path), read, _samples(shape, 1, seed=7)[0])
    assert tflm["tflm_runs"], tflm
    assert tflm["tflm_max_lsb_diff"] <= 2, tflm
    return stats, path


INT8_CASES = [
    ("rnn", {}, False, 13, 3.0),
    ("rnn", {"nonlinearity": "relu", "bidirectional": True, "num_layers": 2}, True, 17, 2.0),
    ("gru", {"num_layers": 2}, False, 17, 11.0),
    ("gru", {"bidirectional": True}, True, 13, 11.0),
    ("lstm", {}, True, 13, 11.0),
    ("lstm", {"bidirectional": True, "num_layers": 2}, False, 17, 11.0),
]


@pytest.mark.slow
@pytest.mark.parametrize("cell,kwargs,batch_first,opset,per_step", INT8_CASES)
def test_int8_recurrent_layers(tmp_path, cell, kwargs, batch_first, opset, per_step):
    torch.manual_seed(2)
    model = Sequence(cell, features=6, hidden=10, batch_first=batch_first, **kwargs).eval()
    shape = (1, 8, 6) if batch_first else (8, 1, 6)
    stats, _ = _check_int8(tmp_path, model, shape, opset, per_step)
    assert "TRANSPOSE" not in stats["op_counts"]     # batch_first at batch 1 moves no byte


@pytest.mark.slow
def test_keyword_spotting_gru(tmp_path):
    torch.manual_seed(3)
    stats, _ = _check_int8(tmp_path, KeywordSpotter(), (1, 12, 10), steps_ops=11.0)
    assert set(stats["op_counts"]) <= {"FULLY_CONNECTED", "ADD", "SUB", "MUL", "LOGISTIC",
                                       "TANH", "SPLIT"}


@pytest.mark.slow
def test_two_layer_bidirectional_lstm_runs_bit_exact_on_c_kernels(tmp_path):
    from rnnedge.firmware_sim.backends import make_backend
    torch.manual_seed(4)
    stats, path = _check_int8(tmp_path, BiLSTMClassifier(), (1, 9, 8), steps_ops=11.0)
    x = np.random.default_rng(5).integers(-128, 128, (1, 9, 8)).astype(np.int8)
    c_out = make_backend("c", str(path))(x)
    tflm_out = make_backend("tflm", str(path))(x)
    for a, b in zip(c_out, tflm_out):
        np.testing.assert_array_equal(np.asarray(a).reshape(-1), np.asarray(b).reshape(-1))


@pytest.mark.slow
def test_renet_gru_over_rows_and_columns(tmp_path):
    torch.manual_seed(5)
    _check_int8(tmp_path, ReNet(), (1, 3, 6, 5))


# -- --lstm fused: TFLM's UNIDIRECTIONAL_SEQUENCE_LSTM -------------------------------------

def _tflm_outputs(path, read, converted, x):
    """Dequantised TFLM outputs for a float input."""
    from rnnedge.preprocessing import quantize_input
    from rnnedge.tflm_probe import run_tflm, tflm_arena_size
    port = converted.inputs[0]
    raw = run_tflm(str(path), [quantize_input(x, port.scale, port.zero_point)],
                   arena_size=tflm_arena_size(read))
    return [(np.asarray(r).astype(np.float32) - p.zero_point) * p.scale
            for r, p in zip(raw, converted.outputs)]


@pytest.mark.slow
@pytest.mark.parametrize("kwargs,batch_first", [({}, False), ({}, True),
                                                ({"bidirectional": True}, True),
                                                ({"bidirectional": True, "num_layers": 2}, False)])
def test_fused_lstm_runs_in_tflm(tmp_path, kwargs, batch_first):
    torch.manual_seed(6)
    model = Sequence("lstm", features=6, hidden=10, batch_first=batch_first, **kwargs).eval()
    shape = (1, 8, 6) if batch_first else (8, 1, 6)
    converted = to_int8_tflite(_onnx(model, shape, 17), _samples(shape, 48, seed=11),
                               lstm="fused")
    read = read_model(converted.tflite)
    stats = graph_stats.graph_stats(read)
    assert stats["problems"] == []
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    assert stats["op_counts"]["UNIDIRECTIONAL_SEQUENCE_LSTM"] == layers
    assert not set(stats["op_counts"]) & {"FULLY_CONNECTED", "LOGISTIC", "TANH", "MUL"}
    sg = read.main
    for op in sg.operators:
        if op.opcode != "UNIDIRECTIONAL_SEQUENCE_LSTM":
            continue
        tensors = [sg.tensors[i] if i >= 0 else None for i in op.inputs]
        assert len(tensors) == 24 and all(t is None for t in tensors[9:12] + tensors[16:18]
                                           + tensors[20:24])
        weights, biases = tensors[1:9], tensors[12:16]
        assert all(t.type_name == "INT8" and len(t.quantization.scales) == 1 for t in weights)
        x_scale = tensors[0].quantization.scales[0]
        for bias, weight in zip(biases, weights[:4]):   # input scale x input weight scale
            assert bias.type_name == "INT32"
            assert np.isclose(bias.quantization.scales[0], x_scale * weight.quantization.scales[0])
        state, cell, out = tensors[18], tensors[19], sg.tensors[op.outputs[0]]
        assert state.is_variable and state.type_name == "INT8"
        assert state.quantization.scales[0] == out.quantization.scales[0]
        assert cell.is_variable and cell.type_name == "INT16"
        power = np.log2(cell.quantization.scales[0])
        assert power == np.round(power)                 # TFLM needs a power of two
    path = tmp_path / "fused.tflite"
    path.write_bytes(converted.tflite)
    for x in _samples(shape, 4, seed=99):
        for got, want in zip(_tflm_outputs(path, read, converted, x), _torch(model, x)):
            assert _cosine(got, want) >= 0.98


class _InitialState(nn.Module):
    """An LSTM given a non-zero constant initial state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 3)

    def forward(self, x):
        h0 = torch.full((1, 1, 3), 0.5)
        return self.lstm(x, (h0, torch.zeros_like(h0)))[0]


class _CellOut(nn.Module):
    """An LSTM whose cell state is used."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 3)

    def forward(self, x):
        return self.lstm(x)[1][1]


@pytest.mark.parametrize("model,message", [(_InitialState(), "initial state"),
                                           (_CellOut(), "Y_c")])
def test_fused_refuses_what_the_op_cannot_express(model, message):
    onnx_model = _onnx(model, (5, 1, 4), 17)
    with pytest.raises(RnnedgeError, match=f"{message}.*without --lstm fused"):
        to_int8_tflite(onnx_model, _samples((5, 1, 4), 4, seed=1), lstm="fused")
    to_int8_tflite(onnx_model, _samples((5, 1, 4), 4, seed=1))   # unrolled takes it


class _RowLSTM(nn.Module):
    """An image model: each row of a 1-channel image is a time step of an LSTM."""

    def __init__(self, width=16, hidden=8, classes=3):
        super().__init__()
        self.lstm = nn.LSTM(width, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.lstm(x[:, 0])
        return self.fc(out[:, -1])


@pytest.mark.slow
def test_export_int8_lstm_option(tmp_path):
    from rnnedge.export.pipeline import export_int8
    torch.manual_seed(7)
    meta = {"input_shape": [1, 16, 16], "normalization": {"mean": [0.5], "std": [0.25]}}
    sizes = {}
    for form in ("unrolled", "fused"):
        report = export_int8(_RowLSTM(), meta, str(tmp_path / f"{form}.tflite"),
                             calib_samples=16, check_samples=8, lstm=form)
        stats = report["stats"]
        assert stats["problems"] == []
        assert ("UNIDIRECTIONAL_SEQUENCE_LSTM" in stats["op_counts"]) == (form == "fused")
        assert report["verification"]["tflm_runs"]
        sizes[form] = stats["ops"]
    assert sizes["fused"] < sizes["unrolled"] / 10
