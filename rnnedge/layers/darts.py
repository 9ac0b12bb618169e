"""DARTS recurrent cells (seed 002 eq. 3-6), encoded as data, in a reference and a static form.

A cell is a `DartsCell`: a tuple of vertices 1..n, each `(predecessor, activation)` with the
predecessor an earlier vertex (0 is the input vertex) and the activation one of `ACTIVATIONS`
(sigmoid, tanh, relu, identity). Every vertex i has one weight matrix W_i and computes an
update gate and a candidate from its input x~_i (eq. 4):
  c_i = sigmoid(W_i^c x~_i),   h~_i = f_i(W_i^h x~_i)
  h_i = (1 - c_i) * s_i + c_i * h~_i                                        (eq. 5)
with x~_0 = [x_t; h_{t-1}], s_0 = h_{t-1}, f_0 = tanh, and for i > 0 x~_i = s_i = h_j, the
output of its predecessor j at the same step; the cell's output h_t is the mean of vertices
1..n (eq. 6). Reading: seed 002 writes the t-1 subscripts of eq. 3/5 loosely; it says its cells
follow the standard DARTS definition (Liu et al., arXiv:1806.09055, and its code), where a
vertex reads and blends with its predecessor's output of the same step, and that is what is
built here. DARTS cells have no biases.

`DARTS_CELLS` holds the three cells seed 002 derives, as its text describes Figs. 3-5 (eight
vertices each); users pass their own `DartsCell`. Parameters: (Cin + C)*2C + n*C*2C.

Static form: x's share of W_0 is applied to the whole map at once (one 1x1 or patch conv),
each step is convs on the state map plus element-wise ops (Sigmoid, Tanh, Relu, Sub, Mul,
Add): no op outside the exporter's table. Imports: torch.
"""

from dataclasses import dataclass

import torch
from torch.nn import functional
from torch import nn

ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
               "identity": lambda x: x}


@dataclass(frozen=True)
class DartsCell:
    """A DARTS cell: `vertices[i-1] = (predecessor of vertex i, activation of vertex i)`."""

    name: str
    vertices: tuple

    def __post_init__(self):
        if not self.vertices:
            raise ValueError(f"DARTS cell {self.name!r} has no vertices")
        for i, (pred, act) in enumerate(self.vertices, start=1):
            if not (isinstance(pred, int) and 0 <= pred < i):
                raise ValueError(f"DARTS cell {self.name!r}: vertex {i} must read an earlier "
                                 f"vertex (0..{i - 1}), not {pred!r}")
            if act not in ACTIVATIONS:
                raise ValueError(f"DARTS cell {self.name!r}: vertex {i} activation {act!r}; "
                                 f"choose one of {', '.join(ACTIVATIONS)}")


def _chain(*acts):
    return tuple((i, a) for i, a in enumerate(acts))


DARTS_CELLS = {
    # Fig. 3: two sigmoids, then relu/sigmoid alternating to vertex 5, an identity (6) whose
    # output feeds another identity (7) and a relu (8) in parallel.
    "darts-vanilla": DartsCell("darts-vanilla", _chain("sigmoid", "sigmoid", "relu", "sigmoid", "relu",
                                                       "identity", "identity") + ((6, "relu"),)),
    # Fig. 4: relu, sigmoid, identity, another identity (4) feeding all successors: three
    # identities and one sigmoid.
    "darts-sw": DartsCell("darts-sw", _chain("relu", "sigmoid", "identity", "identity")
                          + ((4, "identity"), (4, "identity"), (4, "identity"), (4, "sigmoid"))),
    # Fig. 5: relu, sigmoid, five relus, a sigmoid; one sequence.
    "darts-dws": DartsCell("darts-dws", _chain("relu", "sigmoid", "relu", "relu", "relu", "relu", "relu",
                                               "sigmoid")),
}


def darts_cell_params(c_in, hidden, vertices):
    """(Cin + C) * 2C for the input vertex plus C * 2C per further vertex (no biases)."""
    return (c_in + hidden) * 2 * hidden + vertices * hidden * 2 * hidden


class DartsWeights(nn.Module):
    """The weights of one DARTS cell: W_0 split as weight_x (2C x Cin) and weight_h (2C x C),
    and one (2C x C) matrix per further vertex (rows: update gate, then candidate)."""

    def __init__(self, c_in, hidden, cell):
        super().__init__()
        self.cell = cell
        self.c_in, self.hidden = c_in, hidden
        bound = 1.0 / hidden ** 0.5
        self.weight_x = nn.Parameter(torch.empty(2 * hidden, c_in).uniform_(-bound, bound))
        self.weight_h = nn.Parameter(torch.empty(2 * hidden, hidden).uniform_(-bound, bound))
        for i in range(1, len(cell.vertices) + 1):  # plain attributes: no container module to count
            weight = torch.empty(2 * hidden, hidden).uniform_(-bound, bound)
            self.register_parameter(f"weight_v{i}", nn.Parameter(weight))

    @property
    def vertex_weights(self):
        """[W_1, ..., W_n]."""
        return [getattr(self, f"weight_v{i}") for i in range(1, len(self.cell.vertices) + 1)]

    def formula_params(self):
        return darts_cell_params(self.c_in, self.hidden, len(self.cell.vertices))

    def extra_repr(self):
        return f"{self.c_in}, {self.hidden}, cell={self.cell.name!r}"


def _blend(pre, state, act, hidden):
    """eq. 4-5 on pre-activations `pre` (gate rows first, on dim 1 of vectors or maps):
    (1 - c) * s + c * f(pre_h), written s + c * (f(pre_h) - s); state None means zero."""
    gate, candidate = torch.split(pre, hidden, dim=1)
    c, candidate = torch.sigmoid(gate), ACTIVATIONS[act](candidate)
    return c * candidate if state is None else state + c * (candidate - state)


def _vertices(h0, w, transform):
    """Vertices 1..n from vertex 0's output; `transform(W, h)` applies a weight to a state."""
    outs = [h0]
    for (pred, act), weight in zip(w.cell.vertices, w.vertex_weights):
        outs.append(_blend(transform(weight, outs[pred]), outs[pred], act, w.hidden))
    total = outs[1]
    for h in outs[2:]:
        total = total + h
    return total * (1.0 / len(w.cell.vertices))


def reference_step(x, h, w):
    """One step on a batch: x (B, Cin), h (B, C) -> h' (B, C), written as eq. 3-6."""
    x_tilde = torch.cat([x, h], dim=1)
    pre0 = x_tilde @ torch.cat([w.weight_x, w.weight_h], dim=1).T
    h0 = _blend(pre0, h, "tanh", w.hidden)
    return _vertices(h0, w, lambda weight, s: s @ weight.T)


def reference_sequence(x, w):
    """Run cell `w` over sequences x (B, L, Cin) -> (B, L, C) from a zero state."""
    h = x.new_zeros(x.shape[0], w.hidden)
    outputs = []
    for t in range(x.shape[1]):
        h = reference_step(x[:, t], h, w)
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def _conv1x1(weight, s):
    return functional.conv2d(s, weight[:, :, None, None])


def static_step(p_t, h, w):
    """One step on maps: p_t = W_0^x x (projected once for the whole map), h the state map or
    None at t = 0 (zero state: no recurrent conv); every weight is a 1x1 convolution."""
    pre0 = p_t if h is None else p_t + _conv1x1(w.weight_h, h)
    return _vertices(_blend(pre0, h, "tanh", w.hidden), w, _conv1x1)
