"""The main job: zoo report against the paper and one Table-6 row, with every figure matched
to the stage that produced it."""

import time

import pytest

from rnnedge.arena_report import arena_report
from rnnedge.pipeline import PipelineSettings, run_pipeline
from rnnedge.tflite import read_model


@pytest.mark.slow
def test_pipeline_row_matches_its_stages(tmp_path):
    settings = PipelineSettings(workdir=str(tmp_path), models=("cifar-resnet18-thin",), epochs=1,
                                train_samples=400, check_samples=100, progress=False)
    started = time.perf_counter()
    result = run_pipeline(settings)
    elapsed = time.perf_counter() - started
    assert all(r["rows_matching"] == r["rows_checked"] for r in result["zoo"])
    assert {r["model"]: r["params"] for r in result["zoo"]}["cifar-resnet18-rnn"] == 156_338
    (row,) = result["models"]
    report = arena_report(read_model(row["tflite"]), row["tflite"], planner="inplace")
    assert row["arena"] == report["arena"]
    assert row["total_memory"] == report["weight_bytes"] + report["arena"]["inplace"]
    assert row["params"] == 153_834  # Table 5's thin variant with a 10-way head: 156,804 - 90 * 33
    assert row["paper"] == {"params": "156K", "arena": "24K", "total_memory": "180K", "accuracy": 57.1}
    assert row["drop_pp"] == pytest.approx(row["float_top1"] - row["int8_top1"])
    # where the time went: stages in order, together no longer than the whole run
    assert list(row["seconds"]) == ["train", "export", "arena", "check"]
    stages = [result["seconds"]["zoo"], *row["seconds"].values()]
    assert all(t["wall"] > 0 and t["cpu"] >= 0 for t in stages)
    assert sum(t["wall"] for t in stages) <= elapsed
    assert [e["epoch"] for e in row["train_epochs"]] == [1]
    assert row["train_epochs"][0]["images_per_s"] == pytest.approx(
        400 / row["train_epochs"][0]["train_s"], rel=1e-6)  # 400 images, none dropped


@pytest.mark.slow
def test_pipeline_runs_a_bayer_model(tmp_path):
    settings = PipelineSettings(workdir=str(tmp_path), models=("cifar-resnet18-thin",), epochs=1,
                                train_samples=200, check_samples=50, progress=False,
                                input_format="bayer-rggb")
    (row,) = run_pipeline(settings)["models"]
    assert row["input_format"] == "bayer-rggb"
    model = read_model(row["tflite"])
    tin = model.subgraphs[0].tensors[model.subgraphs[0].inputs[0]]
    assert list(tin.shape) == [1, 32, 32, 1]
    # conv 1 (3x3x3 -> 12, stride 1) reads the mosaic in its phase-split form: one 6x6x1
    # CONV_2D of 4 x 12 phase kernels, then DEPTH_TO_SPACE to 32x32x12; its learned parameters
    # are the RGB conv's (bilinear demosaic composed with them), so the count is the RGB
    # model's 153,834
    assert row["params"] == 153_834
    sg = model.subgraphs[0]
    first, second = sg.operators[:2]
    assert first.opcode == "CONV_2D" and tuple(sg.tensors[first.inputs[1]].shape) == (48, 6, 6, 1)
    assert second.opcode == "DEPTH_TO_SPACE"
    assert tuple(sg.tensors[second.outputs[0]].shape) == (1, 32, 32, 12)


@pytest.mark.slow
@pytest.mark.all_cpus
def test_models_measured_in_parallel_equal_their_sequential_runs(tmp_path):
    """Two models train at once in spawned processes with the cores shared out; each row (and
    each .tflite byte) is what that model's own run with the same thread count gives."""
    from dataclasses import replace

    from rnnedge.distributed import usable_cpus
    from rnnedge.pipeline import measure_model, measure_models

    if usable_cpus() < 2:
        pytest.skip("one usable CPU: the pipeline measures models in turn")
    models = ("cifar-resnet18-thin", "cifar-resnet18-rnn")
    parallel = PipelineSettings(workdir=str(tmp_path / "parallel"), models=models, epochs=1,
                                train_samples=128, check_samples=40, progress=False)
    (tmp_path / "parallel").mkdir()
    (tmp_path / "alone").mkdir()
    rows = measure_models(parallel)
    alone = replace(parallel, workdir=str(tmp_path / "alone"))
    threads = usable_cpus() // len(models)
    for name, row in zip(models, rows):
        expected = measure_model(name, alone, threads)
        assert row["model"] == name
        for key in ("params", "arena", "total_memory", "float_top1", "int8_top1", "best_val_acc", "ops"):
            assert row[key] == expected[key], key
        assert open(row["tflite"], "rb").read() == open(expected["tflite"], "rb").read()
