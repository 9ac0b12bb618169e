"""`rnnedge check` and the main-job pipeline on a briefly trained, exported classifier."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from rnnedge import checkpoint
from rnnedge.check import run_check
from rnnedge.cli import main
from rnnedge.export.pipeline import export_int8
from rnnedge.train import TrainConfig, train

DATA = "synthetic:n=3000"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """cifar-resnet18-thin trained for 6 epochs on a small synthetic set (~80% top-1), exported;
    returns (checkpoint, tflite, export report)."""
    folder = tmp_path_factory.mktemp("check")
    ckpt, tflite = str(folder / "thin.pt"), str(folder / "thin.tflite")
    train("cifar-resnet18-thin", DATA, out=ckpt, config=TrainConfig(epochs=6))
    model, meta = checkpoint.load(ckpt)
    report = export_int8(model, meta, tflite, calib=DATA, check_samples=300)
    return ckpt, tflite, report


@pytest.mark.slow
def test_export_of_a_trained_model_agrees_with_float(trained):
    """Issue 3's bar on a trained model: strict argmax agreement >= 98% on the export's
    calibration-independent check set, TFLM bit-exact with the reference kernels."""
    verification = trained[2]["verification"]
    assert verification["check_samples"] == 300
    assert verification["argmax_agreement"] >= 0.98
    assert verification["tflm_runs"] and verification["tflm_max_lsb_diff"] == 0


def _check(args):
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.output


@pytest.mark.slow
def test_int8_drop_within_one_point(trained):
    ckpt, tflite, _ = trained
    code, out = _check([tflite, "--data", DATA, "--float", ckpt, "--samples", "600", "--json"])
    assert code == 0, out
    report = json.loads(out)
    assert report["samples"] == 600
    assert report["float"]["top1"] > 25.0  # trained well above chance (10 classes)
    assert abs(report["drop_pp"]) <= 1.0
    assert report["drop_pp"] == pytest.approx(report["float"]["top1"] - report["int8"]["top1"])
    assert report["agreement"] >= 95.0
    assert report["outputs"]["cos"] > 0.99
    assert report["int8"]["top5"] >= report["int8"]["top1"]


@pytest.mark.slow
def test_max_drop_below_measured_drop_exits_1(trained):
    ckpt, tflite, _ = trained
    drop = run_check(tflite, DATA, ckpt, "tflite", 600).drop_pp
    code, _ = _check([tflite, "--data", DATA, "--float", ckpt, "--samples", "600", "--max-drop", str(drop - 0.5)])
    assert code == 1
    code, _ = _check([tflite, "--data", DATA, "--float", ckpt, "--samples", "600", "--max-drop", str(drop + 0.5)])
    assert code == 0


@pytest.mark.slow
def test_backends_agree_and_metadata_replaces_the_checkpoint(trained, tmp_path):
    ckpt, tflite, _ = trained
    c = run_check(tflite, DATA, None, "c", 200)
    tflm = run_check(tflite, DATA, None, "tflm", 200)
    with_float = run_check(tflite, DATA, ckpt, "tflite", 200)
    assert c.float is None and c.drop_pp is None
    assert np.array_equal(c.confusion, tflm.confusion)  # C kernels are bit-exact with TFLM
    # the fused plan (column tiles, streamed rows) computes every sample's class as TFLM does
    fused = run_check(tflite, DATA, None, "c", 200, planner="fused", kernels="reference")
    assert np.array_equal(fused.predictions, tflm.predictions) and fused.int8 == tflm.int8
    code, out = _check([tflite, "--data", DATA, "--samples", "60", "--backend", "c", "--planner",
                        "fused", "--stream-input", "--max-recompute", "5%", "--json"])
    assert code == 0, out
    tflm60 = run_check(tflite, DATA, None, "tflm", 60)
    assert json.loads(out)["int8"] == tflm60.int8
    assert abs(c.int8["top1"] - with_float.int8["top1"]) <= 1.0  # reference kernels: TANH-free model, ~equal
    png = tmp_path / "cm.png"
    code, out = _check([tflite, "--data", DATA, "--samples", "100", "--backend", "c", "--plot", str(png)])
    assert code == 0 and "int8" in out and png.read_bytes()[:4] == b"\x89PNG"


def test_bad_inputs_exit_2(tmp_path):
    code, out = _check([str(tmp_path / "missing.tflite"), "--data", "synthetic"])
    assert code == 2 and out.startswith("error:") and out.count("\n") == 1
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer at all")
    code, out = _check([str(junk), "--data", "synthetic"])
    assert code == 2 and out.startswith("error:")
    code, out = _check([str(junk), "--data", "synthetic", "--max-drop", "1"])
    assert code == 2 and "--float" in out
    for flags, word in ((["--backend", "tflm", "--planner", "fused"], "--planner"),
                        (["--backend", "c", "--stream-input"], "--stream-input"),
                        (["--backend", "tflite", "--max-recompute", "5%"], "--max-recompute")):
        code, out = _check([str(junk), "--data", "synthetic", *flags])
        assert code == 2 and out.startswith("error:") and word in out and out.count("\n") == 1
