"""The training recipe: hyper-parameters (`TrainConfig`), the optimizer and the learning
rate as a pure function of the step, so a resumed run and any world size follow the same
schedule. `rnnedge.train.fit` runs it; detection uses it unchanged.

Adam at lr 0.002 is the default because it trains all CIFAR variants briefly: on the synthetic
set, SGD at lr 0.05 left cifar-resnet18 and -thin at chance for 6 epochs, where Adam took them
to 99%.

May import: torch, rnnedge.errors.
"""

import math
from dataclasses import dataclass

import torch

from rnnedge.errors import RnnedgeError

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "onecycle")
DEFAULT_LR = {"sgd": 0.05, "adam": 0.002}
WARMUP_FRACTION = 0.05
"""Cosine schedule: linear warm-up over this fraction of all steps."""
ONECYCLE_RISE = 0.3
ONECYCLE_START_DIV = 25.0
ONECYCLE_END_DIV = 1e4
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters; `lr` None means the optimizer's default (DEFAULT_LR)."""

    epochs: int = 10
    batch: int = 128
    lr: float | None = None
    optimizer: str = "adam"
    schedule: str = "cosine"
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    seed: int = 0
    augment: bool = True

    @property
    def base_lr(self):
        """The peak learning rate."""
        return DEFAULT_LR[self.optimizer] if self.lr is None else self.lr

    def validate(self):
        """RnnedgeError for settings that cannot train."""
        if self.optimizer not in OPTIMIZERS:
            raise RnnedgeError(f"unknown optimizer {self.optimizer!r}: use "
                               f"{' or '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise RnnedgeError(f"unknown schedule {self.schedule!r}: use {' or '.join(SCHEDULES)}")
        if self.epochs < 1 or self.batch < 1:
            raise RnnedgeError("epochs and batch must be at least 1")
        if not self.base_lr > 0 or self.weight_decay < 0:
            raise RnnedgeError("the learning rate must be positive and weight decay non-negative")
        if not 0 <= self.seed <= MAX_SEED:
            raise RnnedgeError(f"--seed {self.seed}: give a seed in [0, 2**63 - 1]")


def learning_rate(config, step, total_steps):
    """The learning rate of 0-based `step` out of `total_steps`."""
    peak = config.base_lr
    if config.schedule == "cosine":
        warmup = int(WARMUP_FRACTION * total_steps)
        if step < warmup:
            return peak * (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return peak * 0.5 * (1.0 + math.cos(math.pi * progress))
    rise = max(1, int(ONECYCLE_RISE * total_steps))
    start, end = peak / ONECYCLE_START_DIV, peak / ONECYCLE_END_DIV
    if step < rise:
        return start + (peak - start) * step / rise
    progress = (step - rise) / max(1, total_steps - rise)
    return end + (peak - end) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_optimizer(model, config):
    """SGD or Adam; weight decay on weights with 2+ dimensions only (not biases or norms)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": rest, "weight_decay": 0.0}]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.base_lr, momentum=config.momentum,
                               nesterov=config.nesterov and config.momentum > 0)
    return torch.optim.Adam(groups, lr=config.base_lr)
