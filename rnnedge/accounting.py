"""Parameter and MAC accounting with the paper's conventions (eq. 12-19).

Two independent counts per layer, which the tests hold equal:
- `module_params`: read from the module itself (sum of its parameters' element counts);
- `formula_params`: from the layer's hyper-parameters with the paper's formulas: Conv2D
  k^2*Cin*Cout (+ Cout with bias) (eq. 13), BatchNorm gamma+beta = 2*C when affine (running
  statistics are not parameters), FC Cin*Cout + Cout, an RNN cell G*(Cin*C + C^2 + 2*C)
  with G gates (eq. 12 summands; b_ih and b_hh kept apart as in PyTorch).

MACs (`count_macs`, over one forward pass at the model's input shape):
- Conv2D: (k^2*Cin/groups*Cout + Cout) * H_out * W_out (eq. 17, over output positions);
- FC: Cin*Cout + Cout;
- SRNN: (Cin*Cmid + Cmid^2 + 2*Cmid + Cmid*Cout + Cout^2 + 2*Cout) * H * W (eq. 18), i.e. each
  cell's parameter count times the positions it runs over, once per direction; SWS-BiRNN is
  twice that, as the paper counts it. GRU/LSTM cells extend the same rule (G gates);
- the other image RNNs of the family (`rnnedge.layers` renet, rnn2d, ds_rnn, scale_rnn) list
  their `cell_runs`: each weight set's formula parameters times the positions it runs over,
  once per direction; their weight sets without a PyTorch cell (DARTS, 2-D, scale) carry
  `formula_params()` from their hyper-parameters;
- additions count as MACs, as the paper says: a residual sum adds one per output element, an
  average pool one per input element; BatchNorm folds into the conv before it (0), ReLU is 0.
Imports: torch, `rnnedge.layers`, `rnnedge.zoo.blocks`.
"""

import torch
from torch import nn

from rnnedge.layers import CELLS, ImageRNN, RecurrentWeights, SWSBiRNN, WSBiRNN
from rnnedge.zoo.blocks import Residual


def conv2d_params(kernel, c_in, c_out, bias=True, groups=1):
    """eq. 13: k^2 * Cin/groups * Cout, plus Cout for a bias."""
    return kernel * kernel * (c_in // groups) * c_out + (c_out if bias else 0)


def conv2d_macs(kernel, c_in, c_out, h_out, w_out, groups=1):
    """eq. 17: (k^2 * Cin/groups * Cout + Cout) * H * W over the output positions."""
    return (kernel * kernel * (c_in // groups) * c_out + c_out) * h_out * w_out


def rnn_cell_params(c_in, hidden, gates=1):
    """One recurrent cell with separate b_ih and b_hh: G * (Cin*C + C^2 + 2*C)."""
    return gates * (c_in * hidden + hidden * hidden + 2 * hidden)


def srnn_params(c_in, c_mid, c_out, gates=1):
    """eq. 12 (SRNN and SWS-BiRNN alike): Cin*Cmid + Cmid^2 + 2Cmid + Cmid*Cout + Cout^2 + 2Cout."""
    return rnn_cell_params(c_in, c_mid, gates) + rnn_cell_params(c_mid, c_out, gates)


def srnn_macs(c_in, c_mid, c_out, height, width, gates=1):
    """eq. 18: SRNN MACs = eq. 12 * H * W (SWS-BiRNN: twice this)."""
    return srnn_params(c_in, c_mid, c_out, gates) * height * width


def linear_params(c_in, c_out, bias=True):
    """Fully connected: Cin*Cout (+ Cout)."""
    return c_in * c_out + (c_out if bias else 0)


def module_params(module):
    """The parameter count read from the module itself."""
    return sum(p.numel() for p in module.parameters())


def formula_params(module):
    """The parameter count from the module's hyper-parameters and the paper's formulas."""
    if isinstance(module, nn.Conv2d):
        return conv2d_params(module.kernel_size[0], module.in_channels, module.out_channels,
                             module.bias is not None, module.groups)
    if isinstance(module, nn.BatchNorm2d):
        return 2 * module.num_features if module.affine else 0
    if isinstance(module, nn.Linear):
        return linear_params(module.in_features, module.out_features, module.bias is not None)
    if isinstance(module, RecurrentWeights):
        return rnn_cell_params(module.c_in, module.hidden, CELLS[module.cell])
    if hasattr(module, "formula_params"):  # the family's weight sets carry their own formula
        return module.formula_params()
    return sum(formula_params(child) for child in module.children())


def _rnn_macs(layer, height, width):
    """Paper-convention MACs of an image RNN layer: each cell's parameters times the positions,
    once per direction it runs (eq. 18; "double" for the weight-shared bidirectional layers)."""
    if hasattr(layer, "cell_runs"):  # the family's layers: [(weights, positions)] per direction
        return sum(formula_params(w) * n for w, n in layer.cell_runs(height, width))
    cells = [m for m in layer.modules() if isinstance(m, RecurrentWeights)]
    per_position = sum(formula_params(cell) for cell in cells)
    directions = 2 if isinstance(layer, (WSBiRNN, SWSBiRNN)) else 1
    return directions * per_position * height * width


def _leaf_macs(module, inputs, output):
    """MACs of one module that `count_macs` hooks, or None for modules it does not count."""
    if isinstance(module, nn.Conv2d):
        _, _, h_out, w_out = output.shape
        return conv2d_macs(module.kernel_size[0], module.in_channels, module.out_channels, h_out, w_out, module.groups)
    if isinstance(module, nn.Linear):
        return linear_params(module.in_features, module.out_features, True)
    if isinstance(module, ImageRNN):
        return _rnn_macs(module, inputs[0].shape[2], inputs[0].shape[3])
    if hasattr(module, "graph_macs"):  # counted as its exported form (rnnedge.sensor_conv)
        return module.graph_macs(output)
    if isinstance(module, Residual):
        return output[0].numel()
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AvgPool2d)):
        return inputs[0][0].numel()
    return None


def count_macs(model, input_shape):
    """Run one forward pass on zeros of `input_shape` (C, H, W; batch 1) and return
    {module: MACs} for every counted module (see the module docstring for the rules)."""
    macs = {}

    def hook(module, inputs, output):
        value = _leaf_macs(module, inputs, output)
        if value is not None:
            macs[module] = macs.get(module, 0) + value

    # RecurrentWeights are never called (the ImageRNN reads them), so no hook fires inside an RNN.
    hooks = [module.register_forward_hook(hook) for module in model.modules()]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        model.train(was_training)
        for handle in hooks:
            handle.remove()
    return macs
