"""Data-parallel training on CPU with gloo (rnnedge.distributed): torchrun with two processes
trains the one-process model with the same global batch, a resumed two-process run equals an
uninterrupted one (and resumes on one process), and rank 0 alone writes files.

SGD is used where weights are compared: one SGD step of 2 ranks equals 1 rank to float
rounding (~1e-7; 1e-5 after 4 steps), while Adam divides each gradient by its own running magnitude, so the
rounding of near-zero gradients (summed in a different order by the all-reduce) moves those
weights by up to a fraction of the learning rate; with Adam the runs agree in their metrics.
"""

import json
import os
import subprocess
import sys

import pytest
import torch

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
"""torchrun of this interpreter (the `torchrun` script on PATH may belong to another)."""

RECORD_WRITES = '''
import os
_replace = os.replace
def _recorded(src, dst, *args, **kwargs):
    with open(os.environ["RNNEDGE_WRITE_LOG"], "a") as log:
        log.write(f"{os.environ.get('RANK', '-')} {os.path.basename(os.fspath(dst))}\\n")
    _replace(src, dst, *args, **kwargs)
    if os.environ.get("RNNEDGE_STOP_AFTER_STATE") and os.fspath(dst).endswith(".state"):
        os._exit(3)  # interrupted right after the first epoch's state is on disk
os.replace = _recorded
'''
"""sitecustomize for the runs: logs the rank of every os.replace (every rnnedge file is
written to a temporary file and moved into place), and with RNNEDGE_STOP_AFTER_STATE set
kills the run once it has written a training state."""

ARGS = ["cifar-resnet18-thin", "--data", "synthetic:n=64", "--batch", "32", "--optimizer",
        "sgd", "--lr", "0.05", "--threads", "1", "--json"]
"""64 samples, global batch 32: 2 steps per epoch of 16 samples per rank."""
TOLERANCE = 1e-4
"""Largest weight difference between world sizes after one epoch (2 SGD steps; 1.5e-5
measured): float rounding, the all-reduce sums in another order. Early training at lr 0.05
amplifies it about tenfold per step (1.5e-3 after 4 steps), so world sizes are compared over
one epoch from the same starting point."""


def _train(tmp_path, name, processes, *extra, interrupt=False):
    """Run `rnnedge train` (under torchrun when processes > 1); returns (report, writers),
    or None when `interrupt` stops it after its first epoch."""
    (tmp_path / "site").mkdir(exist_ok=True)
    (tmp_path / "site" / "sitecustomize.py").write_text(RECORD_WRITES)
    log = tmp_path / f"{name}.writes"
    log.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")]),
        "RNNEDGE_WRITE_LOG": str(log), **({"RNNEDGE_STOP_AFTER_STATE": "1"} if interrupt else {})}
    command = [*TORCHRUN, f"--nproc-per-node={processes}"] if processes > 1 else [sys.executable]
    done = subprocess.run([*command, "-m", "rnnedge", "train", *ARGS, *extra,
                           "--out", str(tmp_path / f"{name}.pt")],
                          capture_output=True, text=True, env=env, timeout=600)
    if interrupt:
        assert done.returncode != 0 and (tmp_path / f"{name}.pt.state").is_file()
        return None
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, done.stdout  # rank 0 alone prints
    writers = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return json.loads(lines[0]), writers


def _weights(tmp_path, name):
    return torch.load(tmp_path / f"{name}.pt.state", weights_only=True)["model"]


def _max_difference(a, b):
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a
               if a[k].dtype.is_floating_point)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One and two processes for 1 epoch; two for 2 epochs straight, and the same run
    interrupted after epoch 1 (its files kept in snapshot/ for the resume tests)."""
    tmp = tmp_path_factory.mktemp("ddp")
    reports = {"one": _train(tmp, "one", 1, "--epochs", "1"),
               "half": _train(tmp, "half", 2, "--epochs", "1"),
               "two": _train(tmp, "two", 2, "--epochs", "2")}
    _train(tmp, "resumed", 2, "--epochs", "2", interrupt=True)
    (tmp / "snapshot").mkdir()
    for name in ("resumed.pt", "resumed.pt.state"):
        (tmp / "snapshot" / name).write_bytes((tmp / name).read_bytes())
    return tmp, reports


@pytest.mark.slow
def test_two_processes_train_the_one_process_model(runs):
    tmp, reports = runs
    (one, _), (half, _), (two, writers) = reports["one"], reports["half"], reports["two"]
    assert half["world_size"] == 2 and one["world_size"] == 1
    assert _max_difference(_weights(tmp, "one"), _weights(tmp, "half")) < TOLERANCE
    for a, b in zip(one["history"], half["history"]):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["train_acc"] == b["train_acc"] and a["val_acc"] == b["val_acc"]
        assert a["lr"] == b["lr"]  # the schedule does not depend on the world size
    assert [r["images_per_s"] > 0 for r in two["throughput"]] == [True, True]
    # rank 0 alone wrote: the state every epoch, the checkpoint when validation improved
    improved = 1 + (two["history"][1]["val_acc"] > two["history"][0]["val_acc"])
    assert sorted(map(tuple, writers)) == [("0", "two.pt")] * improved + \
        [("0", "two.pt.state")] * 2
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith("two.")) == \
        ["two.pt", "two.pt.state", "two.writes"]


@pytest.mark.slow
def test_resumed_two_process_run_equals_the_uninterrupted_one(runs):
    tmp, reports = runs
    resumed, writers = _train(tmp, "resumed", 2, "--epochs", "2", "--resume")
    assert resumed["start_epoch"] == 2 and {rank for rank, _ in writers} == {"0"}
    straight, again = _weights(tmp, "two"), _weights(tmp, "resumed")
    assert all(torch.equal(straight[k], again[k]) for k in straight)
    assert resumed["history"] == reports["two"][0]["history"]


@pytest.mark.slow
def test_two_process_state_resumes_on_one_process(runs):
    tmp, _ = runs
    for name in ("pt", "pt.state"):
        (tmp / f"single.{name}").write_bytes((tmp / "snapshot" / f"resumed.{name}").read_bytes())
    report, _ = _train(tmp, "single", 1, "--epochs", "2", "--resume")
    assert report["start_epoch"] == 2 and report["world_size"] == 1
    assert _max_difference(_weights(tmp, "single"), _weights(tmp, "two")) < TOLERANCE


def _uneven_step(rank, store_path, out):
    """Rank `rank` of 2: the gradients of one step on its share (2 or 3) of 5 samples."""
    import torch.distributed as dist

    from rnnedge.distributed import synchronise_batchnorm

    dist.init_process_group("gloo", rank=rank, world_size=2,
                            store=dist.FileStore(store_path, 2))
    model = _small_model()
    synchronise_batchnorm(model, torch.device("cpu"))
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    images, labels = _five_samples()
    share = slice(0, 2) if rank == 0 else slice(2, 5)
    weight = (share.stop - share.start) * 2 / 5  # as rnnedge.train_loop weights a share
    loss = torch.nn.functional.cross_entropy(ddp(images[share]), labels[share]) * weight
    loss.backward()
    if rank == 0:
        torch.save([p.grad for p in model.parameters()], out)
    dist.destroy_process_group()


def _small_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3), torch.nn.BatchNorm2d(6),
                               torch.nn.ReLU(), torch.nn.Conv2d(6, 6, 3),
                               torch.nn.BatchNorm2d(6, affine=False), torch.nn.ReLU(),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(6, 3))


def _five_samples():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(5, 3, 9, 9, generator=generator), torch.tensor([0, 1, 2, 1, 0])


@pytest.mark.slow
def test_uneven_shares_give_the_whole_batch_gradient(tmp_path):
    """A short last batch split 2 + 3: the weighted losses, CpuSyncBatchNorm and DDP's
    average give the gradient of one process on all 5 samples."""
    import torch.multiprocessing as mp

    out = tmp_path / "grads.pt"
    mp.spawn(_uneven_step, args=(str(tmp_path / "store"), str(out)), nprocs=2)
    model = _small_model()
    images, labels = _five_samples()
    torch.nn.functional.cross_entropy(model(images), labels).backward()
    for expected, got in zip((p.grad for p in model.parameters()),
                             torch.load(out, weights_only=True)):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
