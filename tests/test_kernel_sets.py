"""Kernel-set selection and the parallel check: `--kernels optimized|reference` on run, check
and firmware gives TFLM's bytes either way; `check --jobs N` gives exactly `--jobs 1`'s
numbers (firmware_sim.parallel keeps every sample's position)."""

import gc
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge import tinyml_models
from rnnedge.cli import main
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim import toolchain
from rnnedge.firmware_sim.backends import make_backend
from rnnedge.firmware_sim.parallel import (ParallelRunner, available_cores, resolve_jobs,
                                           run_samples)
from test_firmware_runtime import model_inputs
from helpers import export_zoo_model


@pytest.fixture(scope="module")
def thin(tmp_path_factory):
    """An int8 export of cifar-resnet18-thin (with rnnedge's preprocessing metadata)."""
    return export_zoo_model(tmp_path_factory, "cifar-resnet18-thin")


@pytest.mark.slow
def test_parallel_runs_equal_one_job_and_tflm(thin):
    x = model_inputs(thin, 37, seed=5)  # not a multiple of the chunk size
    one = run_samples("c", thin, x, jobs=1)[0]
    for jobs in (2, 3):
        assert np.array_equal(run_samples("c", thin, x, jobs=jobs)[0], one)
    assert np.array_equal(one, make_backend("tflm", thin)(x)[0])
    assert run_samples("c", thin, x[:0], jobs=2)[0].shape == (0,) + one.shape[1:]


def _reaped(pid) -> bool:
    """True when process `pid` (a child of this one) has exited and been waited for."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_runner_is_reusable_reports_progress_and_ends_its_engine():
    path = tinyml_models.tflite_path("autoencoder")
    x = model_inputs(path, 70, seed=2)
    one = run_samples("c", path, x, jobs=1)[0]
    runner = ParallelRunner("c", path, jobs=2)
    seen = []
    assert np.array_equal(runner(x, lambda done, total: seen.append((done, total)))[0], one)
    assert seen[-1] == (70, 70) and all(total == 70 for _, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert np.array_equal(runner(x[:5])[0], one[:5])  # a second call, fewer than a chunk
    pid = runner._engine._pid
    runner.close()
    assert _reaped(pid)
    with pytest.raises(RnnedgeError, match="closed"):
        runner(x)
    lost = ParallelRunner("c", path, jobs=2)
    pid = lost._engine._pid
    del lost
    gc.collect()
    assert _reaped(pid)


def test_a_failing_worker_is_one_error_and_no_process_is_left(monkeypatch):
    from rnnedge.firmware_sim import backends

    path = tinyml_models.tflite_path("autoencoder")
    x = model_inputs(path, 90, seed=4)
    x[57] = 77  # a sample only a later chunk holds
    real = backends.make_backend

    def poisoned(*args, **kwargs):  # inherited by the engine and its workers (fork)
        run = real(*args, **kwargs)

        def guarded(batch):
            if (batch.reshape(len(batch), -1) == 77).all(axis=1).any():
                raise RnnedgeError("sample 57 is poisoned")
            return run(batch)
        guarded.output_specs = run.output_specs
        return guarded
    monkeypatch.setattr(backends, "make_backend", poisoned)
    runner = ParallelRunner("c", path, jobs=3)
    with pytest.raises(RnnedgeError, match="sample 57 is poisoned"):
        runner(x)
    assert np.array_equal(runner(x[:40])[0], run_samples("c", path, x[:40], jobs=1)[0])
    pid = runner._engine._pid
    runner.close()
    assert _reaped(pid)


def test_a_model_the_backend_refuses_is_the_same_error_with_any_jobs(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x10\x00\x00\x00TFL3" + bytes(64))
    with pytest.raises(RnnedgeError) as one:
        ParallelRunner("c", bad, jobs=1)
    runner = ParallelRunner("c", bad, jobs=2)  # compiled in the engine: the call says so
    with pytest.raises(RnnedgeError) as two:
        runner(np.zeros((3, 4), np.int8))
    assert str(two.value) == str(one.value)
    runner.close()


def test_jobs_default_and_refusals():
    assert resolve_jobs("c", None) == available_cores() >= 1
    assert resolve_jobs("tflite", None) == 1
    with pytest.raises(RnnedgeError, match="c backend only"):
        resolve_jobs("tflm", 2)
    with pytest.raises(RnnedgeError, match="at least 1"):
        resolve_jobs("c", 0)


@pytest.mark.slow
def test_check_jobs_gives_the_numbers_of_one_job(thin):
    def check(*extra):
        result = CliRunner().invoke(main, ["check", thin, "--data", "synthetic:n=300",
                                           "--backend", "c", "--json", *extra])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    one = check("--jobs", "1")
    assert one["samples"] > 0
    assert check("--jobs", "2") == one
    assert check("--jobs", "2", "--kernels", "reference") == one


def test_check_jobs_on_another_backend_is_a_usage_error():
    path = tinyml_models.tflite_path("autoencoder")
    result = CliRunner().invoke(main, ["check", path, "--data", "synthetic", "--backend",
                                       "tflite", "--jobs", "2"])
    assert result.exit_code == 2
    assert "error:" in result.output


@pytest.mark.slow
def test_run_with_either_kernel_set_gives_tflm_bytes(tmp_path):
    path = tinyml_models.tflite_path("ds_cnn")
    x = model_inputs(path, 3, seed=9)
    np.save(tmp_path / "x.npy", x)
    expected = make_backend("tflm", path)(x)[0]
    for kernels in ("optimized", "reference"):
        out = tmp_path / f"{kernels}.npy"
        result = CliRunner().invoke(main, ["run", path, "--input", str(tmp_path / "x.npy"),
                                           "--output", str(out), "--kernels", kernels,
                                           "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["kernels"] == kernels
        assert np.array_equal(np.load(out), expected)


@pytest.mark.slow
@pytest.mark.parametrize("kernels", ["optimized", "reference"])
def test_firmware_ships_the_chosen_kernel_set(kernels, tmp_path):
    path = tinyml_models.tflite_path("ds_cnn")
    out = tmp_path / "fw"
    result = CliRunner().invoke(main, ["firmware", path, "-o", str(out), "--planner", "inplace",
                                       "--kernels", kernels, "--build", "host", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kernels"] == kernels
    conv = (out / "kernels" / "conv_2d.c").read_text()
    assert ("optimised" in conv) == (kernels == "optimized")
    assert (out / "kernels" / "include" / "rnnedge_optimized.h").exists()
    x = model_inputs(path, 2, seed=4)
    assert toolchain.run_host(out / "firmware", x.tobytes()) == \
        make_backend("tflm", path)(x)[0].tobytes()


@pytest.mark.slow
def test_check_jobs_benchmark_runs_the_command_and_compares_its_json(thin):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "check_jobs", Path(__file__).resolve().parent.parent / "benchmarks" / "check_jobs.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    row = bench.measure("thin", Path(thin), images=40, jobs=2, repeats=1)
    assert row["identical_json"] and row["images"] == 40
    assert set(row["median_s"]) == {"1", "2"}
    assert row["ratio_median"] == row["median_s"]["2"] / row["median_s"]["1"]
