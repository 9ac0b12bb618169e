"""`rnnedge train` on zoo models: the head is sized by the dataset, JSON output, resume,
and one-line errors with exit code 2."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from rnnedge import checkpoint, zoo
from rnnedge.cli import main
from rnnedge.data import open_dataset
from rnnedge.data.torch_adapter import Normalization, TorchImageDataset


def run(*args):
    return CliRunner().invoke(main, ["train", *args])


def accuracy(model, dataset, meta):
    """Top-1 accuracy in percent of a loaded checkpoint, sample by sample."""
    norm = Normalization(tuple(meta["normalization"]["mean"]), tuple(meta["normalization"]["std"]))
    data = TorchImageDataset(dataset, norm)
    with torch.no_grad():
        hits = [int(model(data[i][0][None]).argmax()) == data[i][1] for i in range(len(data))]
    return 100.0 * sum(hits) / len(hits)


def test_rnn_model_on_synthetic_round_trips_a_10_way_checkpoint(tmp_path):
    out = tmp_path / "rnn.pt"
    result = run("cifar-resnet18-rnn", "--data", "synthetic:n=64", "--epochs", "2", "--batch",
                 "32", "--out", str(out), "--json", "--threads", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["num_classes"] == 10 and report["model"] == "cifar-resnet18-rnn"
    assert report["train_samples"] == 64 and report["val_samples"] == 64
    assert [r["epoch"] for r in report["history"]] == [1, 2]
    assert report["best_score"] == max(r["val_acc"] for r in report["history"])
    assert report["parameters"] == sum(
        p.numel() for p in zoo.build("cifar-resnet18-rnn", num_classes=10).parameters())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rnn.pt", "rnn.pt.state"]

    model, meta = checkpoint.load(out)
    assert meta["zoo_name"] == "cifar-resnet18-rnn" and meta["config"] == {"num_classes": 10}
    assert model.fc.out_features == 10 and meta["input_shape"] == [3, 32, 32]
    assert meta["class_names"][0] == "angle018"
    assert meta["normalization"] == report["normalization"]
    assert meta["extra"]["training"]["epoch"] == report["best_epoch"]
    val = open_dataset("synthetic:n=64", "val")
    assert accuracy(model, val, meta) == pytest.approx(report["best_score"])

    resumed = run("cifar-resnet18-rnn", "--data", "synthetic:n=64", "--epochs", "3", "--batch",
                  "32", "--out", str(out), "--json", "--resume", "--threads", "1")
    assert resumed.exit_code == 0, resumed.output
    report = json.loads(resumed.stdout)
    assert report["start_epoch"] == 3 and [r["epoch"] for r in report["history"]] == [1, 2, 3]


def test_image_folder_gives_a_3_way_head(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("cat", "dog", "fox"):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "data" / name / f"{i}.png")
    result = run("cifar-resnet18-thin", "--data", str(tmp_path / "data"), "--epochs", "1",
                 "--out", str(tmp_path / "sub" / "thin.pt"), "--threads", "1")
    assert result.exit_code == 0, result.output
    assert "3 classes" in result.stdout and "thin.pt" in result.stdout
    model, meta = checkpoint.load(tmp_path / "sub" / "thin.pt")
    assert model.fc.weight.shape == (3, 32) and meta["class_names"] == ["cat", "dog", "fox"]


def test_same_seed_same_run(tmp_path):
    def history(seed, name):
        result = run("cifar-resnet18-thin", "--data", "synthetic:n=32", "--epochs", "1",
                     "--batch", "16", "--seed", str(seed), "--out", str(tmp_path / name),
                     "--json", "--threads", "1")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["history"]

    assert history(3, "a.pt") == history(3, "b.pt")
    assert history(3, "a.pt") != history(4, "c.pt")


@pytest.mark.parametrize("args, message", [
    (["no-such-model"], "unknown model 'no-such-model'"),
    (["det-cnn-256", "--input-size", "100"], "multiples of 32"),
    (["cifar-resnet18", "--data", "/no/such/dir"], "not found"),
    (["cifar-resnet18", "--data", "synthetic:n=8", "--resume", "--out", "{tmp}/x.pt"],
     "no training state"),
])
def test_errors_are_one_line_with_exit_2(tmp_path, args, message):
    result = run(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
