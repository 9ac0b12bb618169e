"""The detector's weight EMA: the update rule against the formula written out by hand, the
checkpoint holding the averaged weights, and a resumed run reproducing an uninterrupted one
(the EMA continued from `<out>.ema`)."""

import math

import pytest
import torch
from torch import nn

from rnnedge.detect.ema import WeightEMA


def test_ema_update_follows_the_formula():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = WeightEMA(decay=0.9, ramp=2.0)
    snapshots = []
    for _ in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        model.train()
        model(torch.randn(4, 3))  # moves the BatchNorm statistics and step counter
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        ema.update(model)
    d = [0.9 * (1 - math.exp(-u / 2.0)) for u in (1, 2, 3)]
    for name, value in ema.model.state_dict().items():
        w = [s[name] for s in snapshots]
        if value.dtype.is_floating_point:
            # the copy is made at the first update, so it starts at w1
            expected = d[2] * (d[1] * w[0] + (1 - d[1]) * w[1]) + (1 - d[2]) * w[2]
            assert torch.allclose(value, expected, atol=1e-6), name
        else:
            assert torch.equal(value, w[2])
    assert not any(p.requires_grad for p in ema.model.parameters())
    assert ema.updates == 3 and ema.factor(3) == pytest.approx(d[2])


@pytest.mark.slow
def test_checkpoint_holds_the_ema_and_resume_reproduces_the_run(tmp_path, monkeypatch):
    import rnnedge.train
    from rnnedge.detect.train import train_detector
    from rnnedge.train import TrainConfig

    class Interrupted(Exception):
        pass

    def run(out, epochs, resume=False):
        return train_detector("det-cnn-256", "synthetic-detect:n=8", out=str(out),
                              config=TrainConfig(epochs=epochs, batch=4), input_size="64",
                              resume=resume, threads=1)

    straight = tmp_path / "a" / "d.pt"
    run(straight, 2)
    resumed = tmp_path / "b" / "d.pt"
    save_state = rnnedge.train.save_state

    def stop_after_epoch_1(path, **state):  # the same 2-epoch run, killed after epoch 1
        save_state(path, **state)
        if state["epoch"] == 1:
            raise Interrupted

    monkeypatch.setattr(rnnedge.train, "save_state", stop_after_epoch_1)
    with pytest.raises(Interrupted):
        run(resumed, 2)
    monkeypatch.setattr(rnnedge.train, "save_state", save_state)
    # after one epoch the checkpoint (epoch 1, the only one) is the EMA, not the raw weights
    first = torch.load(resumed, weights_only=True)["state_dict"]
    ema = torch.load(f"{resumed}.ema", weights_only=True)
    raw = torch.load(f"{resumed}.state", weights_only=True)["model"]
    assert ema["epoch"] == 1 and ema["updates"] == 2  # 8 images, batch 4
    assert all(torch.equal(v, ema["weights"][k]) for k, v in first.items())
    assert any(not torch.equal(v, raw[k]) for k, v in first.items() if v.dtype.is_floating_point)
    run(resumed, 2, resume=True)
    a = torch.load(straight, weights_only=True)
    b = torch.load(resumed, weights_only=True)
    assert a["extra"]["training"]["epoch"] == b["extra"]["training"]["epoch"]
    for name, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][name]), name
    assert torch.load(f"{resumed}.ema", weights_only=True)["updates"] == 4
