"""One training epoch for `rnnedge.train.fit`: seeded batches, autocast, the grad scaler,
DDP-weighted losses, and the epoch's loss and task counts summed over ranks.

Each rank's loss is its batch mean times (its samples x world size / global batch), so DDP's
average of the ranks' gradients is the gradient of the global batch's mean loss even when
the shares of a short last batch differ. Losses and counts accumulate on the device (no
host synchronisation per step) and are checked for divergence at the end of the epoch, on
values summed over ranks, so every rank stops together.

May import: contextlib, torch, tqdm, rnnedge.distributed, rnnedge.data.torch_adapter, rnnedge.errors.
"""

import contextlib
import math
import sys

import torch
from tqdm import tqdm

from rnnedge import distributed
from rnnedge.data.torch_adapter import epoch_seed
from rnnedge.errors import RnnedgeError

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class TrainLoop:
    """Runs epochs of `model` (possibly DDP-wrapped) with `optimizer` for `task`."""

    def __init__(self, model, optimizer, scaler, task, config, runtime, world, device,
                 learning_rate, progress):
        self.model, self.optimizer, self.scaler, self.task = model, optimizer, scaler, task
        self.config, self.runtime, self.world, self.device = config, runtime, world, device
        self.learning_rate, self.progress = learning_rate, progress
        """`learning_rate(step)`: the rate of 0-based global step `step`."""

    def epoch(self, train_data, sampler, epoch, first_step):
        """Train one epoch; returns its record (mean loss, the task's counts per sample,
        last lr, and "images": the samples trained on over all ranks)."""
        config, world = self.config, self.world
        self.model.train()
        torch.manual_seed(epoch_seed(config.seed, epoch))
        train_data.set_epoch(epoch)
        sampler.set_epoch(epoch)
        loader = torch.utils.data.DataLoader(
            train_data, batch_sampler=sampler, num_workers=self.runtime.workers,
            collate_fn=self.task.collate, pin_memory=self.device.type == "cuda")
        bar = tqdm(loader, desc=f"epoch {epoch}/{config.epochs}", file=sys.stderr,
                   leave=False, disable=None if self.progress else True, unit="batch")
        sums, keys, seen, lr = None, None, 0, 0.0
        amp = self.runtime.amp
        for index, (inputs, targets) in enumerate(bar):
            lr = self.learning_rate(first_step + index)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            n = len(inputs)
            inputs, targets = _to_device(inputs, self.device), _to_device(targets, self.device)
            with torch.autocast(self.device.type, dtype=AMP_DTYPES.get(amp), enabled=bool(amp)):
                outputs = self.model(inputs)
                loss = self.task.loss(outputs, targets)
            weight = n * world.size / sampler.global_batch(index)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss if weight == 1 else loss * weight).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            counts = self.task.train_counts(outputs, targets)
            if keys is None:
                keys = sorted(counts)
                sums = torch.zeros(1 + len(keys), dtype=torch.float64, device=self.device)
            sums += torch.stack([torch.as_tensor(v, dtype=torch.float64, device=self.device)
                                 for v in [loss.detach().float() * n] + [counts[k] for k in keys]])
            seen += n
            if self.progress:
                bar.set_postfix(loss=f"{sums[0].item() / seen:.3f}", refresh=False)
        bar.close()
        totals = distributed.all_reduce_sums(sums.tolist() + [seen], world, self.device)
        images = int(totals[-1])
        mean_loss = totals[0] / images
        if not math.isfinite(mean_loss) or not all(
                math.isfinite(p.detach().abs().sum().item()) for p in self.model.parameters()):
            raise RnnedgeError(f"training diverged in epoch {epoch} (loss {mean_loss:.4g}): "
                               "lower --lr")
        return {"epoch": epoch, "train_loss": mean_loss,
                **{k: v / images for k, v in zip(keys, totals[1:-1])}, "lr": lr,
                "images": images}


def _to_device(obj, device):
    """`obj` (a tensor, or lists/tuples/dicts of them) on `device`."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device) for v in obj)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    return obj


@contextlib.contextmanager
def flush_denormals(device):
    """Flush subnormal floats to zero on the CPU while training (TensorFlow's CPU default):
    late in training tiny gradients and Adam moments go subnormal and each such operation
    costs ~100 cycles on x86; zero instead changes no accuracy figure measurably."""
    enabled = device.type == "cpu" and torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if enabled:
            torch.set_flush_denormal(False)
