"""rnnedge.distributed without launching processes: the world from torchrun's environment,
device resolution, the global-batch sampler against PyTorch's own shuffled DataLoader, and
CpuSyncBatchNorm against torch.nn.BatchNorm2d in a one-process gloo group."""

import pytest
import torch
import torch.distributed as dist

from rnnedge.data.torch_adapter import epoch_seed
from rnnedge.distributed import (CpuSyncBatchNorm, GlobalBatchSampler, World, resolve_device,
                                 steps_per_epoch, synchronise_batchnorm)
from rnnedge.errors import RnnedgeError


def test_world_from_torchrun_environment():
    assert World.from_environment({}) == World()
    env = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    world = World.from_environment(env)
    assert world == World(3, 4, 1, 2) and world.distributed and not world.is_main
    with pytest.raises(RnnedgeError, match="RANK='x' is not an integer"):
        World.from_environment({**env, "RANK": "x"})
    with pytest.raises(RnnedgeError, match="inconsistent torchrun environment"):
        World.from_environment({**env, "RANK": "4"})


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(RnnedgeError, match="use auto, cpu, cuda or cuda:N"):
        resolve_device("tpu")
    with pytest.raises(RnnedgeError, match="use auto, cpu, cuda or cuda:N"):
        resolve_device("cuda:x")
    if torch.cuda.is_available():
        assert resolve_device("auto").type == "cuda"
        with pytest.raises(RnnedgeError, match="CUDA device"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")
    else:
        assert resolve_device("auto") == torch.device("cpu")
        with pytest.raises(RnnedgeError, match="no CUDA device"):
            resolve_device("cuda")


def torch_batches(samples, batch, seed, epoch):
    """PyTorch's RandomSampler batched by its BatchSampler, the generator seeded as rnnedge
    seeds an epoch (a last batch of one dropped: BatchNorm cannot train on it)."""
    generator = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    sampler = torch.utils.data.RandomSampler(range(samples), generator=generator)
    return list(torch.utils.data.BatchSampler(sampler, batch, drop_last=samples % batch == 1))


@pytest.mark.parametrize("samples, batch", [(100, 32), (97, 32), (65, 32), (64, 16)])
def test_one_rank_batches_are_pytorchs(samples, batch):
    sampler = GlobalBatchSampler(samples, batch, seed=7)
    for epoch in (1, 2):
        sampler.set_epoch(epoch)
        assert list(sampler) == torch_batches(samples, batch, 7, epoch)


@pytest.mark.parametrize("world_size", [2, 3, 4])
def test_ranks_split_every_global_batch(world_size):
    samples, batch = 103, 24  # last batch 7: kept for up to 7 ranks
    reference = torch_batches(samples, batch, 5, 3)
    shares = []
    for rank in range(world_size):
        sampler = GlobalBatchSampler(samples, batch, World(rank, world_size), seed=5)
        sampler.set_epoch(3)
        shares.append(list(sampler))
    assert len(reference) == steps_per_epoch(samples, batch, World(0, world_size))
    for step, expected in enumerate(reference):
        parts = [share[step] for share in shares]
        assert sum(parts, []) == expected
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
        assert sampler.global_batch(step) == len(expected)


def test_small_last_batches_are_dropped_for_every_rank():
    assert steps_per_epoch(66, 32, World(0, 1)) == 3  # 2 left: kept on one process
    assert steps_per_epoch(65, 32, World(0, 1)) == 2  # 1 left: BatchNorm cannot train on it
    assert steps_per_epoch(66, 32, World(0, 4)) == 2  # 2 left for 4 ranks: dropped
    assert steps_per_epoch(68, 32, World(0, 4)) == 3
    assert steps_per_epoch(68, 32, World(0, 4), sync_batchnorm=False) == 2  # 1 per rank
    with pytest.raises(RnnedgeError, match="smaller than the 4 training processes"):
        GlobalBatchSampler(100, 3, World(0, 4))


@pytest.fixture
def one_process_group(tmp_path):
    dist.init_process_group("gloo", rank=0, world_size=1,
                            store=dist.FileStore(str(tmp_path / "store"), 1))
    yield
    dist.destroy_process_group()


@pytest.mark.parametrize("affine, momentum", [(True, 0.1), (False, None)])
def test_cpu_sync_batchnorm_is_batchnorm_on_one_rank(one_process_group, affine, momentum):
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3),
                                    torch.nn.BatchNorm2d(5, affine=affine, momentum=momentum))
    synced = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3),
                                 torch.nn.BatchNorm2d(5, affine=affine, momentum=momentum))
    synced.load_state_dict(reference.state_dict())
    undo = synchronise_batchnorm(synced, torch.device("cpu"))
    assert isinstance(synced[1], CpuSyncBatchNorm)
    x = torch.randn(6, 3, 9, 9) * 3 + 1
    upstream = torch.randn(6, 5, 7, 7)
    for _ in range(2):
        a, b = reference(x), synced(x)
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)
        (a * upstream).sum().backward()
        (b * upstream).sum().backward()
    for p, q in zip(reference.parameters(), synced.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-4)
    undo()
    assert type(synced[1]) is torch.nn.BatchNorm2d  # the original, with the trained buffers
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(synced.state_dict()[key], value, rtol=1e-5, atol=1e-6)
    synced.eval(), reference.eval()
    torch.testing.assert_close(synced(x), reference(x), rtol=1e-5, atol=1e-5)
