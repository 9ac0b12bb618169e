"""RNN-on-image layers of the paper's (RowRNN, SRNN, WS-BiRNN, SWS-BiRNN) and an ordinary BiRNN.

Each layer has a readable reference form and an unrolled static form for export; see
`image_rnn` for the layers, `cells` for the recurrent units, `static` for the unrolled graph.
"""

from rnnedge.layers.cells import CELLS, RecurrentWeights
from rnnedge.layers.image_rnn import FORMS, SRNN, BiRNN, ImageRNN, RowRNN, SWSBiRNN, WSBiRNN, set_form

__all__ = ["CELLS", "FORMS", "RecurrentWeights", "ImageRNN", "RowRNN", "SRNN", "WSBiRNN", "SWSBiRNN", "BiRNN", "set_form"]
