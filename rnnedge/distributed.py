"""Where training runs: the device of each process, and data parallelism across processes.

`rnnedge train` runs unchanged in one process or under `torchrun` (one process per GPU or
per CPU worker, on one machine or several): torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and
LOCAL_WORLD_SIZE, `World.from_environment` reads them, and `process_group` joins the group
(NCCL on CUDA devices, gloo on CPUs). `fit` then wraps the model in DistributedDataParallel
(gradients averaged across ranks), converts BatchNorm to SyncBatchNorm by default, and draws
each rank's batches with `GlobalBatchSampler`:

- The global batch is the same whatever the world size: every epoch draws one permutation
  of the training set from (seed, epoch) exactly as a single process does, cuts it into
  global batches of `batch` samples, and gives rank r the r-th contiguous share of each
  (`batch / world` samples, the shares of a short last batch differ by at most one). The
  sum over ranks of share-weighted losses is the one-process batch loss, so DDP's average
  of gradients is the one-process gradient, and the learning-rate schedule (a function of
  the step) does not change with the world size. torch's DistributedSampler is not used:
  it pads the epoch with repeated samples and seeds by seed + epoch, so a 2-rank epoch would
  not be the 1-rank one.
- BatchNorm under DDP normalises over the global batch: torch's SyncBatchNorm on GPUs, and
  on CPUs (which SyncBatchNorm refuses) `CpuSyncBatchNorm`, the same computation with
  differentiable gloo all-reduces (two passes: mean, then centred variance), so a CPU
  world trains the one-process model up to float rounding.
- A last global batch too small to give every rank a sample (and 2 in all; 2 per rank
  without SyncBatchNorm, which BatchNorm needs) is dropped, so all ranks take the same number
  of steps.

May import: torch, rnnedge.data.torch_adapter, rnnedge.errors.
"""

import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from rnnedge.data.torch_adapter import epoch_seed
from rnnedge.errors import RnnedgeError

DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")


@dataclass(frozen=True)
class World:
    """This process's place among the training processes: global rank and count, rank and
    count on this machine."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1

    @property
    def is_main(self):
        """Rank 0 alone writes files, shows progress and evaluates."""
        return self.rank == 0

    @property
    def distributed(self):
        """More than one process trains."""
        return self.size > 1

    @classmethod
    def from_environment(cls, environ=None):
        """The world torchrun describes in the environment (one process when it is unset)."""
        environ = os.environ if environ is None else environ
        if "WORLD_SIZE" not in environ:
            return cls()
        values = {}
        for name in TORCHRUN_VARIABLES:
            text = environ.get(name, "0" if name.startswith("LOCAL_") else "")
            try:
                values[name] = int(text)
            except ValueError:
                raise RnnedgeError(f"environment variable {name}={text!r} is not an integer "
                                   "(set by torchrun)") from None
        size = values["WORLD_SIZE"]
        local_size = values["LOCAL_WORLD_SIZE"] or size
        if size < 1 or not 0 <= values["RANK"] < size or not 0 <= values["LOCAL_RANK"] < local_size:
            raise RnnedgeError(f"inconsistent torchrun environment: RANK={values['RANK']}, "
                               f"WORLD_SIZE={size}, LOCAL_RANK={values['LOCAL_RANK']}")
        return cls(values["RANK"], size, values["LOCAL_RANK"], local_size)


def usable_cpus():
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def resolve_device(spec, world=World()):
    """The torch.device of `spec` ("auto", "cpu", "cuda", "cuda:N") for this process; under
    torchrun "cuda" and "auto" mean cuda:LOCAL_RANK. RnnedgeError when CUDA is asked for and
    absent, or the index does not exist."""
    spec = str(spec).strip().lower()
    cuda = torch.cuda.is_available()
    if spec == "auto":
        spec = "cuda" if cuda else "cpu"
    if spec == "cpu":
        return torch.device("cpu")
    kind, sep, index = spec.partition(":")
    if kind != "cuda" or (sep and not index.isdigit()):
        raise RnnedgeError(f"--device {spec!r}: use {DEVICE_CHOICES}")
    if not cuda:
        raise RnnedgeError(f"--device {spec}: no CUDA device (this torch "
                           f"{'has no CUDA support' if torch.version.cuda is None else 'finds no GPU'}"
                           "); use --device cpu")
    count = torch.cuda.device_count()
    if sep and world.distributed:
        raise RnnedgeError(f"--device {spec}: under torchrun give --device cuda (each process "
                           "takes cuda:LOCAL_RANK)")
    number = int(index) if sep else world.local_rank
    if number >= count:
        raise RnnedgeError(f"--device cuda:{number}: this machine has {count} CUDA device(s)")
    return torch.device("cuda", number)


@contextmanager
def process_group(world, device):
    """Join the training processes for the duration of the block (nothing for one process)."""
    if not world.distributed:
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    try:
        dist.init_process_group(backend, rank=world.rank, world_size=world.size)
    except (RuntimeError, ValueError) as exc:
        raise RnnedgeError(f"cannot join the {world.size} training processes ({backend}): "
                           f"{str(exc).splitlines()[0]}") from None
    try:
        yield
        # Rank 0 still writes its files after the last collective; without this barrier the
        # other ranks tear down their gloo connections first, and CI once saw rank 1 abort at
        # exit ("terminate called without an active exception").
        dist.barrier()
    finally:
        dist.destroy_process_group()


def all_reduce_sums(values, world, device):
    """The element-wise sums over ranks of the float list `values` (float64)."""
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    if world.distributed:
        dist.all_reduce(tensor)
    return tensor.tolist()


def broadcast_from_main(obj, world):
    """Rank 0's `obj` on every rank (picklable plain data)."""
    if not world.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


class _AllReduceSum(torch.autograd.Function):
    """The sum over ranks of a tensor; its gradient is the sum over ranks of the gradients
    (every rank's loss depends on every rank's input through the sum)."""

    @staticmethod
    def forward(ctx, tensor):
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad):
        total = grad.clone()
        dist.all_reduce(total)
        return total


class CpuSyncBatchNorm(torch.nn.modules.batchnorm._BatchNorm):
    """BatchNorm whose training statistics are those of the global batch over all ranks,
    for CPU processes; in eval mode it is plain BatchNorm with the running statistics."""

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-D input, got {input.dim()}-D")

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        count = torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype)
        sums = _AllReduceSum.apply(torch.cat([x.sum(dims), count]))
        n = sums[-1]
        mean = sums[:-1] / n
        centred = x - mean.reshape(shape)
        var = _AllReduceSum.apply((centred * centred).sum(dims)) / n
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                          else self.momentum)
                self.running_mean.mul_(1 - factor).add_(mean.detach() * factor)
                unbiased = var.detach() * (n / (n - 1)) if n > 1 else var.detach()
                self.running_var.mul_(1 - factor).add_(unbiased * factor)
        y = centred * torch.rsqrt(var + self.eps).reshape(shape)
        if self.affine:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y


def synchronise_batchnorm(model, device):
    """Swap every BatchNorm sub-module of `model` for one that normalises over the global
    batch (SyncBatchNorm on CUDA, CpuSyncBatchNorm on CPUs) sharing its parameters and
    buffers; returns a function that swaps the originals back (the trained values are
    shared, so they survive)."""
    swaps = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.modules.batchnorm._BatchNorm):
                setattr(parent, name, _synchronised(child, device))
                swaps.append((parent, name, child))

    def undo():
        for parent, name, child in swaps:
            setattr(parent, name, child)
    return undo


def _synchronised(bn, device):
    """The synchronised twin of BatchNorm `bn`, sharing its tensors."""
    if device.type == "cuda":
        return torch.nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    twin = CpuSyncBatchNorm(bn.num_features, bn.eps, bn.momentum, bn.affine,
                            bn.track_running_stats)
    for name in ("weight", "bias"):
        setattr(twin, name, getattr(bn, name))
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        setattr(twin, name, getattr(bn, name))
    twin.train(bn.training)
    return twin


def min_last_batch(world, sync_batchnorm=True):
    """The smallest last global batch that is kept (see the module docstring)."""
    if world.size == 1:
        return 2
    return world.size if sync_batchnorm else 2 * world.size


def steps_per_epoch(samples, batch, world=World(), sync_batchnorm=True):
    """Optimizer steps per epoch: full global batches plus a last one big enough to keep."""
    return samples // batch + (samples % batch >= min_last_batch(world, sync_batchnorm))


class GlobalBatchSampler(torch.utils.data.Sampler):
    """Batches of sample indices for one rank: its share of every global batch of an epoch
    whose order is drawn from (seed, epoch), as the module docstring explains."""

    def __init__(self, samples, batch, world=World(), seed=0, sync_batchnorm=True):
        if batch < world.size:
            raise RnnedgeError(f"--batch {batch} is smaller than the {world.size} training "
                               "processes: every process needs a sample per step")
        self.samples, self.batch, self.world, self.seed = samples, batch, world, seed
        self.steps = steps_per_epoch(samples, batch, world, sync_batchnorm)
        self.epoch = 0

    def set_epoch(self, epoch):
        """Draw the order of `epoch`."""
        self.epoch = epoch

    def __len__(self):
        return self.steps

    def global_batch(self, step):
        """The number of samples in global batch `step` of an epoch (all ranks together)."""
        return min(self.batch, self.samples - step * self.batch)

    def __iter__(self):
        generator = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch))
        order = torch.randperm(self.samples, generator=generator).tolist()
        for step in range(self.steps):
            chunk = order[step * self.batch:(step + 1) * self.batch]
            yield chunk[share_start(len(chunk), self.world.rank, self.world.size):
                        share_start(len(chunk), self.world.rank + 1, self.world.size)]


def share_start(count, rank, size):
    """Where rank `rank`'s share of `count` items starts (shares differ by at most one)."""
    return rank * count // size
