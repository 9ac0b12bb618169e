"""Hostile .tflite files through the real command line (subprocesses, so a signal or a
traceback is seen as the user sees it). Each file is built here from ResNet-8 with the
flatc-generated object API of tflite-micro's schema, and every command must end in exit 0
or in exactly one `error:` line with exit 2 and nothing left at its output path."""

import subprocess
import sys

import numpy as np
import pytest

from rnnedge import tinyml_models as T

pytest.importorskip("flatbuffers", reason="flatbuffers (tflite-micro's schema API) is missing")
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb  # noqa: E402


@pytest.fixture(scope="module")
def raw():
    return T.tflite_bytes("resnet8")


def load(raw):
    return fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(raw, 0))


def pack(model) -> bytes:
    import flatbuffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def cli(*args, env=None, timeout=300):
    proc = subprocess.run([sys.executable, "-m", "rnnedge", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_error(result, needle=""):
    code, _, err = result
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err[-2000:])
    assert "internal error" not in lines[0] and needle in lines[0], lines[0]


def write(tmp_path, name, model):
    path = tmp_path / name
    path.write_bytes(pack(model) if not isinstance(model, bytes) else model)
    return path


def zero_input(tmp_path, shape=(1, 32, 32, 3)):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros(shape, np.int8))
    return path


def test_constant_graph_input_crashes_tflite_in_a_child_only(raw, tmp_path):
    model = load(raw)
    sg = model.subgraphs[0]
    sg.inputs = np.array([sg.operators[0].inputs[1]], np.int32)  # a weight tensor as input
    path = write(tmp_path, "const_input.tflite", model)
    x = tmp_path / "w.npy"
    np.save(x, np.zeros(tuple(sg.tensors[sg.inputs[0]].shape), np.int8))
    out = tmp_path / "y.npy"
    code, _, err = cli("run", path, "--input", x, "--backend", "tflite", "--output", out)
    assert code != -11 and code != 139, err  # the process itself never dies by a signal
    assert_one_error((code, "", err))
    assert "crashed on this model (signal" in err or "TFLite" in err, err
    assert not out.exists()
    for backend in ("c", "tflm"):
        code, _, err = cli("run", path, "--input", x, "--backend", backend, "--output", out)
        assert code in (0, 2) and "Traceback" not in err, err
        if code == 2:
            assert_one_error((code, "", err))


@pytest.mark.parametrize("command", [
    ["run", "{m}", "--input", "{x}", "--backend", "c"],
    ["run", "{m}", "--input", "{x}", "--backend", "tflite"],
    ["run", "{m}", "--input", "{x}", "--backend", "tflm"],
    ["firmware", "{m}", "-o", "{out}"],
    ["firmware", "{m}", "-o", "{out}", "--build", "host"],
])
def test_huge_unused_tensor_is_refused_before_allocation(raw, tmp_path, command):
    model = load(raw)
    sg = model.subgraphs[0]
    huge = fb.TensorT()
    huge.shape, huge.type, huge.buffer, huge.name = np.array([2, 1 << 30], np.int32), \
        fb.TensorType.INT32, 0, b"huge"
    sg.tensors.append(huge)
    path = write(tmp_path, "huge.tflite", model)
    args = [a.format(m=path, x=zero_input(tmp_path), out=tmp_path / "fw") for a in command]
    assert_one_error(cli(*args), "--max-arena")
    assert not (tmp_path / "fw").exists()


def test_firmware_for_a_microcontroller_is_held_to_its_ram(raw, tmp_path):
    path = write(tmp_path, "m.tflite", raw)
    assert_one_error(cli("firmware", path, "-o", tmp_path / "fw", "--max-arena", "1K"),
                     "limit of 1,024")
    assert not (tmp_path / "fw").exists()
    code, _, err = cli("firmware", path, "-o", tmp_path / "fw")
    assert code == 0, err


def test_model_without_outputs_leaves_no_file(raw, tmp_path):
    model = load(raw)
    model.subgraphs[0].outputs = np.array([], np.int32)
    path = write(tmp_path, "no_outputs.tflite", model)
    out = tmp_path / "y.npz"
    assert_one_error(cli("run", path, "--input", zero_input(tmp_path), "--output", out),
                     "no outputs")
    assert not out.exists()


def test_output_paths_that_cannot_be_written(raw, tmp_path):
    path = write(tmp_path, "m.tflite", raw)
    x = zero_input(tmp_path)
    (tmp_path / "file").write_text("")
    for target in (tmp_path / "missing" / "y.npy", tmp_path / "file" / "y.npy", tmp_path):
        assert_one_error(cli("run", path, "--input", x, "--output", target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "m.tflite", "x.npy"]


def test_comment_opener_in_a_tensor_name_still_builds(raw, tmp_path):
    model = load(raw)
    for t in model.subgraphs[0].tensors:
        t.name = b"evil /* name */ " + t.name
    path = write(tmp_path, "names.tflite", model)
    code, _, err = cli("firmware", path, "-o", tmp_path / "fw", "--build", "host")
    assert code == 0, err


def test_stride_that_overflows_index_arithmetic_is_refused(raw, tmp_path):
    model = load(raw)
    conv = next(op for op in model.subgraphs[0].operators
                if op.builtinOptionsType == fb.BuiltinOptions.Conv2DOptions)
    conv.builtinOptions.strideH = 2**31 - 1
    conv.builtinOptions.dilationHFactor = 2**30
    path = write(tmp_path, "stride.tflite", model)
    code, _, err = cli("run", path, "--input", zero_input(tmp_path), "--backend", "c")
    assert_one_error((code, "", err))


def test_bias_near_int32_limits_runs_without_undefined_behaviour(raw, tmp_path):
    """The accumulator + bias overflow int32: the sanitizer build must stay silent and the
    c backend must give tflite-micro's (wrapped) bytes."""
    from rnnedge.kernels import build

    model = load(raw)
    sg = model.subgraphs[0]
    conv = sg.operators[0]
    bias = sg.tensors[conv.inputs[2]]
    values = np.full(len(model.buffers[bias.buffer].data) // 4, 2**31 - 1, "<i4")
    values[::2] = -2**31
    model.buffers[bias.buffer].data = np.frombuffer(values.tobytes(), np.uint8)
    path = write(tmp_path, "bias.tflite", model)
    x = tmp_path / "r.npy"
    np.save(x, np.random.default_rng(3).integers(-128, 128, (2, 32, 32, 3), dtype=np.int8))
    outs = {}
    for backend, env in (("c", build.sanitizer_env()), ("tflm", None)):
        outs[backend] = tmp_path / f"{backend}.npy"
        code, _, err = cli("run", path, "--input", x, "--backend", backend, "--output",
                           outs[backend], env=env)
        assert code == 0 and "runtime error" not in err, err
    assert np.array_equal(np.load(outs["c"]), np.load(outs["tflm"]))


@pytest.mark.parametrize("metadata, needle", [
    (b'{"input_shape": "3,32,32", "normalization": {"mean": [0], "std": [1]}}', "input_shape"),
    (b'{"input_shape": [3, 32, 32], "normalization": {"mean": [0, 1], "std": [1]}}', "mean"),
    (b'{"input_shape": [3, 32, 32], "normalization": {"mean": [0], "std": [0]}}', "std"),
    (b'{"input_shape": [3, 32, 32], "normalization": {"mean": [0], "std": [1]}, '
     b'"class_names": [1, 2]}', "class_names"),
    (b'[1, 2, 3]', "preprocessing"),
])
def test_preprocessing_metadata_is_validated(raw, tmp_path, metadata, needle):
    from rnnedge.preprocessing import METADATA_NAME
    from rnnedge.tflite import add_metadata

    path = write(tmp_path, "meta.tflite", add_metadata(raw, METADATA_NAME, metadata))
    assert_one_error(cli("check", path, "--data", "synthetic:n=4", "--backend", "c"), needle)


@pytest.mark.parametrize("spec, needle", [
    ("synthetic:n=200000000", "n="), ("synthetic:seed=-1", "seed"),
    ("synthetic:noise=nan", "noise"), ("synthetic:clutter=100000000", "clutter"),
])
def test_dataset_specs_are_range_checked(raw, tmp_path, spec, needle):
    path = write(tmp_path, "m.tflite", raw)
    from rnnedge.preprocessing import METADATA_NAME
    from rnnedge.tflite import add_metadata
    meta = b'{"input_shape": [3, 32, 32], "normalization": {"mean": [0], "std": [1]}}'
    path.write_bytes(add_metadata(raw, METADATA_NAME, meta))
    assert_one_error(cli("check", path, "--data", spec, "--backend", "c"), needle)


def test_npy_header_larger_than_the_file(raw, tmp_path):
    path = write(tmp_path, "m.tflite", raw)
    x = zero_input(tmp_path)
    x.write_bytes(x.read_bytes().replace(b"(1, 32, 32, 3)", b"(9999999, 99999, 3)"))
    assert_one_error(cli("run", path, "--input", x), "header declares")


@pytest.mark.parametrize("args", [["run"], ["no-such-command"], ["run", "m", "--backend", "x"],
                                  ["check", "m", "--samples", "0", "--data", "synthetic"]])
def test_click_usage_errors_are_one_line(args):
    assert_one_error(cli(*args))
