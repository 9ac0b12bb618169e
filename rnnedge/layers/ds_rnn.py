"""DS-RNN, seed 000's future-work depthwise-separable RNN (eq. 21-22).

  h_jk = f(W_ih . x_jk + W_a . h_{j,k-1} + W_b . h_{j-1,k} + W_c . h_{j-1,k-1} + b)   (eq. 21)
  y_jk = C h_jk,  C in R^{Cout x Cin}                                                   (eq. 22)
with . the element-wise product: the recurrence runs independently on every channel (a
depthwise `rnn2d` pass, whose "..." of eq. 21 is read as the diagonal predecessor of eq. 20)
and a 1x1 convolution without bias mixes the channels. Directions and weight sharing as in
`rnn2d.RNN2D`; the passes are summed before the one 1x1 convolution.
Parameters: 5*Cin per recurrent weight set + Cin*Cout. Static form: the wavefront of `rnn2d`
with DEPTHWISE_CONV_2D for every element-wise weight, then one CONV_2D.
Imports: torch, `rnn2d`.
"""

from torch import nn

from rnnedge.layers.rnn2d import RNN2D


class DSRNN(RNN2D):
    """eq. 21-22: (N, Cin, H, W) -> (N, Cout, H, W)."""

    def __init__(self, c_in, c_out, cell="tanh", directions=1, weight_sharing=True, form="reference"):
        super().__init__(c_in, c_in, cell, directions, weight_sharing, form, depthwise=True)
        self.out_channels = c_out
        self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)

    def reference(self, x):
        return self.pointwise(super().reference(x))

    def static(self, x):
        return self.pointwise(super().static(x))
