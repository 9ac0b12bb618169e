"""The paper's model zoo, by fixed name: the CIFAR-100 ResNet18 variants (Table 5) and the
detection CNN/CRNN networks (Tables 1 and 2).

`names()` lists them, `get(name)` returns the `ZooEntry` (input shape, class count, paper
figures), `build(name, num_classes=None, **kwargs)` returns a fresh `torch.nn.Module`; kwargs
reach the model class and select the documented alternative readings (e.g. `rnn_channels`,
`cell`, `predict_channels`). Every zoo model has `table_rows()` -> [(row name, module)].
Imports: torch, `rnnedge.errors`, this package's modules.
"""

from dataclasses import dataclass
from functools import partial

from rnnedge.errors import RnnedgeError
from rnnedge.zoo.cifar import CifarResNet18
from rnnedge.zoo.detection import TABLE_1, TABLE_2, DetectionNet
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
        """{table row name: the paper's parameter count or None}."""
        return ROW_PARAMS[self.name]

    @property
    def paper_rows_total(self):
        """The sum of the paper's per-row parameter counts."""
        return sum(v for v in ROW_PARAMS[self.name].values() if v is not None)

    @property
    def stated_total(self):
        """(the total as the paper prints it, which table)."""
        return STATED_TOTALS[self.name]


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


def build(name, num_classes=None, **kwargs):
    """A freshly initialised zoo model. `num_classes` overrides a classifier's class count."""
    entry = get(name)
    if num_classes is not None:
        if entry.num_classes is None:
            raise RnnedgeError(f"{name} is a detection network: it takes no num_classes")
        kwargs["num_classes"] = num_classes
    return entry.factory(**kwargs)
