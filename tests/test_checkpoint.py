"""rnnedge checkpoints: save/load round trip (zoo and class configs), weights_only loading,
and the one-line refusals (missing file, not a checkpoint, pickled module)."""

import pytest
import torch

import rnnedge
from rnnedge.checkpoint import load, save
from rnnedge.errors import RnnedgeError
from rnnedge.layers import SWSBiRNN


def test_zoo_round_trip_keeps_weights_and_meta(tmp_path):
    from rnnedge import zoo
    torch.manual_seed(1)
    model = zoo.build("cifar-resnet18-rnn", num_classes=10)
    path = tmp_path / "m.pt"
    rnnedge.save(model, path, zoo_name="cifar-resnet18-rnn", config={"num_classes": 10},
                 input_shape=(3, 32, 32), normalization=((0.5, 0.4, 0.3), (0.2, 0.2, 0.2)),
                 class_names=[str(i) for i in range(10)], extra={"epochs": 3})
    loaded, meta = load(path)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), model.eval()(x))
    assert meta["input_shape"] == [3, 32, 32]
    assert meta["normalization"] == {"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.2, 0.2]}
    assert meta["class_names"][3] == "3" and meta["extra"] == {"epochs": 3}
    # the file is plain data: weights_only loading reads it
    assert torch.load(path, weights_only=True)["format"] == "rnnedge-checkpoint"


def test_class_config_round_trip(tmp_path):
    torch.manual_seed(2)
    layer = SWSBiRNN(4, 6, 5, cell="gru")
    path = tmp_path / "layer.pt"
    save(layer, path, config={"class": "rnnedge.layers.SWSBiRNN",
                              "kwargs": {"c_in": 4, "c_mid": 6, "c_out": 5, "cell": "gru"}},
         input_shape=(4, 6, 7), normalization=(0.0, 1.0))
    loaded, meta = load(path)
    x = torch.randn(1, 4, 6, 7)
    with torch.no_grad():
        assert torch.allclose(loaded(x), layer.eval()(x))
    assert meta["normalization"] == {"mean": [0.0] * 4, "std": [1.0] * 4}


def test_save_needs_a_way_to_rebuild(tmp_path):
    with pytest.raises(RnnedgeError, match="zoo_name"):
        save(torch.nn.Conv2d(1, 1, 1), tmp_path / "x.pt", input_shape=(1, 2, 2))
    assert not list(tmp_path.iterdir())


def test_save_refuses_what_load_would_refuse(tmp_path):
    with pytest.raises(RnnedgeError, match="config.class"):
        save(torch.nn.Conv2d(1, 1, 1), tmp_path / "x.pt", config={"class": "os.system"},
             input_shape=(1, 2, 2))
    assert not list(tmp_path.iterdir())


def test_refusals_are_one_line(tmp_path):
    with pytest.raises(RnnedgeError, match="does not exist"):
        load(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(RnnedgeError, match="not a PyTorch checkpoint"):
        load(junk)
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(3)}, plain)
    with pytest.raises(RnnedgeError, match="not an rnnedge checkpoint"):
        load(plain)
    pickled = tmp_path / "module.pt"
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1)), pickled)
    with pytest.raises(RnnedgeError, match="--trust-pickle") as info:
        load(pickled)
    assert "\n" not in str(info.value)
    module, meta = load(pickled, trust_pickle=True)
    assert isinstance(module, torch.nn.Sequential) and meta["input_shape"] is None
