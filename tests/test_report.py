"""`rnnedge report`: its memory numbers equal `rnnedge arena`'s, its NPU split and cycles equal
Vela's own output for the same file and configuration (Vela run here by the test and its
printed summary, summary CSV and per-layer CSV parsed here), paper figures, errors."""

import csv
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from rnnedge import tinyml_models as T
from rnnedge.cli import main
from helpers import export_zoo_model

needs_vela = pytest.mark.skipif(shutil.which("vela") is None,
                                reason="Arm Vela is not installed (pip install ethos-u-vela)")
ZOO = ["cifar-resnet18-rnn", "cifar-resnet18-thin", "det-crnn-256"]
PLANNERS = ("tflm", "best", "inplace")


@pytest.fixture(scope="session")
def tinyml(tmp_path_factory):
    directory = str(tmp_path_factory.getbasetemp() / "tinyml")
    return {name: T.tflite_path(name, directory) for name in sorted(T.BUILDERS)}


@pytest.fixture(scope="session")
def cpu_model(tmp_path_factory):
    """A Keras model with a CUMSUM (not supported by Vela: DEQUANTIZE, CUMSUM, QUANTIZE run on
    the CPU) between two convolutions."""
    import numpy as np
    import tensorflow as tf

    path = tmp_path_factory.getbasetemp() / "cumsum.tflite"
    if not path.exists():
        inp = tf.keras.Input((8, 8, 3), batch_size=1)
        x = tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
        x = tf.keras.layers.Lambda(lambda t: tf.math.cumsum(t, axis=2))(x)
        out = tf.keras.layers.Conv2D(4, 1)(x)
        converter = tf.lite.TFLiteConverter.from_keras_model(tf.keras.Model(inp, out))
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        rng = np.random.default_rng(0)
        converter.representative_dataset = lambda: (
            [rng.random((1, 8, 8, 3), np.float32)] for _ in range(4))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
        path.write_bytes(converter.convert())
    return str(path)


def _cli(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def _json(*args):
    result = _cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _vela_by_hand(path, out, accelerator, system_config, memory_mode):
    """Vela's own results, read straight from its outputs."""
    proc = subprocess.run(["vela", path, "--output-dir", str(out), "--accelerator-config",
                           accelerator, "--config", "Arm/vela.ini", "--system-config",
                           system_config, "--memory-mode", memory_mode,
                           "--verbose-performance"], capture_output=True, text=True, check=True)
    summary = next(csv.DictReader(open(glob.glob(str(out / "*_summary_*.csv"))[0])))
    layers = list(csv.DictReader(open(glob.glob(str(out / "*_per-layer.csv"))[0])))
    return {"npu_ops": int(re.search(r"NPU operators = (\d+)", proc.stdout).group(1)),
            "cpu_ops": int(re.search(r"CPU operators = (\d+)", proc.stdout).group(1)),
            "clock_mhz": float(re.search(r"Accelerator clock\s+(\d+) MHz", proc.stdout).group(1)),
            "sram_kib": float(re.search(r"Total SRAM used\s+([\d.]+) KiB", proc.stdout).group(1)),
            "cycles": int(float(summary["cycles_total"])), "layers": layers}


def _check_against_arena(report_model, path):
    """Per-layer MACs, params, live bytes and the arenas equal `rnnedge arena --json`'s."""
    for planner in PLANNERS:
        arena = _json("arena", path, "--planner", planner)
        assert [o["macs"] for o in report_model["ops"]] == [o["macs"] for o in arena["ops"]]
        assert [o["params"] for o in report_model["ops"]] == [o["params"] for o in arena["ops"]]
        assert [o["live_bytes"] for o in report_model["ops"]] == [o["live_bytes"] for o in arena["ops"]]
        assert report_model["ram"]["arena"][planner] == arena["arena"][planner]
        assert report_model["macs"] == arena["macs"]
        assert report_model["flash"]["weights"] == arena["weight_bytes"]
        assert report_model["ram"]["tflm_tail_estimate"] == arena["tail_estimate"]
    assert report_model["ram"]["lower_bound"] == arena["arena"]["lower_bound"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(T.BUILDERS))
def test_tinyml_models_match_arena(tinyml, name):
    path = tinyml[name]
    report = _json("report", path)
    assert report["schema"] == "rnnedge.report/1" and report["npu"] is None
    (model,) = report["models"]
    _check_against_arena(model, path)
    assert "npu" not in model and model["paper"] is None  # not a zoo export


@pytest.mark.slow
@pytest.mark.parametrize("name", ZOO)
def test_zoo_exports_match_arena_and_paper(tmp_path_factory, name):
    path = export_zoo_model(tmp_path_factory, name)
    (model,) = _json("report", path, "--planner", "inplace")["models"]
    _check_against_arena(model, path)
    paper = model["paper"]  # the paper's figures as printed (seed 000, Tables 4 and 6)
    expected = {"cifar-resnet18-rnn": ("Table 6", "156K", "24K", "180K"),
                "cifar-resnet18-thin": ("Table 6", "156K", "24K", "180K"),
                "det-crnn-256": ("Table 4", "493K", "819K", "1.31M")}[name]
    assert (paper["table"], paper["params"], paper["arena"], paper["total_memory"]) == expected
    assert paper["zoo_name"] == name and paper["measured"]["arena"] == model["ram"]["arena"]["inplace"]


@needs_vela
@pytest.mark.slow
@pytest.mark.parametrize("name", ["cifar-resnet18-rnn", "det-crnn-256", "ds_cnn", "mobilenet_v1_025",
                                  "resnet8", "unet", "autoencoder", "cumsum"])
def test_npu_split_and_cycles_equal_vela(tmp_path_factory, tmp_path, tinyml, cpu_model, name):
    path = (cpu_model if name == "cumsum" else tinyml.get(name)
            or export_zoo_model(tmp_path_factory, name))
    (model,) = _json("report", path, "--npu", "ethos-u55-128")["models"]
    vela = _vela_by_hand(path, tmp_path, "ethos-u55-128", "Ethos_U55_High_End_Embedded",
                         "Shared_Sram")
    npu = model["npu"]
    assert npu["vela_ops"] == {"npu": vela["npu_ops"], "cpu": vela["cpu_ops"]}
    assert npu["cycles"] == vela["cycles"] == sum(int(r["Op Cycles"]) for r in vela["layers"])
    assert sum(o["npu"]["cycles"] for o in model["ops"]) == vela["cycles"]
    assert npu["clock_mhz"] == vela["clock_mhz"]
    assert npu["time_ms"] == pytest.approx(vela["cycles"] / (vela["clock_mhz"] * 1e3))
    assert abs(npu["sram_bytes"] / 1024 - vela["sram_kib"]) <= 0.005
    for target in ("NPU", "CPU"):  # cycles per target, summed over Vela's own rows
        assert (sum(o["npu"]["cycles"] for o in model["ops"] if o["npu"]["target"] == target)
                == sum(int(r["Op Cycles"]) for r in vela["layers"] if r["Target"] == target))
    # every row of Vela's per-layer CSV is attributed to one of the file's operators, and
    # the rows not fused into another are the operators Vela's summary counts
    assert sum(len(o["npu"]["vela_ops"]) for o in model["ops"]) == len(vela["layers"])
    for target in ("NPU", "CPU"):
        assert sum(not fused for o in model["ops"] if o["npu"]["target"] == target
                   for fused in o["npu"]["vela_fused"]) == vela[f"{target.lower()}_ops"]


@needs_vela
def test_cpu_operators_and_reasons(cpu_model, tmp_path):
    """DEQUANTIZE, CUMSUM and QUANTIZE stay on the CPU (they are the non-Ethos-U operators of
    Vela's compiled file), with Vela's reasons; the convs run on the NPU."""
    from rnnedge.tflite import read_model

    (model,) = _json("report", cpu_model, "--npu", "ethos-u55-256")["models"]
    placed = {o["op"]: o["npu"] for o in model["ops"]}
    assert {o["op"] for o in model["ops"] if o["npu"]["target"] == "CPU"} == {
        "DEQUANTIZE", "CUMSUM", "QUANTIZE"}
    assert placed["CUMSUM"]["reason"] == "Unsupported opType"
    assert "Float32" in placed["QUANTIZE"]["reason"]
    assert [o["npu"]["target"] for o in model["ops"] if o["op"] == "CONV_2D"] == ["NPU", "NPU"]
    _vela_by_hand(cpu_model, tmp_path, "ethos-u55-256", "Ethos_U55_High_End_Embedded",
                  "Shared_Sram")
    compiled = read_model(glob.glob(str(tmp_path / "*_vela.tflite"))[0]).main
    cpu_outputs = {compiled.tensors[op.outputs[0]].name for op in compiled.operators
                   if op.opcode != "ethos-u"}
    assert {o["name"] for o in model["ops"] if o["npu"]["target"] == "CPU"} == cpu_outputs
    text = _cli("report", cpu_model, "--npu", "ethos-u55-256").stdout
    assert "2 operators on the NPU, 3 on the CPU" in text and "Unsupported opType" in text


@needs_vela
@pytest.mark.parametrize("npu, system_config", [("ethos-u55-256", "Ethos_U55_High_End_Embedded"),
                                                ("ethos-u65-256", "Ethos_U65_Client_Server"),
                                                ("ethos-u85-256", "Ethos_U85_SYS_DRAM_Mid")])
def test_every_npu_and_clock(tinyml, tmp_path, npu, system_config):
    path = tinyml["ds_cnn"]
    (model,) = _json("report", path, "--npu", npu, "--clock-mhz", "250")["models"]
    vela = _vela_by_hand(path, tmp_path, npu, system_config, "Dedicated_Sram_384KB"
                         if "u55" not in npu else "Shared_Sram")
    assert model["npu"]["system_config"] == system_config
    assert model["npu"]["cycles"] == vela["cycles"]
    assert model["npu"]["time_ms"] == pytest.approx(vela["cycles"] / 250e3)
    assert model["npu"]["vela_clock_mhz"] == vela["clock_mhz"]


@needs_vela
def test_removed_operators(tinyml):
    """Vela folds the Keras flatten's SHAPE / STRIDED_SLICE / PACK into constants."""
    (model,) = _json("report", tinyml["ds_cnn"], "--npu", "ethos-u55-128")["models"]
    assert [o["op"] for o in model["ops"] if o["npu"]["target"] == "removed"] == [
        "SHAPE", "STRIDED_SLICE", "PACK"]
    assert model["npu"]["tflite_ops"] == {"NPU": 13, "CPU": 0, "removed": 3}


@needs_vela
@pytest.mark.slow
def test_side_by_side_text(tmp_path_factory, tinyml):
    paths = [export_zoo_model(tmp_path_factory, "cifar-resnet18-rnn"), tinyml["resnet18_w02"]]
    result = _cli("report", *paths, "--npu", "ethos-u55-128", "--planner", "inplace")
    assert result.exit_code == 0, result.output
    side = result.stdout.split("side by side:")[1].splitlines()
    assert "cifar-resnet18-rnn" in side[1] and "resnet18_w02" in side[1]
    rows = {line.split("  ")[0].strip(): line.split() for line in side[2:]}
    assert rows["arena inplace B"][-2:] == ["25,088", "25,088"]  # docs/arena.md, both
    assert rows["paper arena"][-2:] == ["24K", "-"]


def test_errors_are_one_line(tmp_path, tinyml):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer at all")
    for args in ([str(tmp_path / "missing.tflite")], [str(bad)],
                 [tinyml["ds_cnn"], "--npu", "ethos-u55-128", "--clock-mhz", "0"],
                 [tinyml["ds_cnn"], "--npu", "ethos-u55-128", "--clock-mhz", "nan"],
                 [tinyml["ds_cnn"], "--html", str(tmp_path / "no" / "such" / "dir.html")]):
        result = _cli("report", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    usage = _cli("report", tinyml["ds_cnn"], "--clock-mhz", "100")
    assert usage.exit_code == 2 and "need --npu" in usage.output
    assert not list((tmp_path).glob("*.html")) and not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", ["report", "export"])
def test_missing_vela_is_one_line(tinyml, tmp_path, command):
    """With no `vela` on PATH `report --npu` and `export --npu` fail in one line, exit 2,
    and the export writes nothing."""
    (tmp_path / "empty").mkdir()
    env = dict(os.environ, PATH=str(tmp_path / "empty"))
    args = ([tinyml["ds_cnn"]] if command == "report" else
            ["--zoo", "cifar-resnet18-rnn", "--int8", "-o", str(tmp_path / "m.tflite")])
    proc = subprocess.run([sys.executable, "-m", "rnnedge", command, *args, "--npu",
                           "ethos-u55-128"], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: vela is not installed (pip install ethos-u-vela)")
    assert proc.stderr.count("error:") == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "m.tflite").exists()


@needs_vela
@pytest.mark.slow
def test_export_npu_prints_the_split(tmp_path):
    out = tmp_path / "m.tflite"
    args = ["export", "--zoo", "cifar-resnet18-rnn", "--int8", "-o", out, "--calib-samples", "4",
            "--check-samples", "2", "--npu", "ethos-u55-128"]
    result = _cli(*args, "--json")
    assert result.exit_code == 0, result.output
    split = json.loads(result.stdout)["npu"]
    vela = _vela_by_hand(str(out), tmp_path, "ethos-u55-128", "Ethos_U55_High_End_Embedded",
                         "Shared_Sram")
    assert split["vela_ops"] == {"npu": vela["npu_ops"], "cpu": vela["cpu_ops"]}
    assert split["cycles"] == vela["cycles"] and split["cpu_operators"] == []
    assert split["tflite_ops"]["CPU"] == 0 and split["tflite_ops"]["NPU"] > 0
    text = _cli(*args).stdout
    assert f"Vela counts {vela['npu_ops']} NPU / 0 CPU operators" in text
