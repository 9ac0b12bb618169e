"""benchmarks/sensor.py's accuracy part: every format trains at the same budget and the same
sensor noise (RGB included), rows are cached per budget, the gap to RGB is float top-1
minus the RGB row's (the training itself is tests/test_sensor_conv.py's and the check's);
benchmarks/sensor_visibility.py records the marks of the images the set generates."""

import importlib.util
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bench():
    spec = importlib.util.spec_from_file_location(
        "sensor_benchmark", os.path.join(ROOT, "benchmarks", "sensor.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_every_format_gets_the_same_budget_and_noise(tmp_path, monkeypatch, capsys):
    bench, calls = _bench(), []
    top1 = {"rgb": 97.25, "gray": 90.0, "bayer-rggb": 95.75}

    def fake_row(name, fmt, form, epochs, samples, noise, folder, optics):
        calls.append((fmt, form, epochs, samples, noise, optics))
        return {"params": 1, "best_val_acc": 0.0, "float_top1": top1[fmt],
                "int8_top1": top1[fmt] - 0.25, "drop_pp": 0.25, "arena_inplace": 25088,
                "ops": 33, "graph_macs": 1000}

    monkeypatch.setattr(bench, "accuracy_row", fake_row)
    args = ["--models", "--formats", "rgb", "gray", "bayer-rggb", "--bayer-conv", "demosaic",
            "--epochs", "2", "--train-samples", "50", "--sensor-noise", "3", "--out",
            str(tmp_path)]
    bench.main(args)
    assert calls == [("rgb", None, 2, 50, 3.0, 0.0), ("gray", None, 2, 50, 3.0, 0.0),
                     ("bayer-rggb", "demosaic", 2, 50, 3.0, 0.0)]
    rows = {line.split("|")[2].strip(): [c.strip() for c in line.strip("|").split("|")]
            for line in capsys.readouterr().out.splitlines() if line.startswith("| cifar")}
    assert rows["bayer-rggb"][6] == "3" and rows["rgb"][6] == "3"  # noise DN column
    assert rows["bayer-rggb"][11] == "-1.50" and rows["gray"][11] == "-7.25"  # vs 97.25
    bench.main(args)  # the same budget: rows come from DIR/rows.jsonl
    assert len(calls) == 3
    bench.main(args[:-3] + ["0", "--out", str(tmp_path)])  # another noise: trained again
    assert len(calls) == 6 and calls[-1][-2] == 0.0
    top1["rgb"] = 90.5  # the camera set's RGB peer is its own row, not the default set's
    bench.main(args + ["--optics", "0.7"])
    assert len(calls) == 9 and calls[-1] == ("bayer-rggb", "demosaic", 2, 50, 3.0, 0.7)
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in capsys.readouterr().out.splitlines() if line.startswith("| cifar")]
    assert [(r[1], r[3], r[11]) for r in rows[-3:]] == [
        ("rgb", "0.7", "+0.00"), ("gray", "0.7", "-0.50"), ("bayer-rggb", "0.7", "+5.25")]


@pytest.mark.parametrize("optics,reach", [(0.0, 9), (0.7, 9 + 2 * 3)])
def test_visibility_renders_the_set_with_one_mark_left_out(optics, reach):
    """benchmarks/sensor_visibility.py: the whole rendering is the set's noiseless image, a
    left-out mark changes only pixels within the mark's 5x5 (with optics: plus the PSF's
    radius) window, and a mosaic or gray pixel never shows a mark that RGB does not."""
    from rnnedge.data import synthetic

    spec = importlib.util.spec_from_file_location(
        "sensor_visibility", os.path.join(ROOT, "benchmarks", "sensor_visibility.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    whole, no_plus, no_square = bench.renderings(64, "check", optics)
    config = synthetic.SyntheticConfig(n=64, noise=0.0, optics=optics)
    assert np.array_equal(whole, synthetic.generate(config, "check").images)
    for without, size in ((no_plus, 9), (no_square, 16)):
        changed = (whole != without).any(-1)
        for image in changed:
            ys, xs = np.nonzero(image)
            assert np.ptp(ys) < reach - 4 and np.ptp(xs) < reach - 4  # one window
        rgb = bench.visible("rgb", whole, without)
        assert (rgb > 0).all() and (optics or (rgb <= size).all())
        for fmt in ("gray", "bayer-rggb"):
            assert (bench.visible(fmt, whole, without) <= rgb).all()
    assert bench.main(["--samples", "64", "--optics", str(optics)]) == 0


def test_zoo_mode_plans_every_zoo_model(tmp_path, monkeypatch, capsys):
    from rnnedge import zoo

    bench, calls = _bench(), []

    def fake_memory(name, fmt, folder):
        calls.append((name, fmt))
        arena = 1000 if fmt == "rgb" else 800
        return {"input_bytes": 3, "params": 1, "arena_tflm": arena, "arena_inplace": arena,
                "weight_bytes": 1, "total_memory": arena + 1, "ops": 1, "tflm_runs": True}

    monkeypatch.setattr(bench, "memory_row", fake_memory)
    bench.main(["--zoo", "--formats", "rgb", "gray", "--epochs", "0", "--out", str(tmp_path)])
    assert calls == [(name, fmt) for name in zoo.names() for fmt in ("rgb", "gray")]
    ratios = [line.split("|")[7].strip() for line in capsys.readouterr().out.splitlines()
              if line.startswith("| ") and "|---" not in line and "model" not in line]
    assert ratios == ["1.00", "0.80"] * len(zoo.names())
