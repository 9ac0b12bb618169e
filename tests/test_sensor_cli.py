"""Camera-native input end to end (issue 20): train, export, arena, check, run and firmware with
`--input-format`; bytes compared with TFLM, arenas with the RGB export, errors one line."""

import json
import subprocess
import sys

import numpy as np
import pytest

from rnnedge import sensor
from helpers import export_zoo_model

pytestmark = pytest.mark.slow


def _cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "rnnedge", *map(str, args)],
                          capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"rnnedge {' '.join(map(str, args))} failed: {proc.stderr[-600:]}")
    return proc


def _one_line_error(proc, text):
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], proc.stderr


@pytest.fixture(scope="module")
def bayer_classifier(tmp_path_factory):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    folder = tmp_path_factory.mktemp("bayer")
    _cli("train", "cifar-resnet18", "--data", "synthetic:n=64", "--epochs", "1",
         "--input-format", "bayer-grbg", "--out", folder / "m.pt")
    report = json.loads(_cli("export", folder / "m.pt", "--int8", "-o", folder / "m.tflite",
                             "--calib", "synthetic:n=32", "--calib-samples", "16",
                             "--check-samples", "8", "--json").stdout)
    return folder, report


def test_bayer_classifier_exports_one_channel_int8_and_checks(bayer_classifier):
    folder, report = bayer_classifier
    assert report["input"]["shape_nhwc"] == [1, 32, 32, 1]
    assert report["input"]["format"] == "bayer-grbg"
    assert report["verification"]["tflm_runs"] and report["verification"]["tflm_matches_reference"]
    result = json.loads(_cli("check", folder / "m.tflite", "--data", "synthetic:n=32",
                             "--float", folder / "m.pt", "--backend", "c", "--json").stdout)
    tflm = json.loads(_cli("check", folder / "m.tflite", "--data", "synthetic:n=32",
                           "--backend", "tflm", "--json").stdout)
    assert result["int8"]["top1"] == tflm["int8"]["top1"]
    _one_line_error(_cli("check", folder / "m.tflite", "--data", "synthetic:n=32",
                         "--input-format", "bayer-rggb", check=False),
                    "reads bayer-grbg input, not bayer-rggb")
    _one_line_error(_cli("export", folder / "m.pt", "--int8", "-o", folder / "x.tflite",
                         "--input-format", "rgb", check=False), "trained for bayer-grbg")
    assert not (folder / "x.tflite").exists()


def test_raw_frame_runs_like_tflm_and_the_sensor_firmware(bayer_classifier, tmp_path):
    folder, _ = bayer_classifier
    rgb = np.random.default_rng(5).integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
    frame = sensor.from_rgb(rgb, "bayer-grbg")[0]
    (tmp_path / "f.pgm").write_bytes(sensor.pgm_bytes(frame))
    # the frame's int8 input computed here from the metadata: (p / 255 - mean) / std, quantised
    from rnnedge import preprocessing
    from rnnedge.tflite import read_model
    model = read_model(str(folder / "m.tflite"))
    meta = preprocessing.decode(model)
    tin = model.subgraphs[0].tensors[model.subgraphs[0].inputs[0]]
    x = (frame.astype(np.float32) / 255.0 - np.float32(meta["normalization"]["mean"][0])) \
        / np.float32(meta["normalization"]["std"][0])
    v = x / np.float32(tin.quantization.scales[0])  # TFLite rounds half away from zero
    q = np.clip(np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
                + tin.quantization.zero_points[0], -128, 127).astype(np.int8)
    np.save(tmp_path / "x.npy", q[None])
    _cli("run", folder / "m.tflite", "--input", tmp_path / "x.npy", "--backend", "tflm",
         "--output", tmp_path / "tflm.npy")
    _cli("run", folder / "m.tflite", "--frame", tmp_path / "f.pgm", "--backend", "c",
         "--output", tmp_path / "c.npy")
    expected = np.load(tmp_path / "tflm.npy")
    assert np.array_equal(np.load(tmp_path / "c.npy"), expected)
    from rnnedge.firmware_sim.sensor_input import build_sensor_host
    _cli("firmware", folder / "m.tflite", "-o", tmp_path / "fw")
    binary = build_sensor_host(tmp_path / "fw")
    out = subprocess.run([str(binary)], input=frame.tobytes(), capture_output=True, check=True)
    assert np.array_equal(np.frombuffer(out.stdout, np.int8), expected.reshape(-1))
    partial = subprocess.run([str(binary)], input=frame.tobytes()[:-7], capture_output=True)
    assert partial.returncode == 2 and partial.stderr.decode().strip() == \
        "error: the input is not a whole number of 1024-byte frames"
    np.save(tmp_path / "small.npy", frame[:16])
    _one_line_error(_cli("run", folder / "m.tflite", "--frame", tmp_path / "small.npy",
                         check=False), "reads 32x32x1 uint8 frames")
    _one_line_error(_cli("run", folder / "m.tflite", "--frame", tmp_path / "f.pgm",
                         "--input-format", "bayer-bggr", check=False), "not bayer-bggr")
    np.save(tmp_path / "rgb.npy", np.zeros((32, 32, 3), np.uint8))     # an RGB frame
    _one_line_error(_cli("run", folder / "m.tflite", "--frame", tmp_path / "rgb.npy",
                         check=False), "one byte per pixel")
    (tmp_path / "p6.pgm").write_bytes(b"P6\n32 32\n255\n" + bytes(3 * 32 * 32))
    _one_line_error(_cli("run", folder / "m.tflite", "--frame", tmp_path / "p6.pgm",
                         check=False), "only binary 8-bit PGM (P5)")
    np.save(tmp_path / "x3.npy", np.zeros((1, 32, 32, 3), np.int8))  # an RGB-sized tensor
    _one_line_error(_cli("run", folder / "m.tflite", "--input", tmp_path / "x3.npy",
                         check=False), "[1, 32, 32, 1]")
    _one_line_error(_cli("check", folder / "m.tflite", "--data", "synthetic:n=8",
                         "--input-format", "gray", check=False), "not gray")


def test_bayer_detector_input_is_one_byte_per_pixel_and_plans_below_rgb(tmp_path_factory,
                                                                        tmp_path):
    rgb_path = export_zoo_model(tmp_path_factory, "det-crnn-256")
    report = json.loads(_cli("export", "--zoo", "det-crnn-256", "--input-format", "bayer-rggb",
                             "--int8", "-o", tmp_path / "b.tflite", "--calib-samples", "8",
                             "--check-samples", "2", "--json").stdout)
    assert report["input"]["shape_nhwc"] == [1, 256, 256, 1]  # 65,536 B, not 196,608
    assert report["verification"]["tflm_runs"] and report["verification"]["tflm_matches_reference"]
    ops = set(report["stats"]["op_counts"])
    assert not ops & {"CUSTOM", "FLEX", "WHILE"}
    bayer = json.loads(_cli("arena", tmp_path / "b.tflite", "--json").stdout)
    rgb = json.loads(_cli("arena", rgb_path, "--json").stdout)
    assert bayer["flags"] == []  # fully int8
    assert bayer["arena"]["inplace"] < rgb["arena"]["inplace"]
    assert rgb["arena"]["inplace"] - bayer["arena"]["inplace"] <= 2 * 256 * 256  # <= input saved
    frame = sensor.from_rgb(np.random.default_rng(2).integers(0, 256, (1, 256, 256, 3),
                                                             dtype=np.uint8), "bayer-rggb")[0]
    np.save(tmp_path / "f.npy", frame[:, :, 0])
    outs = {}
    for backend in ("c", "tflm"):
        _cli("run", tmp_path / "b.tflite", "--frame", tmp_path / "f.npy", "--backend", backend,
             "--planner", "inplace", "--output", tmp_path / f"{backend}.npz")
        outs[backend] = np.load(tmp_path / f"{backend}.npz")
    assert sorted(outs["c"].files) == sorted(outs["tflm"].files)
    for key in outs["c"].files:
        assert np.array_equal(outs["c"][key], outs["tflm"][key])
