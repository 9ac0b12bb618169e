"""RNN-on-image layers: seed 000's RowRNN, SRNN, WS-BiRNN, SWS-BiRNN and an ordinary BiRNN,
and the rest of the family: ReNet / ReSeg (seeds 001-002) with the DARTS cells, RNN2D and
DS-RNN (seed 000 future work), Scale-RNN (seed 003) and RA-LSTM aggregation (seed 004).

Each recurrent layer has a readable reference form and an unrolled static form for export; see
`image_rnn` for seed 000's layers, `cells` and `darts` for the recurrent units, `static` for the
unrolled graph, and one module per family member (renet, rnn2d, ds_rnn, scale_rnn, ra_lstm).
"""

from rnnedge.layers.cells import CELLS, RecurrentWeights
from rnnedge.layers.darts import DARTS_CELLS, DartsCell, DartsWeights
from rnnedge.layers.image_rnn import (FORMS, LAYOUTS, SRNN, BiRNN, ImageRNN, RowRNN, SWSBiRNN, WSBiRNN, set_form,
                                      set_layout)
from rnnedge.layers.ds_rnn import DSRNN
from rnnedge.layers.ra_lstm import FeatureMapping, RecurrentAggregation
from rnnedge.layers.renet import ReNet, ReSegBlock
from rnnedge.layers.rnn2d import RNN2D, Rnn2dWeights
from rnnedge.layers.scale_rnn import ScaleRecurrence, ScaleRNN

__all__ = ["CELLS", "DARTS_CELLS", "FORMS", "LAYOUTS", "RecurrentWeights", "DartsCell", "DartsWeights", "ImageRNN",
           "RowRNN", "SRNN", "WSBiRNN", "SWSBiRNN", "BiRNN", "set_form", "set_layout", "ReNet", "ReSegBlock", "RNN2D",
           "Rnn2dWeights", "DSRNN", "ScaleRNN", "ScaleRecurrence", "FeatureMapping", "RecurrentAggregation"]
