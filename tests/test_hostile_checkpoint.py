"""Hostile checkpoints: a file is data, never code. Each case is a payload torch.load accepts
with weights_only=True; loading must refuse it with one line naming the field, run nothing,
and allocate nothing big. The two exploits of issue #18 (a config naming a toolchain helper
that runs `sh -c`, and one naming rnnedge.load with trust_pickle) are reproduced literally."""

import pytest
import torch
from click.testing import CliRunner

from rnnedge.checkpoint import load
from rnnedge.cli import main
from rnnedge.errors import RnnedgeError
from rnnedge.layers import SWSBiRNN

LAYER = {"class": "rnnedge.layers.SWSBiRNN", "kwargs": {"c_in": 2, "c_mid": 3, "c_out": 4}}


def payload(**changes):
    """A valid checkpoint dict for a small SWS-BiRNN, with `changes` applied."""
    torch.manual_seed(0)
    base = {"format": "rnnedge-checkpoint", "version": 1, "zoo_name": None, "config": LAYER,
            "state_dict": SWSBiRNN(2, 3, 4).state_dict(), "input_shape": [2, 5, 6],
            "normalization": {"mean": [0.5], "std": [0.25]}, "class_names": None, "extra": None}
    base.update(changes)
    return base


def write(tmp_path, name, data):
    path = tmp_path / name
    torch.save(data, path)
    assert torch.load(path, weights_only=True) is not None  # the file passes weights_only
    return path


def test_valid_payload_loads(tmp_path):
    model, meta = load(write(tmp_path, "ok.pt", payload()))
    assert isinstance(model, SWSBiRNN) and meta["input_shape"] == [2, 5, 6]


def test_shell_command_in_config_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    evil = payload(config={"class": "rnnedge.firmware_sim.toolchain._compile",
                           "kwargs": {"cmd": ["sh", "-c", f"touch {marker}"]}})
    path = write(tmp_path, "evil.pt", evil)
    with pytest.raises(RnnedgeError, match="config.class"):
        load(path)
    result = CliRunner().invoke(main, ["export", str(path), "--int8", "-o",
                                       str(tmp_path / "out.tflite")])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("error: checkpoint field config.class")
    assert not marker.exists() and not (tmp_path / "out.tflite").exists()


def test_second_file_is_not_unpickled(tmp_path, monkeypatch):
    other = tmp_path / "module.pt"
    torch.save(torch.nn.Conv2d(1, 1, 1), other)  # a whole pickled module
    calls = []
    monkeypatch.setattr("rnnedge.checkpoint._from_pickle", lambda p: calls.append(p))
    evil = payload(config={"class": "rnnedge.load",
                           "kwargs": {"path": str(other), "trust_pickle": True}})
    with pytest.raises(RnnedgeError, match="config.class"):
        load(write(tmp_path, "evil.pt", evil))
    assert calls == []


@pytest.mark.parametrize("changes, field", [
    ({"config": {"class": "rnnedge.zoo.build", "kwargs": {"name": "cifar-resnet18"}}}, "config.class"),
    ({"config": {"class": "rnnedge.layers.set_form", "kwargs": {}}}, "config.class"),
    ({"config": {"class": "rnnedge.layers.cells.RecurrentWeights", "kwargs": {}}}, "config.class"),
    ({"config": {"class": ["x"], "kwargs": {}}}, "config.class"),
    ({"config": [1, 2]}, "config"),
    ({"config": {**LAYER, "extra_key": 1}}, "config"),
    ({"config": {"class": LAYER["class"], "kwargs": {"c_in": 2, "c_mid": 3, "c_out": 4, "bogus": 1}}},
     "config.kwargs"),
    ({"config": {"class": LAYER["class"], "kwargs": {"c_in": "2", "c_mid": 3, "c_out": 4}}},
     "config.kwargs.c_in"),
    ({"config": {"class": LAYER["class"], "kwargs": {"c_in": True, "c_mid": 3, "c_out": 4}}},
     "config.kwargs.c_in"),
    ({"config": {"class": LAYER["class"], "kwargs": {"c_in": 2, "c_mid": 3}}}, "config.kwargs"),
    ({"config": {"class": LAYER["class"], "kwargs": {"c_in": 2, "c_mid": 3, "c_out": 10**9}}},
     "config.kwargs.c_out"),
    ({"config": {"class": LAYER["class"],
                 "kwargs": {"c_in": 2, "c_mid": 3, "c_out": 4, "cell": "os.system"}}},
     "config.kwargs.cell"),
    ({"zoo_name": ["cifar-resnet18"], "config": {}}, "zoo_name"),
    ({"zoo_name": "no-such-model", "config": {}}, "zoo_name"),
    ({"zoo_name": "cifar-resnet18", "config": {"variant": "evil"}}, "config"),
    ({"zoo_name": "cifar-resnet18", "config": {"num_classes": -3}}, "config.num_classes"),
    ({"zoo_name": "cifar-resnet18-rnn", "config": {"rnn_channels": [4000, 4000, 1]}},
     "config.rnn_channels"),
    ({"zoo_name": "det-crnn-256", "config": {"rnn_channels": {99: [4, 4]}}}, "config.rnn_channels"),
    ({"zoo_name": "det-cnn-256", "config": {"num_classes": 3}}, "config"),
    ({"zoo_name": "cifar-resnet18", "config": {"input_format": "bayer-xyzw"}},
     "config.input_format"),
    ({"zoo_name": "det-cnn-256", "config": {"input_format": ["gray"]}}, "config.input_format"),
    ({"state_dict": None}, "state_dict"),
    ({"state_dict": [1, 2]}, "state_dict"),
    ({"state_dict": {"rnn1.weight_ih": "x"}}, "state_dict"),
    ({"state_dict": {}}, "state_dict"),
    ({"input_shape": [-1, 5, 6]}, "input_shape"),
    ({"input_shape": "2,5,6"}, "input_shape"),
    ({"input_shape": [2, 5]}, "input_shape"),
    ({"input_shape": [2, 100000, 100000]}, "input_shape"),
    ({"normalization": {"mean": [0.5], "std": [0.0]}}, "normalization.std"),
    ({"normalization": {"mean": [0.5], "std": [float("nan")]}}, "normalization.std"),
    ({"normalization": {"mean": [0.5, 0.1, 0.2], "std": [1.0]}}, "normalization.mean"),
    ({"normalization": [0.5, 0.25]}, "normalization"),
    ({"class_names": "abc"}, "class_names"),
    ({"class_names": [1, 2]}, "class_names"),
    ({"surprise": 1}, "surprise"),
])
def test_every_field_is_validated(tmp_path, changes, field):
    with pytest.raises(RnnedgeError) as info:
        load(write(tmp_path, "bad.pt", payload(**changes)))
    message = str(info.value)
    assert "\n" not in message and field in message, message


def test_wrong_weight_shape_is_refused_before_building(tmp_path):
    weights = SWSBiRNN(2, 3, 4).state_dict()
    weights["rnn1.weight_ih"] = torch.zeros(7, 7)
    with pytest.raises(RnnedgeError, match="state_dict.*rnn1.weight_ih.*shape"):
        load(write(tmp_path, "shape.pt", payload(state_dict=weights)))


def test_huge_model_is_refused_without_allocating(tmp_path):
    # 4 * (4096*4096*2 + ...) * 2 LSTM weight sets: ~268 M parameters, over the limit; the
    # check runs on the meta device, so this test allocates nothing of that size.
    config = {"class": LAYER["class"],
              "kwargs": {"c_in": 4096, "c_mid": 4096, "c_out": 4096, "cell": "lstm"}}
    with pytest.raises(RnnedgeError, match="parameters"):
        load(write(tmp_path, "huge.pt", payload(config=config)))


def test_whole_module_still_needs_trust_pickle(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(torch.nn.Conv2d(1, 1, 1), path)
    with pytest.raises(RnnedgeError, match="--trust-pickle"):
        load(path)
    module, _ = load(path, trust_pickle=True)
    assert isinstance(module, torch.nn.Conv2d)


def test_activation_bound_refuses_wide_layers_at_large_inputs():
    from rnnedge.rebuild import check_activation_bytes
    with torch.device("meta"):  # 4096 channels: built without memory
        wide = SWSBiRNN(1, 8, 4096)
    check_activation_bytes(wide, (1, 16, 16), 768 << 20)  # 4 MiB maps: fine
    with pytest.raises(RnnedgeError, match="activation maps of up to 68,719,476,736 bytes"):
        check_activation_bytes(wide, (1, 2048, 2048), 768 << 20)  # 4 * 4096 * 2048^2


def test_export_of_a_zoo_model_at_a_huge_input_is_refused(tmp_path):
    out = tmp_path / "det.tflite"
    result = CliRunner().invoke(main, ["export", "--zoo", "det-cnn-256", "--int8", "-o", str(out),
                                       "--input-shape", "3,2048,2048"])
    assert result.exit_code == 2 and "activation maps" in result.output, result.output
    assert result.output.count("\n") == 1 and not out.exists()
