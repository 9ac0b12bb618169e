"""`rnnedge.train.fit` on tiny local models: the loss falls, the best epoch is saved and
matches its validation accuracy, resume continues from the saved epoch and an interrupted
run resumed ends bit-identical to an uninterrupted one, and the learning-rate schedules
follow their formulas."""

import math

import numpy as np
import pytest
import torch

from rnnedge.data.torch_adapter import Normalization, TorchImageDataset
from rnnedge.errors import RnnedgeError
from helpers import colour_dataset, tiny_model
from rnnedge.train import ClassificationTask, TrainConfig, evaluate, fit, learning_rate


def test_training_lowers_the_loss(tmp_path, saved):
    train_set, val_set = colour_dataset(96, 0), colour_dataset(48, 1)
    model = tiny_model()
    data = TorchImageDataset(train_set, Normalization.of_images(train_set.images))
    _, before = evaluate(model, data)
    config = TrainConfig(epochs=4, batch=16, optimizer="adam", lr=0.02)
    result = fit(model, train_set, val_set, out=tmp_path / "m.pt", config=config,
                 input_shape=(3, 8, 8))
    _, after = evaluate(model, data)
    assert after < 0.5 * before
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.best_score == 100.0


def test_best_epoch_saved_with_its_val_accuracy(tmp_path, saved):
    train_set, val_set = colour_dataset(60, 0), colour_dataset(60, 1)
    logs = []
    config = TrainConfig(epochs=3, batch=20, lr=0.5, weight_decay=0.0, optimizer="sgd")
    result = fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt", config=config,
                 input_shape=(3, 8, 8), zoo_name=None, model_config={"classes": 3}, log=logs.append)
    accs = [r["val_acc"] for r in result.history]
    assert result.best_score == max(accs) and result.best_epoch == accs.index(max(accs)) + 1
    assert len(logs) == 3 and "(best, saved)" in logs[0]
    last = saved[-1]
    assert last["extra"]["training"]["epoch"] == result.best_epoch
    assert last["class_names"] == ["c0", "c1", "c2"] and last["input_shape"] == (3, 8, 8)
    assert last["config"] == {"classes": 3}
    norm = Normalization.of_images(train_set.images)
    assert last["normalization"] == (list(norm.mean), list(norm.std))
    # The saved weights reproduce the recorded validation accuracy (recounted by hand).
    model = tiny_model(seed=9)
    model.load_state_dict(last["state"])
    model.eval()
    data = TorchImageDataset(val_set, norm)
    with torch.no_grad():
        predictions = [int(model(data[i][0][None]).argmax()) for i in range(len(data))]
    hits = np.array(predictions) == val_set.labels
    assert 100.0 * hits.mean() == pytest.approx(result.best_score)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt", "m.pt.state"]


def test_resume_continues_from_the_saved_epoch(tmp_path, saved):
    train_set, val_set = colour_dataset(48, 0), colour_dataset(24, 1)
    first = fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
                config=TrainConfig(epochs=1, batch=16, lr=0.2, optimizer="sgd"), input_shape=(3, 8, 8))
    state = torch.load(tmp_path / "m.pt.state", weights_only=True)
    assert state["epoch"] == 1 and state["history"] == first.history
    seen = []
    resumed = fit(tiny_model(seed=123), train_set, val_set, out=tmp_path / "m.pt",
                  config=TrainConfig(epochs=3, batch=16, lr=0.2, optimizer="sgd"), input_shape=(3, 8, 8),
                  resume=True, log=seen.append)
    assert resumed.start_epoch == 2 and [r["epoch"] for r in resumed.history] == [1, 2, 3]
    assert resumed.history[0] == first.history[0]
    assert [line.split(":")[0] for line in seen] == ["epoch 2/3", "epoch 3/3"]
    again = fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
                config=TrainConfig(epochs=3, batch=16, lr=0.2, optimizer="sgd"), input_shape=(3, 8, 8),
                resume=True)
    assert again.start_epoch == 4 and again.history == resumed.history  # nothing left to do


def test_interrupted_run_resumes_bit_exactly(tmp_path, saved):
    train_set, val_set = colour_dataset(48, 0), colour_dataset(24, 1)
    config = TrainConfig(epochs=3, batch=16, lr=0.2, seed=4, optimizer="sgd")
    straight = tiny_model()
    full = fit(straight, train_set, val_set, out=tmp_path / "a.pt", config=config,
               input_shape=(3, 8, 8))

    class CrashInEpoch3(ClassificationTask):
        """Interrupted at the first step of epoch 3 (48 samples / 16 = 3 steps per epoch)."""
        steps = 0

        def loss(self, outputs, targets):
            self.steps += 1
            if self.steps == 7:
                raise KeyboardInterrupt
            return super().loss(outputs, targets)

    with pytest.raises(KeyboardInterrupt):
        fit(tiny_model(), train_set, val_set, out=tmp_path / "b.pt", config=config,
            input_shape=(3, 8, 8), task=CrashInEpoch3())
    resumed_model = tiny_model(seed=5)
    resumed = fit(resumed_model, train_set, val_set, out=tmp_path / "b.pt", config=config,
                  input_shape=(3, 8, 8), resume=True)
    assert resumed.start_epoch == 3
    assert resumed.history == full.history
    assert all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(),
                                                 resumed_model.state_dict().values()))


def test_resume_errors(tmp_path, saved):
    train_set, val_set = colour_dataset(24, 0), colour_dataset(12, 1)
    with pytest.raises(RnnedgeError, match="no training state"):
        fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt", config=TrainConfig(epochs=1),
            input_shape=(3, 8, 8), resume=True)
    fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt", config=TrainConfig(epochs=1),
        input_shape=(3, 8, 8))
    with pytest.raises(RnnedgeError, match="seed was 0 in the saved run, now 1"):
        fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
            config=TrainConfig(epochs=2, seed=1), input_shape=(3, 8, 8), resume=True)
    (tmp_path / "m.pt.state").write_bytes(b"garbage")
    with pytest.raises(RnnedgeError, match="not a readable training state"):
        fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt", config=TrainConfig(epochs=2),
            input_shape=(3, 8, 8), resume=True)


def test_head_and_config_errors(tmp_path, saved):
    train_set, val_set = colour_dataset(24, 0), colour_dataset(12, 1)
    with pytest.raises(RnnedgeError, match="outputs \\(5,\\) logits but the dataset has 3"):
        fit(tiny_model(classes=5), train_set, val_set, out=tmp_path / "m.pt",
            config=TrainConfig(epochs=1), input_shape=(3, 8, 8))
    with pytest.raises(RnnedgeError, match="does not accept"):
        fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
            config=TrainConfig(epochs=1), input_shape=(4, 8, 8))
    with pytest.raises(RnnedgeError, match="unknown optimizer"):
        fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
            config=TrainConfig(optimizer="lbfgs"), input_shape=(3, 8, 8))
    with pytest.raises(RnnedgeError, match="diverged"):
        fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
            config=TrainConfig(epochs=2, batch=4, lr=1e30, optimizer="sgd"), input_shape=(3, 8, 8))
    assert not (tmp_path / "m.pt").exists()


def test_last_batch_of_one_is_dropped(tmp_path, saved):
    train_set, val_set = colour_dataset(33, 0), colour_dataset(12, 1)  # 2 x 16 + 1
    result = fit(tiny_model(), train_set, val_set, out=tmp_path / "m.pt",
                 config=TrainConfig(epochs=2, batch=16), input_shape=(3, 8, 8))
    assert len(result.history) == 2
    with pytest.raises(RnnedgeError, match="train split has 1 samples"):
        fit(tiny_model(), colour_dataset(1, 0), val_set, out=tmp_path / "m.pt",
            config=TrainConfig(epochs=1), input_shape=(3, 8, 8))


def test_cosine_schedule_formula():
    config = TrainConfig(lr=0.1, schedule="cosine")
    total = 200  # warm-up: 10 steps
    assert learning_rate(config, 0, total) == pytest.approx(0.01)
    assert learning_rate(config, 9, total) == pytest.approx(0.1)
    assert learning_rate(config, 10, total) == pytest.approx(0.1)
    assert learning_rate(config, 105, total) == pytest.approx(0.05)
    last = 0.05 * (1 + math.cos(math.pi * 189 / 190))
    assert learning_rate(config, 199, total) == pytest.approx(last)


def test_onecycle_schedule_formula():
    config = TrainConfig(lr=0.1, schedule="onecycle", optimizer="adam")
    total = 100  # rise: 30 steps from 0.004 to 0.1, then cosine down to 1e-5
    assert learning_rate(config, 0, total) == pytest.approx(0.004)
    assert learning_rate(config, 15, total) == pytest.approx(0.052)
    assert learning_rate(config, 30, total) == pytest.approx(0.1)
    assert learning_rate(config, 65, total) == pytest.approx(1e-5 + (0.1 - 1e-5) * 0.5)
    assert learning_rate(config, 100, total) == pytest.approx(1e-5)
