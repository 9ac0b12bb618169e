"""`rnnedge train` runtime options and hostile inputs: --device, --amp, --workers, --threads,
--seed, and resume states that are past --epochs, incomplete or mistyped. Bad input gives one
line `error: ...`, exit code 2 and no file."""

import pytest
import torch
from click.testing import CliRunner

from rnnedge.cli import main
from rnnedge.train import Runtime, TrainConfig, fit
from test_train_fit import colour_dataset, saved, tiny_model  # noqa: F401 (saved: a fixture)

FAST = ["cifar-resnet18-thin", "--data", "synthetic:n=16", "--epochs", "1", "--batch", "8",
        "--threads", "1"]


def run(*args):
    return CliRunner().invoke(main, ["train", *args])


def assert_one_line_error(result, message, folder):
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not any(folder.iterdir()), list(folder.iterdir())


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_is_one_line(tmp_path):
    result = run(*FAST, "--device", "cuda", "--out", str(tmp_path / "m.pt"))
    assert_one_line_error(result, "--device cuda: no CUDA device", tmp_path)


@pytest.mark.parametrize("args, message", [
    (["--threads", "100000"], "--threads 100000: give 1 to"),
    (["--workers", "100000"], "--workers 100000: give 0"),
    (["--device", "npu"], "use auto, cpu, cuda or cuda:N"),
    (["--data", "synthetic:n=16,seed=-1"], "synthetic seed must be in [0, 2**63)"),
])
def test_hostile_options_are_one_line(tmp_path, args, message):
    result = run(*FAST, *args, "--out", str(tmp_path / "m.pt"))
    assert_one_line_error(result, message, tmp_path)


def test_negative_seed_is_a_usage_error(tmp_path):
    result = run(*FAST, "--seed", "-1", "--out", str(tmp_path / "m.pt"))
    assert result.exit_code == 2 and "--seed" in result.stderr and not any(tmp_path.iterdir())


@pytest.fixture
def one_epoch(tmp_path, saved):  # noqa: F811
    """A 1-epoch run's state file, for resumes to start from."""
    train_set, val_set = colour_dataset(32, 0), colour_dataset(16, 1)
    fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
        config=TrainConfig(epochs=1, batch=16), input_shape=(3, 8, 8))
    return tmp_path, train_set, val_set


def resume(tmp_path, train_set, val_set, epochs):
    return fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
               config=TrainConfig(epochs=epochs, batch=16), input_shape=(3, 8, 8), resume=True)


def test_resume_past_epochs_is_an_error(one_epoch):
    tmp_path, train_set, val_set = one_epoch
    resume(tmp_path, train_set, val_set, 2)
    with pytest.raises(Exception, match="already at epoch 2, past --epochs 1"):
        resume(tmp_path, train_set, val_set, 1)
    (tmp_path / "m.pt").unlink()
    with pytest.raises(Exception, match="nothing left to train and the checkpoint .* is gone"):
        resume(tmp_path, train_set, val_set, 2)


@pytest.mark.parametrize("field, value, message", [
    ("epoch", None, "field 'epoch' is missing or not a positive integer"),
    ("epoch", "1", "field 'epoch'"),
    ("run", {"seed": 0}, "field 'run'"),
    ("model", [1, 2], "field 'model' is missing or not a dict of tensors"),
    ("optimizer", {}, "field 'optimizer'"),
    ("best_epoch", 7, "field 'best_epoch'"),
    ("best_score", float("nan"), "field 'best_score'"),
    ("history", [], "field 'history'"),
    ("normalization", {"mean": [0.5] * 3, "std": [0.0, 0.2, 0.2]}, "std must be positive"),
    ("normalization", {"mean": "x", "std": [1.0]}, "lists of finite numbers"),
])
def test_damaged_state_fields_are_named(one_epoch, field, value, message):
    tmp_path, train_set, val_set = one_epoch
    path = tmp_path / "m.pt.state"
    state = torch.load(path, weights_only=True)
    if value is None:
        del state[field]
    else:
        state[field] = value
    torch.save(state, path)
    with pytest.raises(Exception, match=message) as caught:
        resume(tmp_path, train_set, val_set, 2)
    assert type(caught.value).__name__ == "RnnedgeError"


def test_workers_give_the_same_run(tmp_path, saved):  # noqa: F811
    train_set, val_set = colour_dataset(48, 0), colour_dataset(16, 1)
    histories = []
    for workers in (0, 2):
        model = tiny_model()
        result = fit(model, train_set, val_set, out=tmp_path / f"w{workers}.pt",
                     config=TrainConfig(epochs=2, batch=16), input_shape=(3, 8, 8),
                     runtime=Runtime(workers=workers))
        histories.append((result.history, model.state_dict()))
    (first, a), (second, b) = histories
    assert first == second and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_amp_on_cpu_trains(tmp_path, saved, amp):  # noqa: F811
    train_set, val_set = colour_dataset(96, 0), colour_dataset(48, 1)
    result = fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
                 config=TrainConfig(epochs=4, batch=16, lr=0.02), input_shape=(3, 8, 8),
                 runtime=Runtime(device="cpu", amp=amp))
    assert result.history[-1]["train_loss"] < 0.7 * result.history[0]["train_loss"]
    state = torch.load(tmp_path / "m.pt.state", weights_only=True)
    assert (state["scaler"] is not None) == (amp == "fp16")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_amp_trains(tmp_path):
    result = run("cifar-resnet18-rnn", "--data", "synthetic:n=256", "--epochs", "2",
                 "--batch", "64", "--device", "cuda", "--amp", "--out", str(tmp_path / "m.pt"),
                 "--json")
    assert result.exit_code == 0, result.output
    import json

    report = json.loads(result.stdout)
    assert report["device"].startswith("cuda") and len(report["throughput"]) == 2
