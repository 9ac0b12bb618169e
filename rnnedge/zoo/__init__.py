"""The model zoo, by fixed name: seed 000's CIFAR-100 ResNet18 variants (Table 5) and
detection CNN/CRNN networks (Tables 1 and 2), and the family's networks (`family.py`):
DartsReNet (seed 002), the ReSeg-block classifier (seed 001), Scale-RNN (seed 003), RA-LSTM
(seed 004), each at the paper's size and an MCU-sized one.

`names()` lists them, `get(name)` returns the `ZooEntry` (input shape, class count, paper
figures), `build(name, num_classes=None, **kwargs)` returns a fresh `torch.nn.Module`; kwargs
reach the model class and select the documented alternative readings (e.g. `rnn_channels`,
`cell`, `predict_channels`). Every zoo model has `table_rows()` -> [(row name, module)].
`input_format` builds it for a camera's gray or Bayer input (rnnedge.sensor).
Imports: torch, `rnnedge.errors`, `rnnedge.sensor`, this package's modules.
"""

from dataclasses import dataclass
from functools import partial

from rnnedge.errors import RnnedgeError
from rnnedge.zoo.cifar import CifarResNet18
from rnnedge.zoo.detection import TABLE_1, TABLE_2, DetectionNet
from rnnedge.zoo.family import HEADS, DartsReNet, RANet, ReSegClassifier, cifar_head, scale_rnn
from rnnedge.zoo.paper_tables import ROW_PARAMS, STATED_TOTALS


@dataclass(frozen=True)
class ZooEntry:
    """A zoo model: how to build it and what the paper says about it."""

    name: str
    description: str
    input_shape: tuple  # (C, H, W)
    num_classes: int | None  # None for the detection networks
    factory: object  # callable(**kwargs) -> nn.Module

    @property
    def paper_row_params(self):
        """{table row name: the paper's parameter count or None}; empty where the paper
        prints no per-row counts (the family's networks)."""
        return ROW_PARAMS.get(self.name, {})

    @property
    def paper_rows_total(self):
        """The sum of the paper's per-row parameter counts."""
        return sum(v for v in self.paper_row_params.values() if v is not None)

    @property
    def stated_total(self):
        """(the total as the paper prints it, which table); ("-", "no paper total") if none."""
        return STATED_TOTALS.get(self.name, ("-", "no paper total"))


def _cifar(variant, description):
    return description, (3, 32, 32), 100, partial(CifarResNet18, variant)


def _detection(table, head, size, description):
    return description, (3, *size), None, partial(DetectionNet, table, head)


_SPECS = {
    "cifar-resnet18": _cifar("resnet18", "ResNet18 width 0.2, CIFAR-100 (Table 5)"),
    "cifar-resnet18-rnn": _cifar("rnn", "ResNet18-RNN: conv5.x replaced by SWS-BiRNN 51->102->102 (Table 5)"),
    "cifar-resnet18-thin": _cifar("thin", "ResNet18-thin: conv5.x 51->32 (Table 5)"),
    "cifar-resnet18-short": _cifar("short", "ResNet18-short: conv5.x replaced by one 3x3 conv 51->102 (Table 5)"),
    "det-cnn-256": _detection(TABLE_1, "cnn", (256, 256), "person detection CNN, 256x256 (Table 1)"),
    "det-crnn-256": _detection(TABLE_1, "crnn", (256, 256), "person detection CRNN, SWS-BiRNN heads, 256x256 (Table 1)"),
    "det-cnn-480x640": _detection(TABLE_2, "cnn", (480, 640), "person detection CNN, 480x640 (Table 2)"),
    "det-crnn-480x640": _detection(TABLE_2, "crnn", (480, 640), "person detection CRNN, SWS-BiRNN heads, 480x640 (Table 2)"),
}

def _family(description, input_shape, num_classes, factory, **kwargs):
    return description, input_shape, num_classes, partial(factory, **kwargs)


_DARTS = {"gru": dict(cell="gru"), "lstm": dict(cell="lstm"), "vanilla": dict(cell="darts-vanilla"),
          "sw": dict(cell="darts-sw", sigmoid_weighting=True), "dws": dict(cell="darts-dws", weight_sharing=True)}
_DARTS_NAMES = {"gru": "ReNet baseline, GRU", "lstm": "ReNet baseline, LSTM", "vanilla": "Vanilla DartsReNet",
                "sw": "Sigmoid Weighting DartsReNet", "dws": "Directional Weight Sharing DartsReNet"}
MCU_CHANNELS = 32  # the MCU-sized DartsReNet width (convs and ReNet outputs)
for _key, _kw in _DARTS.items():
    _SPECS[f"dartsrenet-{_key}"] = _family(f"{_DARTS_NAMES[_key]}, channels 256 (seed 002 Table 1)",
                                           (3, 32, 32), 10, DartsReNet, **_kw)
    _SPECS[f"dartsrenet-{_key}-mcu"] = _family(f"{_DARTS_NAMES[_key]}, channels {MCU_CHANNELS}", (3, 32, 32), 10,
                                               DartsReNet, channels=MCU_CHANNELS, **_kw)
_SPECS["reseg-gender"] = _family("ReSeg-block photo classifier (seed 001's example)", (3, 128, 128), 2,
                                 ReSegClassifier)
_SPECS["reseg-gender-mcu"] = _family("ReSeg-block photo classifier, widths /8", (3, 128, 128), 2,
                                     ReSegClassifier, widths=(4, 8, 16, 32), hidden=(32, 64))
_SPECS["scale-rnn"] = _family("Scale-RNN, vanilla (seed 003 eq. 1), CIFAR ResNet base, 2 scales", (3, 64, 64),
                              10, scale_rnn)
_SPECS["scale-rnn-half-gru"] = _family("Scale-RNN, half-GRU (seed 003 eq. 2), CIFAR ResNet base, 2 scales",
                                       (3, 64, 64), 10, scale_rnn, variant="half-gru")
for _key, _name in (("vgg1", "VGG-1-RA"), ("vgg2", "VGG-2-RA"), ("resnet", "ResNet-RA")):
    _SPECS[f"ra-{_key}"] = _family(f"{_name}, LSTM 256 (seed 004 Table 1)", (3, 32, 32), 10, RANet, backbone=_key)
    _SPECS[f"ra-{_key}-mcu"] = _family(f"{_name}, widths /8, LSTM 32", (3, 32, 32), 10, RANet, backbone=_key,
                                       width=0.125, lstm=32, fc=32)
for _head in HEADS:
    if _head != "sws-birnn":
        _SPECS[f"cifar-resnet18-{_head}"] = _family(f"ResNet18-RNN with a {_head} head 51->102 in the SWS-BiRNN's place",
                                                    (3, 32, 32), 100, cifar_head, head=_head)

ZOO = {name: ZooEntry(name, *spec) for name, spec in _SPECS.items()}


def names():
    """The zoo's model names, in table order."""
    return list(ZOO)


def get(name):
    """The `ZooEntry` for `name`; RnnedgeError listing the valid names otherwise."""
    try:
        return ZOO[name]
    except KeyError:
        raise RnnedgeError(f"unknown model {name!r}; valid names: {', '.join(ZOO)}") from None


def build(name, num_classes=None, input_format="rgb", bayer_conv="demosaic", **kwargs):
    """A freshly initialised zoo model. `num_classes` overrides a classifier's class count;
    `input_format` (rnnedge.sensor.FORMATS) makes its first convolution read the sensor's
    tensor (gray or a Bayer mosaic, 1 channel) with the demosaic folded into it; `bayer_conv`
    (rnnedge.sensor_conv.BAYER_CONVS) parametrises an odd-stride Bayer conv 1."""
    from rnnedge import sensor

    entry = get(name)
    if num_classes is not None:
        if entry.num_classes is None:
            raise RnnedgeError(f"{name} is a detection network: it takes no num_classes")
        kwargs["num_classes"] = num_classes
    return sensor.adapt_model(entry.factory(**kwargs), input_format, bayer_conv)


def input_shape(name, input_format="rgb") -> tuple:
    """(C, H, W) of zoo model `name` built for `input_format`."""
    from rnnedge import sensor

    _, height, width = get(name).input_shape
    return (sensor.channels(input_format), height, width)
