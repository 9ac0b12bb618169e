"""`rnnedge zoo` and `rnnedge summary` as a user runs them."""

import json
import subprocess
import sys

from click.testing import CliRunner

from rnnedge import zoo
from rnnedge.cli import main


def test_zoo_lists_every_model():
    result = CliRunner().invoke(main, ["zoo", "--json"])
    assert result.exit_code == 0
    models = json.loads(result.output)["models"]
    assert [m["name"] for m in models] == zoo.names()
    assert {m["name"]: m["params"] for m in models}["cifar-resnet18-rnn"] == 156_338
    text = CliRunner().invoke(main, ["zoo"]).output
    assert "det-crnn-480x640" in text and "438,107" in text


def test_summary_json_schema():
    result = CliRunner().invoke(main, ["summary", "cifar-resnet18-rnn", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["model"] == "cifar-resnet18-rnn" and data["input_shape"] == [3, 32, 32]
    assert data["total_params"] == 156_338 and data["total_macs"] == sum(layer["macs"] for layer in data["layers"])
    for layer in data["layers"]:
        assert {"name", "type", "params", "macs", "paper_params"} <= set(layer)
        assert isinstance(layer["params"], int) and isinstance(layer["macs"], int)


def test_summary_text_marks_every_row():
    output = CliRunner().invoke(main, ["summary", "det-crnn-256"]).output
    assert " NO" not in output
    assert output.count(" yes") == 23
    assert "Table 4 states 493K" in output


def test_unknown_model_is_one_line_exit_2():
    proc = subprocess.run([sys.executable, "-m", "rnnedge", "summary", "resnet"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "valid names:" in proc.stderr and "Traceback" not in proc.stderr
