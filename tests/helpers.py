"""Plain helpers shared by the test modules (no test module imports another; fixtures are in
conftest.py): rnnedge's zoo exports, made once per session in a subprocess as a user runs
`rnnedge export`, random model inputs, and the raw inplace plan the firmware must honour."""

import dataclasses
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from rnnedge.data import Augmentation
from rnnedge.data.base import make_dataset

from rnnedge.firmware_sim.compiler import compile_model
from rnnedge.planner import plan
from rnnedge.planner.best import best_plan
from rnnedge.planner.greedy import arena_size
from rnnedge.planner.inplace import inplace_buffers
from rnnedge.planner.lifetimes import ROW_SCRATCH
from rnnedge.tflite import read_model

SAMPLES = 2
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_benchmark(name: str):
    """The module benchmarks/<name>.py (a script folder, not a package), imported."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark",
                                                  os.path.join(ROOT, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def export_zoo_model(tmp_path_factory, name: str) -> str:
    """The .tflite path of rnnedge's int8 export of zoo model `name` (fresh weights). An
    export that fails FAILS the test (an exporter regression must not hide as a skip); it is
    skipped only when an optional tool the export runs is not installed, naming it."""
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (the export's reference-"
                        "kernel check) is not installed")
    pytest.importorskip("tflite_micro", reason="tflite-micro (the export's TFLM check) is not "
                        "installed")
    path = tmp_path_factory.getbasetemp() / f"{name}.tflite"
    if not path.exists():
        proc = subprocess.run([sys.executable, "-m", "rnnedge", "export", "--zoo", name,
                               "--int8", "-o", str(path), "--calib-samples", "8",
                               "--check-samples", "2", "--json"],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            pytest.fail(f"rnnedge export --zoo {name} failed (exit {proc.returncode}): "
                        f"{proc.stderr.strip()[-400:]}")
    return str(path)


def small_export(tmp_path_factory, name: str, input_shape) -> str:
    """rnnedge's int8 export of zoo model `name` (seed 0 weights) at a smaller `input_shape`
    (C, H, W): the same layers over fewer pixels, exported in process without the TFLM check
    (the tests compare with TFLM themselves)."""
    from rnnedge import zoo
    from rnnedge.export.pipeline import export_int8

    shape = tuple(int(d) for d in input_shape)
    path = tmp_path_factory.getbasetemp() / f"{name}-{'x'.join(map(str, shape))}.tflite"
    if not path.exists():
        torch.manual_seed(0)
        export_int8(zoo.build(name).eval(), {"input_shape": list(shape)}, str(path),
                    calib_samples=2, check_samples=1, run_tflm=False)
    return str(path)


def ops_model(tmp_path_factory) -> str:
    """A small int8 model with float32 input and output (QUANTIZE, DEQUANTIZE) covering
    TANH, LOGISTIC, MUL, SUB, CONCATENATION on axis 1, PAD, DEPTHWISE_CONV_2D, a Flatten
    (SHAPE/STRIDED_SLICE/PACK/RESHAPE), FULLY_CONNECTED and SOFTMAX; once per session."""
    path = tmp_path_factory.getbasetemp() / "ops.tflite"
    if path.exists():
        return str(path)
    tf = pytest.importorskip("tensorflow", reason="tensorflow (tf.lite) is not installed")

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(0)
    inp = tf.keras.Input((8, 8, 3))
    a = L.Conv2D(6, 3, padding="same")(inp)
    t, g = L.Activation("tanh")(a), L.Activation("sigmoid")(a)
    d = L.Subtract()([L.Multiply()([t, g]), a])
    p = L.ZeroPadding2D(((1, 0), (0, 1)))(L.Concatenate(axis=1)([d, t]))
    q = L.DepthwiseConv2D(3, strides=2, padding="valid")(p)
    out = L.Softmax()(L.Dense(5)(L.Reshape((-1,))(q)))
    calibration = np.random.default_rng(0).uniform(-1, 1, (8, 1, 8, 8, 3)).astype(np.float32)
    converter = tf.lite.TFLiteConverter.from_keras_model(tf.keras.Model(inp, out))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x] for x in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    path.write_bytes(converter.convert())
    return str(path)


def model_inputs(path, n=SAMPLES, seed=0) -> np.ndarray:
    """`n` random inputs of the model's input shape and dtype (int8 or int16 over their whole
    range, or float32 in [-1, 1]), stacked on axis 0."""
    sg = read_model(path).main
    tensor = sg.tensors[sg.inputs[0]]
    shape, rng = (n,) + tuple(tensor.shape[1:]), np.random.default_rng(seed)
    if tensor.dtype == np.float32:
        return rng.uniform(-1, 1, shape).astype(np.float32)
    info = np.iinfo(tensor.dtype)
    return rng.integers(info.min, info.max + 1, shape, dtype=tensor.dtype)


def raw_inplace_plan(model, row_scratch=True):
    """The inplace plan with every rule applied, even where `plan()` falls back to best's
    layout because the rules do not shrink the arena: the runtime must honour it too.
    `row_scratch=False` drops the fused steps' row scratch buffers (the last buffers), as a
    hand-made plan might: the runtime then finds the rows a gap or a separate scratch."""
    buffers, placement, steps, fusions, rules = inplace_buffers(model.main)
    if not row_scratch:
        buffers = [b for b in buffers if b.kind != ROW_SCRATCH]
    offsets = best_plan(buffers)
    return dataclasses.replace(
        plan(model, "inplace"), arena=arena_size(buffers, offsets), buffers=tuple(buffers),
        buffer_offsets=offsets,
        tensor_offsets={t: offsets[b] + rel for t, (b, rel) in placement.items()},
        steps=tuple(tuple(s) for s in steps), fusions=tuple(fusions), rules=tuple(rules))


def compile_with(path, planner):
    """compile_model for a planner name, "inplace-raw" meaning raw_inplace_plan and
    "inplace-norows" the same without its row scratch buffers."""
    if planner in ("inplace-raw", "inplace-norows"):
        model = read_model(path)
        return compile_model(model, plan=raw_inplace_plan(model, planner == "inplace-raw"))
    return compile_model(path, planner)


def assert_c_equals_tflm(path, label, planners=("tflm", "best", "inplace")):
    """The C kernels (debug runtime: poisoned arena, CRCs) give TFLM's output bytes on three
    of `path`'s samples under every planner of `planners`."""
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.firmware_sim.runtime import Runtime

    x = model_inputs(path, 3)
    expected = make_backend("tflm", path)(x)[0]
    for planner in planners:
        runtime = Runtime(compile_with(path, planner), debug=True)
        got = np.stack([runtime.invoke(s[None])[0] for s in x]).reshape(expected.shape)
        assert np.array_equal(got, expected), (label, planner)


def padded_strided_convs(sg) -> set:
    """(PAD op, conv op) for every stride-2 conv reading a PAD output, found by a plain scan."""
    producer = {t: op for op in sg.operators for t in op.outputs}
    out = set()
    for op in sg.operators:
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D") and op.options.get("stride_h") == 2:
            pad = producer.get(op.inputs[0])
            if pad is not None and pad.opcode in ("PAD", "PADV2"):
                out.add((pad.index, op.index))
    return out


def colour_dataset(n, seed, classes=3):
    """Noisy images whose class is their dominant colour channel: easy to learn."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    images = rng.normal(100, 25, (n, 8, 8, 3))
    images[np.arange(n), :, :, labels] += 60
    return make_dataset(np.clip(images, 0, 255).astype(np.uint8), labels,
                        [f"c{i}" for i in range(classes)], f"colours {seed}",
                        Augmentation(crop_pad=1, flip=True))


def tiny_model(classes=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, classes))
