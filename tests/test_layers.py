"""Image RNN layers: static == reference, == torch.nn.RNN/GRU/LSTM, impulse responses (Fig. 1),
WS-BiRNN symmetry."""

import pytest
import torch
from torch import nn

from rnnedge.layers import CELLS, LAYOUTS, SRNN, BiRNN, RowRNN, SWSBiRNN, WSBiRNN, set_form, set_layout

LAYERS = {
    "row": lambda cell: RowRNN(3, 5, cell=cell),
    "srnn": lambda cell: SRNN(3, 4, 5, cell=cell),
    "ws-birnn": lambda cell: WSBiRNN(3, 5, cell=cell),
    "sws-birnn": lambda cell: SWSBiRNN(3, 4, 5, cell=cell),
    "birnn-sum": lambda cell: BiRNN(3, 5, cell=cell),
    "birnn-concat": lambda cell: BiRNN(3, 5, cell=cell, merge="concat"),
}


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("layer", list(LAYERS))
def test_static_form_matches_reference(layer, cell):
    torch.manual_seed(0)
    module = LAYERS[layer](cell)
    # 11 x 13 exercises Concat trees (more than 10 steps) on both axes.
    x = torch.randn(2, 3, 11, 13)
    with torch.no_grad():
        expected = module.reference(x)
        got = module.static(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("cell, torch_cls", [("tanh", nn.RNN), ("relu", nn.RNN), ("gru", nn.GRU), ("lstm", nn.LSTM)])
def test_row_rnn_equals_torch_rnn(cell, torch_cls):
    torch.manual_seed(1)
    layer = RowRNN(4, 6, cell=cell)
    kwargs = {"nonlinearity": cell} if torch_cls is nn.RNN else {}
    ref = torch_cls(4, 6, batch_first=True, **kwargs)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(layer.rnn.weight_ih)
        ref.weight_hh_l0.copy_(layer.rnn.weight_hh)
        ref.bias_ih_l0.copy_(layer.rnn.bias_ih)
        ref.bias_hh_l0.copy_(layer.rnn.bias_hh)
    x = torch.randn(2, 4, 5, 9)
    rows = x.permute(0, 2, 3, 1).reshape(10, 9, 4)
    with torch.no_grad():
        expected = ref(rows)[0].reshape(2, 5, 9, 6).permute(0, 3, 1, 2)
        for form in ("reference", "static"):
            layer.form = form
            assert torch.allclose(layer(x), expected, atol=1e-5, rtol=0)


def _scalar_relu(layer_weights, a, b):
    """Set a 1-channel relu cell to h_t = relu(a*x_t + b*h_{t-1}) (zero biases)."""
    with torch.no_grad():
        layer_weights.weight_ih.fill_(a)
        layer_weights.weight_hh.fill_(b)
        layer_weights.bias_ih.zero_()
        layer_weights.bias_hh.zero_()


def _impulses(height=9, width=16):
    """Fig. 1's input: a 1-channel image with two positive impulses."""
    x = torch.zeros(1, 1, height, width)
    impulses = [((2, 3), 1.0), ((6, 11), 0.5)]
    for (j, k), v in impulses:
        x[0, 0, j, k] = v
    return x, impulses


def _response(height, width, impulses, row_kernel, column_kernel):
    """Hand-computed response of a linear (relu, positive) layer: superposition over impulses of
    v * row_kernel(dk) * column_kernel(dj)."""
    out = torch.zeros(1, 1, height, width)
    for (j, k), v in impulses:
        for r in range(height):
            for c in range(width):
                out[0, 0, r, c] += v * row_kernel(c - k) * column_kernel(r - j)
    return out


@pytest.mark.parametrize("form", ["reference", "static"])
def test_impulse_responses(form):
    a1, b1, a2, b2 = 0.9, 0.6, 0.8, 0.5
    x, impulses = _impulses()
    height, width = x.shape[2:]

    def causal(a, b):
        return lambda d: a * b**d if d >= 0 else 0.0

    def symmetric(a, b):  # RNN(X) + Flip(RNN(Flip(X))): both sides, the centre counted twice
        return lambda d: a * b ** abs(d) * (2 if d == 0 else 1)

    def only_row(d):
        return 1.0 if d == 0 else 0.0

    row = RowRNN(1, 1, cell="relu", form=form)
    _scalar_relu(row.rnn, a1, b1)
    srnn = SRNN(1, 1, 1, cell="relu", form=form)
    _scalar_relu(srnn.rnn1, a1, b1)
    _scalar_relu(srnn.rnn2, a2, b2)
    ws = WSBiRNN(1, 1, cell="relu", form=form)
    _scalar_relu(ws.rnn, a1, b1)
    sws = SWSBiRNN(1, 1, 1, cell="relu", form=form)
    _scalar_relu(sws.rnn1, a1, b1)
    _scalar_relu(sws.rnn2, a2, b2)
    cases = [
        (row, causal(a1, b1), only_row),  # eq. 4: to the right of the impulse, same row
        (srnn, causal(a1, b1), causal(a2, b2)),  # eq. 8: the quadrant right of and below the impulse
        (ws, symmetric(a1, b1), only_row),  # eq. 9: both sides of the impulse, same row
        (sws, symmetric(a1, b1), symmetric(a2, b2)),  # eq. 11: the whole plane, peak at the impulse
    ]
    with torch.no_grad():
        for layer, row_kernel, column_kernel in cases:
            expected = _response(height, width, impulses, row_kernel, column_kernel)
            assert torch.allclose(layer(x), expected, atol=1e-6), type(layer).__name__


@pytest.mark.parametrize("cell", list(CELLS))
def test_ws_birnn_flip_symmetry(cell):
    """Flipping the input along the rows flips a WS-BiRNN's output (eq. 9); an SWS-BiRNN is
    symmetric under flips of both axes."""
    torch.manual_seed(2)
    x = torch.randn(1, 3, 6, 7)
    ws, sws = WSBiRNN(3, 4, cell=cell), SWSBiRNN(3, 4, 5, cell=cell)
    with torch.no_grad():
        for form in ("reference", "static"):
            set_form(ws, form)
            set_form(sws, form)
            assert torch.allclose(ws(x.flip(3)), ws(x).flip(3), atol=1e-5)
            for dims in ([2], [3], [2, 3]):
                assert torch.allclose(sws(x.flip(dims)), sws(x).flip(dims), atol=1e-5)


def test_birnn_with_tied_weights_is_ws_birnn():
    torch.manual_seed(3)
    bi, ws = BiRNN(3, 4), WSBiRNN(3, 4)
    bi.forward_rnn.load_state_dict(ws.rnn.state_dict())
    bi.backward_rnn.load_state_dict(ws.rnn.state_dict())
    x = torch.randn(2, 3, 5, 6)
    with torch.no_grad():
        assert torch.allclose(bi(x), ws(x), atol=1e-6)


def test_parameter_counts_follow_eq_12():
    assert sum(p.numel() for p in SWSBiRNN(51, 102, 102).parameters()) == 36822
    assert sum(p.numel() for p in BiRNN(3, 4).parameters()) == 2 * sum(p.numel() for p in WSBiRNN(3, 4).parameters())
    assert sum(p.numel() for p in SWSBiRNN(5, 6, 7, cell="gru").parameters()) == 3 * (5 * 6 + 36 + 12 + 6 * 7 + 49 + 14)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="unknown cell"):
        RowRNN(3, 4, cell="elman")
    with pytest.raises(ValueError, match="unknown form"):
        RowRNN(3, 4, form="fast")
    with pytest.raises(ValueError, match="unknown merge"):
        BiRNN(3, 4, merge="max")


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_static_layout_matches_the_reference(cell, layout):
    """Every layout of the weight-shared bidirectional pass computes eq. 9 / eq. 11 (1e-5),
    on odd and even step counts and a single row."""
    torch.manual_seed(4)
    for shape in [(2, 3, 5, 7), (1, 3, 4, 4), (1, 3, 1, 3)]:
        x = torch.randn(*shape)
        for layer in (WSBiRNN(3, 4, cell=cell), SWSBiRNN(3, 4, 5, cell=cell)):
            with torch.no_grad():
                expected = set_form(layer, "reference")(x)
                got = set_form(set_layout(layer, layout), "static")(x)
            assert torch.allclose(got, expected, atol=1e-5), (type(layer).__name__, shape)


def test_layouts_are_checked_and_inplace_is_the_default():
    assert SWSBiRNN(3, 4, 5).layout == WSBiRNN(3, 4).layout == LAYOUTS[0] == "inplace"
    with pytest.raises(ValueError, match="unknown layout 'npu'; choose one of inplace, stacked, pairs"):
        SWSBiRNN(3, 4, 5, layout="npu")
    with pytest.raises(ValueError, match="unknown layout"):
        set_layout(WSBiRNN(3, 4), "diagonal")
