"""Detection end to end on a tiny COCO fixture: train -> export -> check (all backends), and
one-line errors for bad data. Input 64x64 and one epoch keep it to CI size."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from detect_fixtures import scenes, write_coco
from rnnedge.cli import main


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("det")
    data = write_coco(root / "coco", {"train": scenes(12, seed=1), "val": scenes(6, seed=2)})
    out = root / "d.pt"
    result = _invoke("train", "det-crnn-256", "--data", data, "--input-size", "64", "--epochs", 1,
                     "--batch", 4, "--classes", "person", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    return root, data, out, json.loads(result.output.strip().splitlines()[-1])


@pytest.mark.slow
def test_train_writes_a_detector_checkpoint(trained):
    root, data, out, report = trained
    assert report["class_names"] == ["person"] and report["input_shape"] == [3, 64, 64]
    assert len(report["history"]) == 1 and report["best_epoch"] == 1
    saved = torch.load(out, weights_only=True)
    detection = saved["extra"]["detection"]
    assert detection["strides"] == [8, 16, 32, 64, 128]
    assert np.asarray(detection["anchors"]).shape == (5, 3, 2)
    assert saved["config"] == {"predict_channels": 18}
    # the prediction convs' objectness biases start at YOLOv5's prior
    assert (root / "d.pt.state").is_file()


@pytest.mark.slow
def test_export_and_check_on_every_backend(trained):
    from rnnedge.detect import metadata
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.tflite import read_model

    root, data, out, _ = trained
    tflite = root / "d.tflite"
    result = _invoke("export", out, "--int8", "--calib", data, "--calib-samples", 8,
                     "--check-samples", 4, "-o", tflite, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [o["shape"] for o in report["outputs"]] == [[1, 8, 8, 18], [1, 4, 4, 18],
                                                       [1, 2, 2, 18], [1, 1, 1, 18],
                                                       [1, 1, 1, 18]]
    assert report["verification"]["tflm_runs"] and report["verification"]["tflm_max_lsb_diff"] == 0
    # raw prediction maps: no argmax over their mixed channels; the int8 maps follow float's
    assert "argmax_agreement" not in report["verification"]
    assert report["verification"]["cosine"] > 0.99
    model = read_model(str(tflite))
    info = metadata.decode(model)
    assert info["class_names"] == ["person"] and info["input_hw"] == [64, 64]
    # the C kernels are bit-exact with TFLM on every head's output
    x = np.random.default_rng(0).integers(-128, 128, (3, 64, 64, 3), dtype=np.int8)
    c_out, tflm_out = make_backend("c", tflite)(x), make_backend("tflm", tflite)(x)
    for a, b in zip(c_out, tflm_out):
        assert a.dtype == np.int8 and np.array_equal(a, b)
    for backend in ("tflite", "c"):
        result = _invoke("check", tflite, "--data", data, "--float", out, "--backend", backend,
                         "--json", "--plot", root / f"{backend}.png")
        assert result.exit_code == 0, result.output
        checked = json.loads(result.output)
        assert checked["task"] == "detect" and checked["images"] == 6
        assert set(checked["float"]) == {"ap50", "ap", "f1", "threshold"}
        assert checked["drop_pp"]["ap50"] == pytest.approx(
            checked["float"]["ap50"] - checked["int8"]["ap50"])
        assert (root / f"{backend}.png").stat().st_size > 0
    drop = checked["drop_pp"]["ap50"]
    for margin, code in ((0.5, 0), (-0.5, 1)):  # --max-drop applies to AP50
        result = _invoke("check", tflite, "--data", data, "--float", out, "--backend", "c",
                         "--json", "--max-drop", drop + margin)
        assert result.exit_code == code
    # Vela places every op of the whole detector (prediction convs included) on the NPU
    from rnnedge.export.vela_check import vela_summary
    vela = vela_summary(tflite)
    assert vela["cpu_ops"] == 0 and vela["npu_ops"] > 0
    # without --float the check reads the normalisation from the .tflite
    result = _invoke("check", tflite, "--data", data, "--samples", 2)
    assert result.exit_code == 0 and "AP50" in result.output


@pytest.mark.slow
def test_resume_continues_to_the_next_epoch(trained, tmp_path):
    root, data, out, _ = trained
    copy = tmp_path / "d.pt"
    copy.write_bytes(out.read_bytes())
    (tmp_path / "d.pt.state").write_bytes((root / "d.pt.state").read_bytes())
    result = _invoke("train", "det-crnn-256", "--data", data, "--input-size", "64", "--epochs", 2,
                     "--batch", 4, "--classes", "person", "--out", copy, "--resume", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert [h["epoch"] for h in report["history"]] == [1, 2] and report["start_epoch"] == 2
    result = _invoke("train", "det-crnn-256", "--data", data, "--input-size", "64", "--epochs", 3,
                     "--batch", 4, "--out", copy, "--resume")  # now with both categories
    assert result.exit_code == 2 and "same classes" in result.output


@pytest.mark.slow
def test_resume_with_another_input_size_or_dataset_is_refused(trained, tmp_path):
    root, data, out, _ = trained
    copy = tmp_path / "d.pt"
    copy.write_bytes(out.read_bytes())
    (tmp_path / "d.pt.state").write_bytes((root / "d.pt.state").read_bytes())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    other = write_coco(tmp_path / "other", {"train": scenes(12, seed=7), "val": scenes(6, seed=8)})
    for args, words in ((("--data", data, "--input-size", 96), "--input-size 64x64, now 96x96"),
                        (("--data", other, "--input-size", 64), "another dataset")):
        result = CliRunner().invoke(main, [str(a) for a in (
            "train", "det-crnn-256", *args, "--epochs", 2, "--batch", 4, "--classes", "person",
            "--out", copy, "--resume")])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1, result.output
        assert lines[0].startswith("error: --resume: ") and words in lines[0]
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_bad_annotation_file_is_one_line_and_writes_nothing(tmp_path):
    data = write_coco(tmp_path / "coco", {"train": scenes(3), "val": scenes(2)})
    (data / "annotations" / "instances_train.json").write_text("{broken")
    result = CliRunner().invoke(main, ["train", "det-cnn-256", "--data", str(data),
                                       "--input-size", "64", "--out", str(tmp_path / "x.pt")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "instances_train.json" in lines[0]
    assert not (tmp_path / "x.pt").exists()
    result = CliRunner().invoke(main, ["train", "det-cnn-256", "--input-size", "100"])
    assert result.exit_code == 2 and "multiples of 32" in result.output
    result = CliRunner().invoke(main, ["train", "cifar-resnet18", "--input-size", "64"])
    assert result.exit_code == 2 and "detection models" in result.output


def test_summary_at_another_input_size():
    result = _invoke("summary", "det-crnn-256", "--input-size", "128", "--json")
    small = json.loads(result.output)
    full = json.loads(_invoke("summary", "det-crnn-256", "--json").output)
    assert small["total_params"] == full["total_params"] == 489108
    assert small["input_shape"] == [3, 128, 128]
    # MACs scale with the positions: at 128 every map is exactly half as wide and high
    assert small["total_macs"] * 4 == full["total_macs"]
    tiny = json.loads(_invoke("summary", "det-crnn-256", "--input-size", "64", "--json").output)
    # at 64 the stride-128 head's map rounds up to 1x1 (as at 128): more than a sixteenth
    assert tiny["total_macs"] * 16 > full["total_macs"]
    assert tiny["layers"][-1]["output_shape"] == [1, 1, 65]
    with_predict = json.loads(_invoke("summary", "det-crnn-256", "--det-classes", "1",
                                      "--json").output)
    names = [row["name"] for row in with_predict["layers"]]
    assert names[-5:] == [f"{i}.predict" for i in range(18, 23)]
    assert with_predict["total_params"] == 489108 + 1638 + 4 * 1188


@pytest.mark.slow
def test_firmware_c_nms_returns_the_python_decoders_boxes(trained):
    from rnnedge.detect import decode, metadata
    from rnnedge.detect.firmware import build_detect_host, run_detect_host
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.tflite import read_model

    root, data, out, _ = trained
    tflite = root / "d.tflite"
    if not tflite.exists():
        assert _invoke("export", out, "--int8", "--calib", data, "--calib-samples", 8,
                       "--check-samples", 2, "-o", tflite).exit_code == 0
    fw = root / "fw"
    result = _invoke("firmware", tflite, "-o", fw, "--json")
    assert result.exit_code == 0, result.output
    assert (fw / "detect.c").is_file() and (fw / "detect_main.c").is_file()
    binary = build_detect_host(fw)
    model = read_model(str(tflite))
    info = metadata.decode(model)
    sg = model.main
    outs = [sg.tensors[i] for i in sg.outputs]
    order = metadata.output_order([t.shape for t in outs])
    rng = np.random.default_rng(4)
    x = rng.integers(-128, 128, (4, 64, 64, 3), dtype=np.int8)
    raw = make_backend("c", tflite)(x)
    maps = [(raw[i].astype(np.float64) - outs[i].quantization.zero_points[0])
            * outs[i].quantization.scales[0] for i in order]
    for conf in (0.001, 0.05):
        expected = decode.postprocess(maps, info["anchors"], info["strides"], 1, layout="nhwc",
                                      conf=conf)
        got = run_detect_host(binary, x, conf=conf)
        assert len(got) == len(expected) == 4
        for (b, s, c), (eb, es, ec) in zip(got, expected):
            assert len(b) == len(eb) and len(b) > 0
            assert np.allclose(b, eb, atol=2e-3) and np.allclose(s, es, atol=1e-6)
            assert np.array_equal(c, ec)


@pytest.mark.slow
@pytest.mark.skipif(not all(__import__("rnnedge.firmware_sim.toolchain", fromlist=["x"])
                            .arm_tools().values()),
                    reason="arm-none-eabi-gcc or qemu-system-arm is not installed (apt-get "
                    "install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)")
def test_m55_detect_firmware_under_qemu_prints_the_host_builds_boxes(trained):
    from rnnedge.detect.firmware import build_detect_host, run_detect_host, run_detect_qemu

    root, data, out, _ = trained
    tflite = root / "d.tflite"
    if not tflite.exists():
        assert _invoke("export", out, "--int8", "--calib", data, "--calib-samples", 8,
                       "--check-samples", 2, "-o", tflite).exit_code == 0
    fw = root / "fw-m55"
    result = _invoke("firmware", tflite, "-o", fw, "--build", "m55", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    elf = report["builds"]["m55-detect"]["path"]
    assert report["builds"]["m55-detect"][".text"] > report["builds"]["m55"][".text"] > 0
    x = np.random.default_rng(5).integers(-128, 128, (2, 64, 64, 3), dtype=np.int8)
    host = build_detect_host(fw)
    for conf in (0.001, 0.05):
        device, expected = run_detect_qemu(elf, x, conf=conf), run_detect_host(host, x, conf=conf)
        assert len(device) == len(expected) == 2
        for (b, s, c), (eb, es, ec) in zip(device, expected):
            assert len(b) == len(eb) and (conf > 0.01 or len(b) > 0)
            # printed to 6 decimals (boxes) and 8 (scores); 1e-5 is about one float32 ulp at
            # 64 pixels: the same float32 boxes (identical text here), order and classes
            assert np.allclose(b, eb, rtol=0, atol=1e-5) and np.allclose(s, es, rtol=0, atol=1e-7)
            assert np.array_equal(c, ec)


@pytest.mark.slow
def test_detect_pipeline_row(tmp_path):
    from rnnedge.detect.pipeline import DetectPipelineSettings, format_table, run_detect_pipeline

    settings = DetectPipelineSettings(workdir=str(tmp_path), models=("det-crnn-256",),
                                      data="synthetic-detect:n=12", input_size="64", epochs=1,
                                      batch=4, check_samples=6, full_size_arena=False,
                                      progress=False)
    result = run_detect_pipeline(settings)
    row = result["models"][0]
    # Table 1's rows (489,108) plus five 1x1 prediction convs with bias: (90 + 1) * 18 for
    # row 18's 90 channels and (65 + 1) * 18 for rows 19-22
    assert row["params"] == 489108 + 91 * 18 + 4 * 66 * 18
    assert row["total_memory"] == row["weight_bytes"] + row["arena"]["inplace"]
    assert row["arena"]["inplace"] <= row["arena"]["tflm"]
    assert row["images"] == 6 and row["paper"]["ap50"] == 53.8
    assert "det-crnn-256" in format_table(result)
