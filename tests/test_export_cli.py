"""`rnnedge export` from the command line: a small checkpoint end to end (text and --json),
determinism of the .tflite bytes, and the error cases (exit 2, one line, no traceback, no
partial output)."""

import json
import os

import pytest
import torch
from click.testing import CliRunner

import rnnedge
from rnnedge.cli import main
from rnnedge.export.graph_stats import graph_stats
from rnnedge.tflite import read_model

LAYER = {"class": "rnnedge.layers.SWSBiRNN", "kwargs": {"c_in": 3, "c_mid": 8, "c_out": 6}}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from rnnedge.layers import SWSBiRNN
    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("ckpt") / "sws.pt"
    rnnedge.save(SWSBiRNN(3, 8, 6), path, config=LAYER, input_shape=(3, 12, 14),
                 normalization=((0.5,) * 3, (0.25,) * 3))
    return path


def run(args):
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def assert_one_line_error(code, output, needle):
    assert code == 2, output
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], output
    assert "Traceback" not in output


def test_export_json_and_determinism(checkpoint, tmp_path):
    first, second = tmp_path / "a.tflite", tmp_path / "b.tflite"
    code, out = run(["export", str(checkpoint), "--int8", "-o", str(first), "--json",
                     "--calib-samples", "16", "--check-samples", "8", "--keep-onnx"])
    assert code == 0, out
    report = json.loads(out)
    data = first.read_bytes()
    stats = report["stats"]
    # eq. 12 for (Cin, Cmid, Cout) = (3, 8, 6): 24 + 64 + 16 + 48 + 36 + 12 = 200 per position;
    # eq. 18 x 12 x 14 positions, twice for an SWS-BiRNN (the paper's count) = 67,200.
    assert stats["paper_rnn_macs"] == 67200
    # a bare layer has no named RNN sub-module, so no tensor scope selects its ops
    assert stats["rnn_graph_macs"] == 0
    assert {k: v for k, v in stats.items() if k not in ("paper_rnn_macs", "rnn_graph_macs")} \
        == {k: v for k, v in graph_stats(read_model(data)).items() if k != "rnn_graph_macs"}
    # the graph computes the shared W_ih*x once for both directions: fewer than the paper's
    assert 0 < stats["graph_macs"] < 67200
    code, arena_out = run(["arena", str(first), "--json"])
    assert code == 0 and json.loads(arena_out)["macs"] == stats["graph_macs"]
    assert report["verification"]["tflm_runs"] is True
    assert (tmp_path / "a.onnx").is_file()
    code, out = run(["export", str(checkpoint), "--int8", "-o", str(second),
                     "--calib-samples", "16", "--check-samples", "8"])
    assert code == 0, out
    assert "argmax agreement" in out and "tflite-micro runs it: yes" in out
    assert second.read_bytes() == data


def test_missing_file(tmp_path):
    code, out = run(["export", str(tmp_path / "nope.pt"), "--int8", "-o", str(tmp_path / "x.tflite")])
    assert_one_line_error(code, out, "does not exist")
    assert os.listdir(tmp_path) == []


def test_not_a_checkpoint(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_text("hello")
    code, out = run(["export", str(junk), "--int8", "-o", str(tmp_path / "x.tflite")])
    assert_one_line_error(code, out, "not a PyTorch checkpoint")
    assert sorted(os.listdir(tmp_path)) == ["junk.pt"]


def test_untrusted_pickle(tmp_path):
    pickled = tmp_path / "m.pt"
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1)), pickled)
    code, out = run(["export", str(pickled), "--int8", "-o", str(tmp_path / "x.tflite")])
    assert_one_line_error(code, out, "--trust-pickle")
    assert sorted(os.listdir(tmp_path)) == ["m.pt"]


def test_layer_the_exporter_cannot_lower(tmp_path):
    pickled = tmp_path / "m.pt"
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.Softplus()), pickled)
    code, out = run(["export", str(pickled), "--int8", "--trust-pickle", "--input-shape", "3,4,4",
                     "-o", str(tmp_path / "x.tflite"), "--calib-samples", "2"])
    assert_one_line_error(code, out, "cannot lower ONNX op Softplus")
    assert "nearest supported form" in out
    assert sorted(os.listdir(tmp_path)) == ["m.pt"]


@pytest.mark.parametrize("make", ["empty", "missing"])
def test_calibration_folder_empty_or_missing(checkpoint, tmp_path, make):
    calib = tmp_path / "calib"
    if make == "empty":
        calib.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out = run(["export", str(checkpoint), "--int8", "--calib", str(calib),
                     "-o", str(out_dir / "x.tflite")])
    assert_one_line_error(code, out, "calib")
    assert os.listdir(out_dir) == []


def test_zoo_and_checkpoint_are_exclusive(checkpoint):
    code, out = run(["export", str(checkpoint), "--zoo", "cifar-resnet18", "--int8"])
    assert_one_line_error(code, out, "not both")


def test_calibration_from_an_image_folder(checkpoint, tmp_path):
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(10):
            Image.fromarray(rng.integers(0, 255, (12, 14, 3), dtype=np.uint8)).save(
                tmp_path / "imgs" / label / f"{i}.png")
    code, out = run(["export", str(checkpoint), "--int8", "--calib", str(tmp_path / "imgs"),
                     "-o", str(tmp_path / "m.tflite"), "--json", "--check-samples", "4"])
    assert code == 0, out
    report = json.loads(out)
    assert report["calibration"]["source"] == str(tmp_path / "imgs")
    assert 0 < report["calibration"]["samples"] <= 64
    assert report["verification"]["check_samples"] <= 4


def test_rnn_layout_option(checkpoint, tmp_path):
    """--rnn-layout stacked exports the same layer with fewer ops (the graph is read back
    from the file); an unknown layout is a usage error (exit 2) and writes nothing."""
    sizes = {}
    for layout in ("inplace", "stacked"):
        path = tmp_path / f"{layout}.tflite"
        code, out = run(["export", str(checkpoint), "--int8", "-o", str(path), "--json",
                         "--calib-samples", "16", "--check-samples", "8", "--rnn-layout", layout])
        assert code == 0, out
        assert json.loads(out)["verification"]["tflm_runs"] is True
        sizes[layout] = graph_stats(read_model(path.read_bytes()), ["/"])["ops"]
    assert sizes["stacked"] < sizes["inplace"]
    code, out = run(["export", str(checkpoint), "--int8", "-o", str(tmp_path / "x.tflite"),
                     "--rnn-layout", "npu"])
    assert code == 2 and "Invalid value for '--rnn-layout'" in out, out
    assert not (tmp_path / "x.tflite").exists()
