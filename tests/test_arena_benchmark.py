"""benchmarks/arena.py runs end to end on one model and writes its table and plot."""

import importlib.util
import os

from rnnedge import tinyml_models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_benchmark_one_model(tmp_path, tmp_path_factory, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location(
        "arena_benchmark", os.path.join(ROOT, "benchmarks", "arena.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    cache = str(tmp_path_factory.getbasetemp() / "tinyml")
    monkeypatch.setitem(bench.MODELS, "autoencoder",
                        lambda _: tinyml_models.tflite_path("autoencoder", cache))
    assert bench.main(["--models", "autoencoder", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "arena.md").read_text()
    assert "| autoencoder | 768 | 768 |" in table  # tflm planner == TFLM measured head
    assert (tmp_path / "arena.png").read_bytes()[:4] == b"\x89PNG"
    assert table.strip() in capsys.readouterr().out


def test_benchmark_covers_the_zoo_exports(tmp_path, tmp_path_factory, monkeypatch, capsys):
    """The zoo rows are rnnedge's own exports; the CRNN's row shows tflm == TFLM's measured
    head and the 25,088-byte inplace arena."""
    spec = importlib.util.spec_from_file_location(
        "arena_benchmark", os.path.join(ROOT, "benchmarks", "arena.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert {"cifar-resnet18-rnn", "det-crnn-480x640", "resnet18_w02"} <= set(bench.MODELS)
    monkeypatch.setattr(bench, "CACHE", str(tmp_path_factory.getbasetemp()))
    assert bench.main(["--models", "cifar-resnet18-rnn", "--out", str(tmp_path),
                       "--no-vela"]) == 0
    row = next(line for line in (tmp_path / "arena.md").read_text().splitlines()
               if line.startswith("| cifar-resnet18-rnn |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == cells[2]  # tflm planner == TFLM measured head
    assert cells[6] == "25,088"  # inplace
    assert int(cells[7].replace(",", "")) <= 25_088  # fused: never above inplace
    assert int(cells[9].replace(",", "")) <= int(cells[7].replace(",", ""))  # tiles: <= fused
    assert float(cells[10].rstrip("%")) <= 10  # within the recompute budget
    capsys.readouterr()
