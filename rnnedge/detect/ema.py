"""An exponential moving average of a detector's weights, as YOLOv5's ModelEMA keeps.

After every optimizer step `WeightEMA.update(model)` moves each floating-point entry of the
EMA copy's state dict (weights and BatchNorm statistics) towards the model's:
`ema = d ema + (1 - d) w` with `d = DECAY (1 - exp(-updates / RAMP))`; integer entries
(BatchNorm's step counter) are copied. The ramp lets the first updates follow the fast-moving
weights. YOLOv5's constants (0.9999, 2000 updates) are made for 300 epochs on COCO: in a
15-epoch run of a few thousand images (about 4,000 steps at batch 8) d would stay near 0.85,
an average over a handful of steps, so the defaults here are 0.999 and 200 updates: an
average over the last ~1,000 steps (a few epochs of the cosine schedule's tail) once past
the first epoch. Validation and the saved checkpoint use the EMA weights; training continues
on the raw ones.

`state()` / `load_state()` carry the average and its update count as plain tensors, so
`--resume` continues it (`rnnedge.detect.task` writes it beside the training state).

May import: copy, math, torch.
"""

import copy
import math

import torch

DECAY = 0.999
RAMP = 200.0


class WeightEMA:
    """The moving average of a model's weights (see the module docstring)."""

    def __init__(self, decay=DECAY, ramp=RAMP):
        self.decay, self.ramp = float(decay), float(ramp)
        self.updates = 0
        self.model = None
        self._pending = None

    def factor(self, updates):
        """d after `updates` updates."""
        return self.decay * (1.0 - math.exp(-updates / self.ramp))

    def update(self, model):
        """One step of the average towards `model` (unwrapped from DDP)."""
        model = getattr(model, "module", model)
        if self.model is None:
            self.model = copy.deepcopy(model).eval()
            for p in self.model.parameters():
                p.requires_grad_(False)
            if self._pending is not None:
                self.model.load_state_dict(self._pending)
                self._pending = None
        self.updates += 1
        d = self.factor(self.updates)
        current = model.state_dict()
        with torch.no_grad():
            for name, value in self.model.state_dict().items():
                if value.dtype.is_floating_point:
                    value.mul_(d).add_(current[name].detach(), alpha=1.0 - d)
                else:
                    value.copy_(current[name])

    def state(self):
        """{"updates", "decay", "ramp", "weights"} as plain data and CPU tensors."""
        return {"updates": self.updates, "decay": self.decay, "ramp": self.ramp,
                "weights": {k: v.detach().cpu().clone()
                            for k, v in self.model.state_dict().items()}}

    def load_state(self, state):
        """Continue from `state()`; the weights go into the copy made at the next update."""
        self.updates = int(state["updates"])
        self.decay, self.ramp = float(state["decay"]), float(state["ramp"])
        self._pending = state["weights"]
