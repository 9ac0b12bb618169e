"""Graph MACs (rnnedge.op_table's MAC_CONVENTION) of the family's head layers, derived by hand
from their static forms' structure for the tests: every CONV_2D / DEPTHWISE_CONV_2D carries a
bias, (k*Cin*Cout + Cout) per output position; ADD one per output element; data movement 0."""


def renet_macs(c_in, c, height, width, shared, order="hv"):
    """ReNet / ReSeg (order "vh"), tanh, 1x1 patches: two sweeps; each direction projects the
    map (1x1 conv with bias) and runs T - 1 steps of (C^2 + C) + C (conv + add) per position
    of a step (the first step has no state); DWS projects once and runs both directions in
    every step (2L positions); the directions' outputs are concatenated (no add)."""
    sweeps = ((c_in, width, height), (2 * c, height, width))
    if order == "vh":
        sweeps = ((c_in, height, width), (2 * c, width, height))
    total = 0
    for sweep_in, steps, length in sweeps:
        project = (sweep_in * c + c) * height * width
        step = (c * c + c + c) * length
        total += project + (steps - 1) * 2 * step if shared else 2 * (project + (steps - 1) * step)
    return total


def rnn2d_macs(c_in, c, height, width, passes, depthwise=False, c_out=None):
    """RNN2D / DS-RNN, Elman cells: per pass the projection (with bias), then over the
    H + W - 1 diagonals of H cells: the 2x1 conv of the previous diagonal (+ bias) and an add
    from diagonal 1, the 1x1 diagonal conv (+ bias) and an add from diagonal 2; the passes
    summed; DS-RNN's 1x1 conv (with a zero bias)."""
    k_in, k_hh = (1, 1) if depthwise else (c_in, c)
    diagonals = height + width - 1
    per_pass = ((k_in * c + c) * height * width + (diagonals - 1) * (2 * k_hh * c * height + 2 * c * height)
                + (diagonals - 2) * (k_hh * c * height + 2 * c * height))
    total = passes * per_pass + (passes - 1) * c * height * width
    return total + ((c_in * c_out + c_out) * height * width if depthwise else 0)


HEAD_MACS = {  # 8x8x51 -> 102, tanh (rnnedge.zoo.family.HEADS)
    "renet": renet_macs(51, 51, 8, 8, shared=False),
    "renet-dws": renet_macs(51, 51, 8, 8, shared=True),
    "reseg": renet_macs(51, 51, 8, 8, shared=False, order="vh"),
    "rnn2d": rnn2d_macs(51, 102, 8, 8, 2),
    "ds-rnn": rnn2d_macs(51, 51, 8, 8, 4, depthwise=True, c_out=102),
}


