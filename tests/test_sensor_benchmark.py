"""benchmarks/sensor.py's accuracy part: every format trains at the same budget and the same
sensor noise (RGB included), rows are cached per budget, the gap to RGB is float top-1
minus the RGB row's (the training itself is tests/test_sensor_conv.py's and the check's);
benchmarks/sensor_visibility.py records the marks of the images the set generates."""

import importlib.util
import os

import numpy as np

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

    def fake_row(name, fmt, form, epochs, samples, noise, folder):
        calls.append((fmt, form, epochs, samples, noise))
        return {"params": 1, "best_val_acc": 0.0, "float_top1": top1[fmt],
                "int8_top1": top1[fmt] - 0.25, "drop_pp": 0.25, "arena_inplace": 25088,
                "ops": 33, "graph_macs": 1000}

    monkeypatch.setattr(bench, "accuracy_row", fake_row)
    args = ["--models", "--formats", "rgb", "gray", "bayer-rggb", "--bayer-conv", "demosaic",
            "--epochs", "2", "--train-samples", "50", "--sensor-noise", "3", "--out",
            str(tmp_path)]
    bench.main(args)
    assert calls == [("rgb", None, 2, 50, 3.0), ("gray", None, 2, 50, 3.0),
                     ("bayer-rggb", "demosaic", 2, 50, 3.0)]
    rows = {line.split("|")[2].strip(): [c.strip() for c in line.strip("|").split("|")]
            for line in capsys.readouterr().out.splitlines() if line.startswith("| cifar")}
    assert rows["bayer-rggb"][5] == "3" and rows["rgb"][5] == "3"  # noise DN column
    assert rows["bayer-rggb"][10] == "-1.50" and rows["gray"][10] == "-7.25"  # vs 97.25
    bench.main(args)  # the same budget: rows come from DIR/rows.jsonl
    assert len(calls) == 3
    bench.main(args[:-3] + ["0", "--out", str(tmp_path)])  # another noise: trained again
    assert len(calls) == 6 and calls[-1][-1] == 0.0


def test_visibility_records_the_marks_of_the_generated_images():
    """benchmarks/sensor_visibility.py: the recorded pixels are the marks' (the generated
    images hold the recorded colour there, up to the set's noise), and a mosaic or gray
    pixel never shows a mark pixel that RGB does not."""
    from rnnedge.data import synthetic

    spec = importlib.util.spec_from_file_location(
        "sensor_visibility", os.path.join(ROOT, "benchmarks", "sensor_visibility.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (plus, colours, background), square = bench.mark_pixels(64, "check")
    assert plus.shape == (64, 9, 2) and square[0].shape == (64, 16, 2)
    images = synthetic.generate(synthetic.SyntheticConfig(n=64), "check").images
    for pixels, colour, _ in ((plus, colours, background), square):
        drawn = images[np.arange(64)[:, None], pixels[..., 0], pixels[..., 1]].astype(float)
        assert np.abs(drawn - np.clip(colour[:, None, :], 0, 255)).max() < 5 * 12
        ys, xs = pixels[..., 0] - pixels[:, :1, 0], pixels[..., 1] - pixels[:, :1, 1]
        assert (np.abs(ys) <= 4).all() and (np.abs(xs) <= 4).all()  # one 5x5 mark
    rgb = bench.visible("rgb", plus, colours, background)
    for fmt in ("gray", "bayer-rggb"):
        assert (bench.visible(fmt, plus, colours, background) <= rgb).all()
    assert bench.main(["--samples", "64"]) == 0
