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

    def fake_row(name, fmt, form, epochs, samples, noise, folder, optics, set_noise):
        calls.append((fmt, form, epochs, samples, noise, optics, set_noise))
        return {"params": 1, "best_val_acc": 12.5, "float_top1": top1[fmt],
                "int8_top1": top1[fmt] - 0.25, "drop_pp": 0.25, "arena_inplace": 25088,
                "ops": 33, "graph_macs": 1000}

    def table():
        return [[c.strip() for c in line.strip("|").split("|")]
                for line in capsys.readouterr().out.splitlines() if line.startswith("| cifar")]

    monkeypatch.setattr(bench, "accuracy_row", fake_row)
    args = ["--models", "--formats", "rgb", "gray", "bayer-rggb", "--bayer-conv", "demosaic",
            "--epochs", "2", "--train-samples", "50", "--sensor-noise", "3", "--out",
            str(tmp_path)]
    bench.main(args)
    assert calls == [("rgb", None, 2, 50, 3.0, 0.0, 12.0), ("gray", None, 2, 50, 3.0, 0.0, 12.0),
                     ("bayer-rggb", "demosaic", 2, 50, 3.0, 0.0, 12.0)]
    rows = {r[1]: r for r in table()}
    assert rows["bayer-rggb"][7] == "3" and rows["rgb"][7] == "3"  # noise DN column
    assert rows["rgb"][4] == "12" and rows["rgb"][9] == "12.50"  # set noise, best val
    assert rows["bayer-rggb"][13] == "-1.50" and rows["gray"][13] == "-7.25"  # vs 97.25
    bench.main(args)  # the same budget: rows come from DIR/rows.jsonl
    assert len(calls) == 3
    bench.main(args[:-3] + ["0", "--out", str(tmp_path)])  # another noise: trained again
    assert len(calls) == 6 and calls[-1][4] == 0.0
    top1["rgb"] = 90.5  # the camera set's RGB peer is its own row, not the default set's
    bench.main(args + ["--optics", "0.7"])
    assert len(calls) == 9 and calls[-1] == ("bayer-rggb", "demosaic", 2, 50, 3.0, 0.7, 12.0)
    assert [(r[1], r[3], r[13]) for r in table()[-3:]] == [
        ("rgb", "0.7", "+0.00"), ("gray", "0.7", "-0.50"), ("bayer-rggb", "0.7", "+5.25")]
    top1["rgb"] = 96.0  # a set drawn with less noise: trained again, its own RGB peer
    bench.main(args + ["--optics", "0.7", "--set-noise", "6"])
    assert len(calls) == 12 and calls[-1] == ("bayer-rggb", "demosaic", 2, 50, 3.0, 0.7, 6.0)
    assert [(r[1], r[4], r[13]) for r in table()[-3:]] == [
        ("rgb", "6", "+0.00"), ("gray", "6", "-6.00"), ("bayer-rggb", "6", "-0.25")]
    for bad in (["--set-noise", "-1"], ["--set-noise", "nan"], ["--optics", "5"]):
        assert bench.main(args + bad) == 2 and len(calls) == 12
        assert capsys.readouterr().err.startswith("error: --set-noise must be")


def test_accuracy_rows_draw_the_set_with_the_asked_noise(tmp_path, monkeypatch):
    """accuracy_row trains, calibrates and checks on `synthetic:...,noise=N` (the set's own
    noise; absent at the default 12, so the default rows keep their data spec)."""
    bench, specs = _bench(), []

    class Stop(Exception):
        pass

    def fake_train(name, data, **kwargs):
        specs.append(data)
        raise Stop

    monkeypatch.setattr("rnnedge.train.train", fake_train)
    for set_noise in (12.0, 6.0):
        with pytest.raises(Stop):
            bench.accuracy_row("cifar-resnet18", "rgb", None, 1, 10, 0.0, str(tmp_path), 0.5,
                               set_noise)
    assert specs == ["synthetic:n=10,optics=0.5", "synthetic:n=10,optics=0.5,noise=6"]


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


def test_visibility_peak_contrast_and_noise_threshold(capsys):
    """The peak contrast is the weaker mark's largest change to one recorded value (numpy on
    the renderings, here RGB without optics: the largest colour difference of the mark's
    pixels from what lies under them), its ratio to --noise; a pixel shows a mark above 2
    sigma of that noise; --noise 0 is a one-line error, exit 2."""
    import json

    spec = importlib.util.spec_from_file_location(
        "sensor_visibility", os.path.join(ROOT, "benchmarks", "sensor_visibility.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    whole, no_plus, no_square = bench.renderings(32, "check")
    diff = [np.abs(whole.astype(int) - w.astype(int)).max(axis=(1, 2, 3))
            for w in (no_plus, no_square)]
    peak = np.minimum(*diff).mean()
    assert bench.main(["--samples", "32", "--noise", "6", "--json"]) == 0
    rows = {r["format"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["rgb"]["peak_contrast"] == pytest.approx(peak)
    assert rows["rgb"]["contrast_to_noise"] == pytest.approx(peak / 6)
    assert rows["bayer-rggb"]["peak_contrast"] <= peak  # a mosaic records a subset
    lower = (np.abs(whole.astype(int) - no_plus.astype(int)).max(-1) > 12).sum((1, 2))
    assert rows["rgb"]["plus_visible"] == pytest.approx(lower.mean())
    assert bench.main(["--samples", "32", "--noise", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --noise")


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
