"""The family's zoo networks: DartsReNet against seed 002 Table 1 and a hand derivation, the
RA-LSTM networks' structure against seed 004 Table 1, the ReSeg classifier against seed 001's
listing, parameters from the formulas == the module for every entry and `summary` rows
(`rnnedge train` / `export` / `check` on every entry: test_zoo_family_train.py)."""

import json

import pytest
import torch
from click.testing import CliRunner

from rnnedge import accounting, zoo
from rnnedge.cli import main
from rnnedge.layers import DartsWeights, ReNet, ReSegBlock, RecurrentWeights
from rnnedge.summary import summarize
from rnnedge.zoo.blocks import BasicBlock

FAMILY = [n for n in zoo.names() if not n.startswith(("det-", "cifar-resnet18")) or
          n.startswith("cifar-resnet18-") and n not in ("cifar-resnet18-rnn", "cifar-resnet18-thin",
                                                        "cifar-resnet18-short")]
# the DARTS cells' reference form is slow (eight vertices a step): one DARTS entry is enough
SMALL = [n for n in FAMILY if (n.endswith("-mcu") or n.startswith(("scale-rnn", "cifar-resnet18-")))
         and n not in ("dartsrenet-vanilla-mcu", "dartsrenet-sw-mcu")]
TABLE_1_M = {"gru": 4.8, "lstm": 6.0, "vanilla": 6.8, "sw": 6.8, "dws": 4.0}  # seed 002 Table 1


def _gates_cell(c_in, c, gates):
    return gates * (c_in * c + c * c + 2 * c)


def test_family_entries_are_registered():
    assert {"dartsrenet-gru", "dartsrenet-dws-mcu", "reseg-gender", "scale-rnn", "scale-rnn-half-gru",
            "ra-vgg1", "ra-vgg2", "ra-resnet", "cifar-resnet18-rnn2d"} <= set(FAMILY)


@pytest.mark.parametrize("variant", list(TABLE_1_M))
def test_dartsrenet_params_within_5_percent_of_table_1(variant):
    model = zoo.build(f"dartsrenet-{variant}")
    params = accounting.module_params(model)
    assert abs(params / (TABLE_1_M[variant] * 1e6) - 1) < 0.05, params
    assert zoo.get(f"dartsrenet-{variant}").stated_total == (f"{TABLE_1_M[variant]}M", "seed 002 Table 1")


def test_dartsrenet_gru_by_hand():
    """3 convs 3x3 (bias) 3->256->256->256; per ReNet layer 2 GRU(4*256 -> 128) and
    2 GRU(256 -> 128); FC 4*4*256 -> 10."""
    convs = (27 * 256 + 256) + 2 * (9 * 256 * 256 + 256)
    renet = 2 * _gates_cell(1024, 128, 3) + 2 * _gates_cell(256, 128, 3)
    assert accounting.module_params(zoo.build("dartsrenet-gru")) == convs + 3 * renet + 4096 * 10 + 10
    # the DARTS cells: (Cin + C)*2C + 8*C*2C per direction and sweep, no biases
    darts = 2 * ((1024 + 128) * 256 + 8 * 128 * 256) + 2 * ((256 + 128) * 256 + 8 * 128 * 256)
    assert accounting.module_params(zoo.build("dartsrenet-vanilla")) == convs + 3 * darts + 40970
    assert accounting.module_params(zoo.build("dartsrenet-dws")) == convs + 3 * darts // 2 + 40970
    # Sigmoid Weighting: a 2x2 patch weight (4*Cin + 1) per layer
    assert accounting.module_params(zoo.build("dartsrenet-sw")) == convs + 3 * (darts + 1025) + 40970


def test_dartsrenet_variants_use_the_papers_cells():
    cells = {v: {w.cell.name for w in zoo.build(f"dartsrenet-{v}-mcu").modules() if isinstance(w, DartsWeights)}
             for v in ("vanilla", "sw", "dws")}
    assert cells == {"vanilla": {"darts-vanilla"}, "sw": {"darts-sw"}, "dws": {"darts-dws"}}
    renets = [m for m in zoo.build("dartsrenet-dws").modules() if isinstance(m, ReNet)]
    assert len(renets) == 3 and all(r.weight_sharing and r.patch == (2, 2) for r in renets)
    gru = [m for m in zoo.build("dartsrenet-gru-mcu").modules() if isinstance(m, RecurrentWeights)]
    assert len(gru) == 12 and {w.cell for w in gru} == {"gru"}


def test_ra_networks_follow_table_1():
    """conv,128x2 | 256x2 | 512x2 (VGG-1), x4 (VGG-2), conv,64x21 | 128x20 | 256x20 (ResNet);
    LSTM 256; a 256-d FC before the classifier."""
    def convs(module):
        return [m.out_channels for m in module.modules() if isinstance(m, torch.nn.Conv2d)
                and m.kernel_size == (3, 3)]
    for name, per_block in (("ra-vgg1", 2), ("ra-vgg2", 4)):
        model = zoo.build(name)
        assert [convs(b) for b in model.blocks] == [[128] * per_block, [256] * per_block, [512] * per_block]
        assert model.aggregation.lstm.rnn.hidden == 256 and model.aggregation.fc.out_features == 256
    resnet = zoo.build("ra-resnet")
    assert len(convs(resnet.stem)) + len(convs(resnet.blocks[0])) == 21
    assert [len(convs(b)) for b in resnet.blocks[1:]] == [20, 20]
    assert sum(isinstance(m, BasicBlock) for m in resnet.modules()) == 30
    assert [m.level for m in resnet.aggregation.mappings] == ["shallow", "middle", "last"]


def test_reseg_classifier_follows_the_listing():
    model = zoo.build("reseg-gender")
    blocks = [m for m in model.modules() if isinstance(m, ReSegBlock)]
    assert [(b.c_in, b.hidden, b.order) for b in blocks] == [(256, 256, "vh"), (512, 512, "vh")]
    dilated = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [(m.out_channels, m.dilation) for m in dilated] == [(c, (2, 2)) for c in (32, 64, 128, 256)]
    assert model(torch.zeros(1, 3, 128, 128)).shape == (1, 2)


def test_reseg_classifier_pools_pad_with_minus_infinity():
    """The 3x3/2 pools pad by one cell that never wins (torch / TFLite: -inf), so on a map
    of negative values (BatchNorm outputs are often negative) the corner output is the max
    of the 2x2 corner window, computed here by hand with numpy (zero padding would give 0)."""
    import numpy as np

    model = zoo.build("reseg-gender-mcu")
    pools = [m for m in model.encoder if isinstance(m, torch.nn.MaxPool2d)]
    assert len(pools) == 3
    x = -1.0 - torch.rand(1, 2, 6, 6)
    got = pools[0](x).numpy()
    a = x.numpy()
    padded = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    expected = np.array([[[[padded[0, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max() for j in range(3)]
                           for i in range(3)] for c in range(2)]])
    assert got.shape == (1, 2, 3, 3)
    np.testing.assert_array_equal(got, expected)
    assert got[0, 0, 0, 0] == a[0, 0, :2, :2].max() < 0


@pytest.mark.parametrize("name", FAMILY)
def test_formula_params_equal_module_params(name):
    model = zoo.build(name)
    assert accounting.formula_params(model) == accounting.module_params(model)
    for _, module in model.named_modules():
        assert accounting.formula_params(module) == accounting.module_params(module)


@pytest.mark.parametrize("name", SMALL)
def test_summary_rows_cover_the_model(name):
    summary = summarize(name)
    model = zoo.build(name)
    assert summary.total_params == accounting.module_params(model)
    assert all(r.params == r.formula_params for r in summary.rows)
    assert summary.total_macs == sum(accounting.count_macs(model, zoo.get(name).input_shape).values())


def test_summary_of_a_family_network_prints_its_layer_types():
    result = CliRunner().invoke(main, ["summary", "dartsrenet-gru-mcu", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert [r["type"] for r in data["layers"]] == ["Conv2D"] * 3 + ["ReNet"] * 3 + ["FC"]
    assert data["paper_stated_total"] == {"value": "-", "table": "no paper total"}
    text = CliRunner().invoke(main, ["summary", "dartsrenet-gru"]).output
    assert "seed 002 Table 1 states 4.8M" in text
