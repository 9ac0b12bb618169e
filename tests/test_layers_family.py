"""The family's layers (ReNet/ReSeg with every cell, DARTS cells, RNN2D, DS-RNN, Scale-RNN,
RA-LSTM): static == reference to 1e-5, against independent computations (torch.nn.GRU/LSTM,
closed-form impulse responses, hand-evaluated equations), and parameter counts from the
formulas == the module == hand derivations."""

import math

import pytest
import torch
from torch import nn

from rnnedge import accounting
from rnnedge.layers import (CELLS, DARTS_CELLS, DSRNN, RNN2D, DartsCell, FeatureMapping,
                            RecurrentAggregation, ReNet, ReSegBlock, ScaleRecurrence, ScaleRNN, set_form)
from rnnedge.layers import darts

RENET_CELLS = [*CELLS, *DARTS_CELLS]
CUSTOM = DartsCell("custom", ((0, "tanh"), (0, "identity"), (1, "relu")))


def _agree(module, x):
    with torch.no_grad():
        expected, got = module.reference(x), module.static(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5, rtol=0), (got - expected).abs().max()


@pytest.mark.parametrize("cell", RENET_CELLS + [CUSTOM])
@pytest.mark.parametrize("variant", ["plain", "dws", "sw", "dws-sw", "reseg"])
def test_renet_static_matches_reference(cell, variant):
    torch.manual_seed(0)
    if variant == "reseg":
        module = ReSegBlock(3, 4, cell=cell)
    else:
        module = ReNet(3, 4, cell, (2, 2), weight_sharing="dws" in variant, sigmoid_weighting="sw" in variant)
    _agree(module, torch.randn(2, 3, 8, 6))


def test_renet_long_sweeps_match():
    """24 x 22 with 2x2 patches: 12 x 11 steps, more than 10 (Concat trees) on both axes."""
    torch.manual_seed(0)
    for module in (ReNet(3, 4, "gru"), ReNet(3, 4, "lstm", weight_sharing=True)):
        _agree(module, torch.randn(1, 3, 24, 22))


def test_renet_takes_rectangular_patches():
    torch.manual_seed(0)
    module = ReNet(2, 3, "gru", patch=(1, 3))
    _agree(module, torch.randn(1, 2, 4, 9))
    assert module.static(torch.randn(1, 2, 4, 9)).shape == (1, 6, 4, 3)


@pytest.mark.parametrize("cell, torch_cls", [("tanh", nn.RNN), ("relu", nn.RNN), ("gru", nn.GRU), ("lstm", nn.LSTM)])
@pytest.mark.parametrize("shared", [False, True])
def test_renet_equals_torch_bidirectional_rnns(cell, torch_cls, shared):
    """eq. 1-2 with PyTorch's own bidirectional RNNs over the flattened patches (Unfold); with
    Directional Weight Sharing both directions of a sweep get the one weight set."""
    torch.manual_seed(1)
    layer = ReNet(3, 4, cell, (2, 2), weight_sharing=shared)
    assert all(len(sweep) == (1 if shared else 2) for sweep in layer.sweeps)
    kwargs = {"nonlinearity": cell} if torch_cls is nn.RNN else {}
    rnns = []
    for sweep in layer.sweeps:
        rnn = torch_cls(sweep[0].c_in, 4, batch_first=True, bidirectional=True, **kwargs)
        with torch.no_grad():
            for suffix, w in (("", sweep[0]), ("_reverse", sweep[-1])):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(rnn, f"{name}_l0{suffix}").copy_(getattr(w, name))
        rnns.append(rnn)
    x = torch.randn(2, 3, 6, 8)
    n, rows, cols = 2, 3, 4
    patches = nn.functional.unfold(x, 2, stride=2).transpose(1, 2).reshape(n, rows, cols, -1)
    with torch.no_grad():
        horizontal = rnns[0](patches.reshape(n * rows, cols, -1))[0].reshape(n, rows, cols, 8)
        vertical = rnns[1](horizontal.transpose(1, 2).reshape(n * cols, rows, 8))[0]
        expected = vertical.reshape(n, cols, rows, 8).permute(0, 3, 2, 1)
        for form in ("reference", "static"):
            layer.form = form
            assert torch.allclose(layer(x), expected, atol=1e-5, rtol=0), form


def test_darts_cell_step_by_hand():
    """eq. 4-6 for one channel: vertex 0 (tanh), vertex 1 identity from 0, vertex 2 relu from 1."""
    cell = DartsCell("hand", ((0, "identity"), (1, "relu")))
    w = darts.DartsWeights(1, 1, cell)
    with torch.no_grad():
        w.weight_x.copy_(torch.tensor([[0.5], [1.0]]))     # gate, candidate rows
        w.weight_h.copy_(torch.tensor([[0.25], [-1.0]]))
        w.vertex_weights[0].copy_(torch.tensor([[1.0], [2.0]]))
        w.vertex_weights[1].copy_(torch.tensor([[-0.5], [3.0]]))
    x, h = 0.8, 0.3
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    c0, k0 = sig(0.5 * x + 0.25 * h), math.tanh(1.0 * x - 1.0 * h)
    h0 = (1 - c0) * h + c0 * k0
    h1 = (1 - sig(h0)) * h0 + sig(h0) * (2 * h0)
    h2 = (1 - sig(-0.5 * h1)) * h1 + sig(-0.5 * h1) * max(0.0, 3 * h1)
    got = darts.reference_step(torch.tensor([[x]]), torch.tensor([[h]]), w)
    assert got.item() == pytest.approx((h1 + h2) / 2, abs=1e-6)


def test_darts_cells_are_data_and_checked():
    for cell in DARTS_CELLS.values():
        assert len(cell.vertices) == 8
    assert [a for _, a in DARTS_CELLS["darts-dws"].vertices] == ["relu", "sigmoid"] + ["relu"] * 5 + ["sigmoid"]
    assert [p for p, _ in DARTS_CELLS["darts-sw"].vertices][4:] == [4, 4, 4, 4]
    with pytest.raises(ValueError, match="earlier vertex"):
        DartsCell("bad", ((1, "relu"),))
    with pytest.raises(ValueError, match="activation"):
        DartsCell("bad", ((0, "softplus"),))
    with pytest.raises(ValueError, match="unknown cell"):
        ReNet(2, 2, "nope")


@pytest.mark.parametrize("cls", [RNN2D, DSRNN])
@pytest.mark.parametrize("cell", ["tanh", "relu", "gru", "lstm"])
@pytest.mark.parametrize("directions, shared", [(1, True), (2, True), (2, False), (4, True), (4, False)])
def test_rnn2d_wavefront_matches_reference(cls, cell, directions, shared):
    torch.manual_seed(0)
    module = cls(3, 3 if cls is DSRNN else 4, cell, directions, shared)
    for shape in ((6, 7), (1, 5), (5, 1)):
        _agree(module, torch.randn(2, 3, *shape))


@pytest.mark.parametrize("cell, torch_cls", [("gru", nn.GRU), ("lstm", nn.LSTM)])
@pytest.mark.parametrize("axis", ["row", "column"])
def test_gated_rnn2d_on_one_row_is_torch_rnn(cell, torch_cls, axis):
    """On a 1-row map the 2-D GRU / LSTM is torch.nn.GRU / LSTM with W_hh = W_left (on a
    1-column map with W_hh = W_up): the kept state h~ = h_left + h_up - h_diag reduces to the
    one predecessor there. Both forms."""
    torch.manual_seed(1)
    layer = RNN2D(3, 4, cell)
    w = layer.passes[0]
    rnn = torch_cls(3, 4, batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(w.weight_ih)
        rnn.weight_hh_l0.copy_(w.weight_left if axis == "row" else w.weight_up)
        rnn.bias_ih_l0.copy_(w.bias)
        rnn.bias_hh_l0.copy_(w.bias_hh)
        x = torch.randn(2, 3, 1, 7) if axis == "row" else torch.randn(2, 3, 7, 1)
        expected = rnn(x.flatten(2).transpose(1, 2))[0]
        for form in ("reference", "static"):
            layer.form = form
            got = layer(x).flatten(2).transpose(1, 2)
            assert torch.allclose(got, expected, atol=1e-5), (form, (got - expected).abs().max())


def test_gated_rnn2d_cell_by_hand():
    """One 2x2 GRU map evaluated by hand (scalar channels, numbers chosen here): cell (1, 1)
    keeps h~ = h(1,0) + h(0,1) - h(0,0); both forms."""
    layer = RNN2D(1, 1, "gru")
    w = layer.passes[0]
    values = {"weight_ih": [0.5, -0.3, 0.8], "weight_left": [0.2, 0.4, -0.6], "weight_up": [-0.1, 0.3, 0.7],
              "weight_diag": [0.25, -0.2, 0.1], "bias": [0.1, 0.0, -0.2], "bias_hh": [0.05, 0.1, 0.3]}
    with torch.no_grad():
        for name, v in values.items():
            getattr(w, name).copy_(torch.tensor(v).view_as(getattr(w, name)))
    x = torch.tensor([[1.0, -2.0], [0.5, 1.5]])
    sig = lambda v: 1 / (1 + math.exp(-v))
    h = {}
    for j in range(2):
        for k in range(2):
            left, up, diag = h.get((j, k - 1), 0.0), h.get((j - 1, k), 0.0), h.get((j - 1, k - 1), 0.0)
            gates = [values["weight_ih"][g] * x[j, k].item() + values["bias"][g] for g in range(3)]
            hidden = [values["weight_left"][g] * left + values["weight_up"][g] * up + values["weight_diag"][g] * diag
                      + values["bias_hh"][g] for g in range(3)]
            r, z = sig(gates[0] + hidden[0]), sig(gates[1] + hidden[1])
            n = math.tanh(gates[2] + r * hidden[2])
            h[j, k] = (1 - z) * n + z * (left + up - diag)
    expected = torch.tensor([[h[0, 0], h[0, 1]], [h[1, 0], h[1, 1]]])
    for form in ("reference", "static"):
        layer.form = form
        with torch.no_grad():
            assert torch.allclose(layer(x.view(1, 1, 2, 2))[0, 0], expected, atol=1e-6), form


def test_rnn2d_long_wavefront_matches():
    """11 x 12: 22 anti-diagonal steps (Concat trees of more than 10 inputs)."""
    torch.manual_seed(0)
    _agree(RNN2D(2, 3, "tanh", 2), torch.randn(1, 2, 11, 12))


def test_rnn2d_impulse_response_counts_lattice_paths():
    """relu cell, positive weights, no diagonal term: an impulse at (0, 0) reaches (j, k) along
    C(j+k, j) monotone paths, each weighted a * left^k * up^j."""
    layer = RNN2D(1, 1, "relu")
    a, left, up = 1.5, 0.5, 0.75
    with torch.no_grad():
        for p, v in (("weight_ih", a), ("weight_left", left), ("weight_up", up), ("weight_diag", 0.0), ("bias", 0.0)):
            getattr(layer.passes[0], p).fill_(v)
    x = torch.zeros(1, 1, 4, 5)
    x[0, 0, 0, 0] = 1.0
    expected = torch.tensor([[a * math.comb(j + k, j) * left ** k * up ** j for k in range(5)] for j in range(4)])
    for form in ("reference", "static"):
        layer.form = form
        with torch.no_grad():
            assert torch.allclose(layer(x)[0, 0], expected, atol=1e-6), form


def test_ds_rnn_is_channelwise_then_pointwise():
    """Each channel's recurrence ignores the other channels; the 1x1 conv mixes them."""
    torch.manual_seed(3)
    layer = DSRNN(3, 2)
    x = torch.randn(1, 3, 4, 4)
    with torch.no_grad():
        states = RNN2D.reference(layer, x)
        x2 = x.clone()
        x2[:, 1] += 1.0
        states2 = RNN2D.reference(layer, x2)
        assert torch.equal(states[:, [0, 2]], states2[:, [0, 2]])
        assert not torch.equal(states[:, 1], states2[:, 1])
        assert torch.allclose(layer.reference(x), layer.pointwise(states))


@pytest.mark.parametrize("variant", ["vanilla", "half-gru"])
def test_scale_rnn_forms_and_anytime_outputs(variant):
    torch.manual_seed(0)
    base = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    model = ScaleRNN(base, 4, 5, scales=3, variant=variant, outputs="all").eval()
    with torch.no_grad():
        nn.init.normal_(model.recurrence.u)
        if variant == "half-gru":
            nn.init.normal_(model.recurrence.w_z)
            nn.init.normal_(model.recurrence.u_z)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        reference = set_form(model, "reference")(x)
        static = set_form(model, "static")(x)
        assert len(static) == 3
        for r, s in zip(reference, static):
            assert torch.allclose(r, s, atol=1e-5)
        # eq. 1/2 by hand, with area resizing (F.interpolate) for the pyramid
        h = None
        for level, logits in zip([4, 8, 16], reference):
            f = base(nn.functional.interpolate(x, size=(level, level), mode="area")).flatten(1)
            w = model.recurrence
            cand = torch.relu(f if h is None else f + h @ w.u.T)
            if variant == "vanilla":
                h = cand
            else:
                z = torch.sigmoid(f @ w.w_z.T + (0 if h is None else h @ w.u_z.T))
                h = z * cand if h is None else (1 - z) * h + z * cand
            assert torch.allclose(logits, model.classifier(h), atol=1e-5)
        model.outputs = "last"
        assert torch.allclose(model(x), reference[-1], atol=1e-5)


def test_scale_rnn_starts_as_the_paper_initialises():
    step = ScaleRecurrence(3, "half-gru")
    assert torch.equal(step.u, torch.eye(3)) and not step.w_z.any() and not step.u_z.any()


@pytest.mark.parametrize("head", ["ra", "ra-b", "ra-c"])
def test_recurrent_aggregation_equals_torch_lstm(head):
    """Mapping nodes by hand (conv, pools, position-major expansion), nn.LSTM over depth."""
    torch.manual_seed(4)
    agg = RecurrentAggregation([(2, 16), (3, 8), (8, 4)], hidden=5, fc=6, num_classes=3, head=head).eval()
    levels = [m.level for m in agg.mappings]
    assert levels == ["shallow", "middle", "last"]
    feats = [torch.randn(2, 2, 16, 16), torch.randn(2, 3, 8, 8), torch.randn(2, 8, 4, 4)]
    lstm = nn.LSTM(8, 5, batch_first=True)
    w = agg.lstm.rnn
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(lstm, f"{name}_l0").copy_(getattr(w, name))
        u = nn.functional.avg_pool2d(agg.mappings[0].conv(feats[0]), 4)        # (2, 2, 2, 2)
        v1 = u.permute(0, 2, 3, 1).reshape(2, 8)                                # position-major
        v2 = agg.mappings[1].conv(feats[1]).mean(dim=(2, 3))
        v3 = feats[2].mean(dim=(2, 3))
        outs = lstm(torch.stack([v1, v2, v3], dim=1))[0]
        u = {"ra": outs[:, -1], "ra-b": torch.cat([outs[:, -1], v3], 1), "ra-c": outs.reshape(2, -1)}[head]
        expected = agg.classifier(torch.relu(agg.fc(u)))
        for form in ("reference", "static"):
            set_form(agg, form)
            assert torch.allclose(agg(feats), expected, atol=1e-5), form


def test_feature_mapping_rejects_unaligned_shapes():
    with pytest.raises(ValueError, match="multiple"):
        FeatureMapping(4, 10, 8, 4)
    with pytest.raises(ValueError, match="split"):
        FeatureMapping(4, 16, 6, 4)


# ---------------------------------------------------------------- parameter and MAC formulas

def _gru(c_in, c):
    return 3 * (c_in * c + c * c + 2 * c)


HAND_PARAMS = {
    # ReNet(3 -> 2x4, GRU, 2x2): rows 2 directions of GRU(12 -> 4), columns 2 of GRU(8 -> 4)
    "renet-gru": (lambda: ReNet(3, 4, "gru"), 2 * _gru(12, 4) + 2 * _gru(8, 4)),
    "renet-dws-gru": (lambda: ReNet(3, 4, "gru", weight_sharing=True), _gru(12, 4) + _gru(8, 4)),
    # + the per-patch weight: 12 weights and a bias
    "renet-sw-gru": (lambda: ReNet(3, 4, "gru", sigmoid_weighting=True), 2 * _gru(12, 4) + 2 * _gru(8, 4) + 13),
    # DARTS: (Cin + C) * 2C + 8 * C * 2C per direction and sweep
    "renet-darts": (lambda: ReNet(3, 4, "darts-vanilla"), 2 * (16 * 8 + 8 * 32) + 2 * (12 * 8 + 8 * 32)),
    # eq. 20: Cin*C + 3*C^2 + C per weight set
    "rnn2d": (lambda: RNN2D(3, 4), 12 + 48 + 4),
    "rnn2d-4-separate": (lambda: RNN2D(3, 4, directions=4, weight_sharing=False), 4 * (12 + 48 + 4)),
    # gated 2-D cells: G gate rows of W_ih, W_left, W_up, W_diag and two biases
    "rnn2d-gru": (lambda: RNN2D(3, 4, "gru"), 3 * (12 + 3 * 16 + 2 * 4)),
    "rnn2d-lstm-2-separate": (lambda: RNN2D(3, 4, "lstm", 2, False), 2 * 4 * (12 + 3 * 16 + 2 * 4)),
    # eq. 21-22: 5*Cin + Cin*Cout
    "ds-rnn": (lambda: DSRNN(6, 4), 30 + 24),
    # depthwise gated: 6 vectors of G*Cin
    "ds-rnn-gru": (lambda: DSRNN(6, 4, "gru"), 6 * 18 + 24),
    "ds-rnn-lstm": (lambda: DSRNN(6, 4, "lstm"), 6 * 24 + 24),
    "ds-rnn-2-separate": (lambda: DSRNN(6, 4, directions=2, weight_sharing=False), 60 + 24),
    "scale-vanilla": (lambda: ScaleRecurrence(5), 25),
    "scale-half-gru": (lambda: ScaleRecurrence(5, "half-gru"), 75),
}


@pytest.mark.parametrize("name", list(HAND_PARAMS))
def test_params_formula_module_and_hand_agree(name):
    build, hand = HAND_PARAMS[name]
    module = build()
    assert accounting.module_params(module) == hand
    assert accounting.formula_params(module) == hand


def test_paper_macs_are_params_times_positions_per_direction():
    """seed 000's convention: each weight set's parameters times the positions it covers, once
    per direction it runs (DWS runs its one set twice)."""
    def macs(module, shape):
        return sum(v for m, v in accounting.count_macs(module, shape).items() if m is module)
    assert macs(ReNet(3, 4, "gru"), (3, 8, 6)) == (2 * _gru(12, 4) + 2 * _gru(8, 4)) * 4 * 3
    assert macs(ReNet(3, 4, "gru", weight_sharing=True), (3, 8, 6)) == 2 * (_gru(12, 4) + _gru(8, 4)) * 12
    assert macs(RNN2D(3, 4, directions=4), (3, 5, 7)) == 4 * 64 * 35
    assert macs(DSRNN(6, 4, directions=2), (6, 5, 7)) == 2 * 30 * 35  # + the 1x1 conv's own MACs
    assert macs(RNN2D(3, 4, "gru", directions=2), (3, 5, 7)) == 2 * 3 * 68 * 35
    assert macs(DSRNN(6, 4, "lstm"), (6, 5, 7)) == 4 * 36 * 35
