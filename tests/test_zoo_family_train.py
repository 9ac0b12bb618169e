"""`rnnedge train` / `export` / `check` on every family zoo entry, and the exported graphs'
MACs against hand formulas.

Every family entry trains one tiny epoch on the synthetic set through the CLI (its parameter
count checked against the module's own tensors) and is exported to int8 from that checkpoint;
each but the paper-width ones (FULL) is then checked by `rnnedge check` on rnnedge's C
kernels, whose int8 top-1 must equal TFLite's reference kernels' on the same images (the two
engines are independent). The trained
checkpoints and exports are built once per session (`family_runs`).

Graph MACs (MAC_CONVENTION, what `export` and `arena` print) of the exported
`cifar-resnet18-<head>` entries and of the head layers alone equal a derivation written here
from the static forms' structure: every CONV_2D / DEPTHWISE_CONV_2D carries a bias (BatchNorm
folded, or a zero bias), (k*Cin*Cout + Cout) per output position; an ADD/SUB/MUL one per output
element; pools k*k per output; the FC in*out + out; the backbone's layers read off the torch
modules with forward hooks.
"""

import json

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from rnnedge import zoo
from rnnedge.cli import main
from rnnedge.zoo.blocks import BasicBlock

from family_macs import HEAD_MACS, rnn2d_macs

DATA = "synthetic:classes=2,n=4"
FAMILY = [n for n in zoo.names() if n.startswith(("dartsrenet-", "reseg-", "scale-rnn", "ra-"))
          or (n.startswith("cifar-resnet18-") and n not in ("cifar-resnet18-rnn", "cifar-resnet18-thin",
                                                            "cifar-resnet18-short"))]
# the paper-width networks (4M-16M parameters; seconds per training image on 2 shared cores):
# trained and exported (whose verification runs TFLM against TFLite's reference kernels), but
# `check` on rnnedge's C kernels runs on their -mcu twins only (the same layers and kernels,
# narrower), which keeps this file's CI time down
FULL = [n for n in FAMILY if n.startswith(("dartsrenet-", "reseg-", "ra-")) and not n.endswith("-mcu")]


@pytest.fixture(scope="session")
def family_runs(tmp_path_factory):
    """name -> {"train", "export", "check_c", "check_tflite"}: the CLI's JSON reports."""
    folder = tmp_path_factory.mktemp("family_runs")
    runner, cache = CliRunner(), {}

    def invoke(args):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        return json.loads(result.output.strip().splitlines()[-1])

    def get(name):
        if name not in cache:
            ckpt, tflite = str(folder / f"{name}.pt"), str(folder / f"{name}.tflite")
            run = {"train": invoke(["train", name, "--data", DATA, "--epochs", "1", "--batch", "2",
                                    "--threads", "1", "--no-augment", "--out", ckpt, "--json"])}
            run["export"] = invoke(["export", ckpt, "--int8", "-o", tflite, "--calib", DATA, "--calib-samples", "4",
                                    "--check-samples", "2", "--json"])
            for backend in ("c", "tflite") if name not in FULL else ():
                run[f"check_{backend}"] = invoke(["check", tflite, "--data", DATA, "--float", ckpt,
                                                  "--backend", backend, "--json"])
            cache[name] = run
        return cache[name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILY)
def test_train_export_check_every_family_entry(family_runs, name):
    run = family_runs(name)
    model = zoo.build(name, num_classes=2)
    assert run["train"]["parameters"] == sum(p.numel() for p in model.parameters())
    assert len(run["train"]["history"]) == 1 and run["train"]["train_samples"] == 4
    stats = run["export"]["stats"]
    assert stats["problems"] == [] and stats["duplication_factor"] == 1.0
    if name in FULL:
        verification = run["export"]["verification"]
        assert stats["vela_cpu_builtins"] == [] and verification["tflm_runs"]
        assert verification["tflm_max_lsb_diff"] is not None  # TFLM's bytes were compared
        return
    c, ref = run["check_c"], run["check_tflite"]
    assert c["samples"] == ref["samples"] == 4
    assert c["int8"]["top1"] == ref["int8"]["top1"]
    assert c["float"]["top1"] == ref["float"]["top1"]


def _backbone_macs(model, shape, skip):
    """MAC_CONVENTION of the torch layers outside `skip`, read with forward hooks."""
    total, handles = [0], []
    inside = {id(m) for m in skip.modules()}

    def conv(m, inputs, out):
        total[0] += (m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups + 1) * out[0].numel()

    def linear(m, inputs, out):
        total[0] += (m.in_features + 1) * m.out_features

    def elements(m, inputs, out):   # a residual sum, one per output element
        total[0] += out[0].numel()

    def pool(m, inputs, out):        # a global average pool: one per input element
        total[0] += inputs[0][0].numel()

    for m in model.modules():
        if id(m) in inside:
            continue
        hook = {nn.Conv2d: conv, nn.Linear: linear, BasicBlock: elements, nn.AdaptiveAvgPool2d: pool}.get(type(m))
        if hook:
            handles.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model.eval()(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return total[0]


def test_head_formulas_by_hand():
    """Two of the formulas evaluated by hand: RNN2D(4 -> 6) one pass on 3x5 (7 diagonals) and
    ReNet(51 -> 2x51) with separate directions."""
    assert rnn2d_macs(4, 6, 3, 5, 1) == (24 + 6) * 15 + 6 * (72 * 3 + 36) + 5 * (36 * 3 + 36)
    assert HEAD_MACS["renet"] == 2 * (2652 * 64 + 7 * (2652 + 51) * 8) + 2 * (5253 * 64 + 7 * (2652 + 51) * 8)


@pytest.mark.slow
@pytest.mark.parametrize("head", list(HEAD_MACS))
def test_exported_cifar_head_entries_graph_macs(family_runs, head):
    """The whole exported cifar-resnet18-<head>: backbone (hooks) + the head's formula."""
    name = f"cifar-resnet18-{head}"
    model = zoo.build(name, num_classes=2)
    expected = _backbone_macs(model, zoo.get(name).input_shape, model.sws_birnn) + HEAD_MACS[head]
    assert family_runs(name)["export"]["stats"]["graph_macs"] == expected
