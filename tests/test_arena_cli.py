"""`rnnedge arena`: JSON/CSV/PNG outputs, numbers against independent computations, errors."""

import csv
import json

import pytest
from click.testing import CliRunner

from rnnedge import tinyml_models
from rnnedge.cli import main
from rnnedge.tflm_probe import measure_tflm

MODELS = sorted(tinyml_models.BUILDERS)


def _run(*args):
    return CliRunner().invoke(main, ["arena", *map(str, args)])


def _json(*args):
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_schema_and_resnet18_numbers(model_paths):
    report = _json(model_paths["resnet18_w02"])
    assert report["schema"] == "rnnedge.arena/1"
    assert report["arena"] == {"best": 36864, "tflm": 49152, "inplace": 25088,
                               "fused": 18768, "lower_bound": 36864}
    assert report["total_memory"] == report["weight_bytes"] + report["arena"]["best"]
    assert len(report["ops"]) == 30 and report["flags"] == []
    assert "eq. 17" in report["mac_convention"] and "estimate" in report["tail_convention"]
    assert {r["rule"] for r in report["inplace_rules"]} == {"fused_residual_add"}
    inplace = _json(model_paths["resnet18_w02"], "--planner", "inplace")
    assert inplace["total_memory"] == inplace["weight_bytes"] + 25088


def test_params_macs_against_keras(model_paths):
    """Independent count from the Keras graph (BN folded into conv biases by the converter)."""
    import tensorflow as tf

    keras_model = tinyml_models.build_keras("resnet18_w02")
    params = macs = biases = 0
    for layer in keras_model.layers:
        out = layer.output.shape
        if isinstance(layer, tf.keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            params += kh * kw * cin * cout + cout
            biases += cout
            macs += (kh * kw * cin * cout + cout) * out[1] * out[2]
        elif isinstance(layer, tf.keras.layers.Dense):
            n_in, n_out = layer.kernel.shape
            params += n_in * n_out + n_out
            biases += n_out
            macs += n_in * n_out + n_out
        elif isinstance(layer, tf.keras.layers.Add):
            macs += out[1] * out[2] * out[3]
        elif isinstance(layer, tf.keras.layers.GlobalAveragePooling2D):
            shape = layer.input.shape
            macs += shape[1] * shape[2] * shape[3]
    report = _json(model_paths["resnet18_w02"])
    assert report["params"]["count"] == params
    assert report["params"]["bytes"] == {"INT8": params - biases, "INT32": 4 * biases}
    assert report["weight_bytes"] == params - biases + 4 * biases
    assert report["macs"] == macs and report["macs_complete"]
    assert sum(o["params"] for o in report["ops"]) == params


def test_live_bytes_per_op_match_plans(model_paths):
    from rnnedge.planner import plan
    from rnnedge.tflite import read_model

    report = _json(model_paths["mobilenet_v1_025"])
    model = read_model(model_paths["mobilenet_v1_025"])
    for name in ("tflm", "best"):
        p = plan(model, name)
        for o in report["ops"]:
            live = sum(b.size for b in p.buffers if b.first <= o["index"] + 1 <= b.last)
            assert o["live_bytes"][name] == live
        assert max(o["live_bytes"][name] for o in report["ops"]) == p.lower_bound


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_verify_tflm_and_tail_estimate(model_paths, name):
    report = _json(model_paths[name], "--verify-tflm")
    assert report["tflm"]["head"] == report["arena"]["tflm"]
    measured = measure_tflm(model_paths[name])["tail"]
    assert report["tflm"]["tail"] == measured
    assert abs(report["tail_estimate"] - measured) <= 0.1 * measured


def test_csv_plot_and_text(model_paths, tmp_path):
    path = model_paths["unet"]
    result = _run(path, "--csv", tmp_path / "ops.csv", "--plot", tmp_path / "arena.png")
    assert result.exit_code == 0, result.output
    assert "tensor arena: best 49,152 B, tflm 49,152 B" in result.output
    assert "RESIZE_NEAREST_NEIGHBOR" in result.output
    rows = list(csv.DictReader(open(tmp_path / "ops.csv")))
    report = _json(path)
    assert len(rows) == len(report["ops"])
    for row, op in zip(rows, report["ops"]):
        assert row["op"] == op["op"] and int(row["live_bytes_tflm"]) == op["live_bytes"]["tflm"]
        assert row["macs"] == ("" if op["macs"] is None else str(op["macs"]))
    png = (tmp_path / "arena.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000


def test_write_plan(model_paths, tmp_path):
    out = tmp_path / "planned.tflite"
    report = _json(model_paths["resnet18_w02"], "--write-plan", out)
    assert report["written_plan"]["arena"] == 36864 and out.exists()
    result = _run(model_paths["resnet18_w02"], "--planner", "inplace", "--write-plan",
                  tmp_path / "x.tflite")
    assert result.exit_code == 2 and result.output.startswith("error: --write-plan")
    assert not (tmp_path / "x.tflite").exists()


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"\x10\0\0\0TFL3" + b"\0" * 8])
def test_bad_files_exit_2_with_one_line(tmp_path, content):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(content)
    for extra in ([], ["--json"], ["--verify-tflm"]):
        result = _run(bad, *extra)
        assert result.exit_code == 2
        assert result.output.startswith("error: ") and result.output.count("\n") == 1


def test_missing_file_exit_2(tmp_path):
    result = _run(tmp_path / "missing.tflite")
    assert result.exit_code == 2 and result.output.startswith("error: no such model file")


def test_unwritable_output_exit_2(model_paths, tmp_path):
    for option in ("--csv", "--plot", "--write-plan"):
        result = _run(model_paths["autoencoder"], option, tmp_path / "no" / "such" / "dir.out")
        assert result.exit_code == 2 and result.output.startswith("error: cannot write")
