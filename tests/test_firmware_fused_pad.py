"""firmware_sim honours the fused_pad rule: a conv given the PAD's input and explicit offsets
computes TFLM's bits for PAD + conv (kernel level, whole CIFAR ResNet18 exports in debug
mode, a PAD + conv + residual ADD step, and the generated C), and a plan fusing a PAD the
conv cannot take is refused."""

import dataclasses

import numpy as np
import pytest

from rnnedge import tinyml_models
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim import codegen, toolchain
from rnnedge.firmware_sim.backends import make_backend
from rnnedge.firmware_sim.compiler import compile_model
from rnnedge.firmware_sim.runtime import Runtime
from rnnedge.kernels import load
from rnnedge.kernels import ops as kernel_ops
from rnnedge.kernels.params import Quant
from rnnedge.tflite import read_model
from helpers import export_zoo_model, model_inputs, padded_strided_convs, raw_inplace_plan

ZOO = ("cifar-resnet18-thin", "cifar-resnet18-rnn")


def pad_conv_add_model(tmp_path_factory) -> str:
    """Keras int8 model CONV -> CONV 1x1 -> PAD ((2, 0), (0, 2)) -> CONV 3x3 VALID -> ADD
    (skip: the first conv) -> CONV 1x1; the asymmetric PAD keeps the converter from
    folding it into SAME, so the inplace rules give one (PAD, CONV, ADD) step."""
    path = tmp_path_factory.getbasetemp() / "pad_conv_add.tflite"
    if path.exists():
        return str(path)
    import tensorflow as tf

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(0)
    inp = tf.keras.Input((8, 8, 4))
    a = L.Conv2D(4, 3, padding="same", activation="relu")(inp)
    b = L.Conv2D(4, 1, activation="relu")(a)
    c = L.Conv2D(4, 3, padding="valid")(L.ZeroPadding2D(((2, 0), (0, 2)))(b))
    out = L.Conv2D(2, 1)(L.Add()([c, a]))
    path.write_bytes(tinyml_models.to_int8_tflite(tf.keras.Model(inp, out)))
    return str(path)


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """{name: .tflite path}: the two zoo exports and the PAD + conv + ADD model."""
    out = {name: export_zoo_model(tmp_path_factory, name) for name in ZOO}
    out["pad_conv_add"] = pad_conv_add_model(tmp_path_factory)
    return out


@pytest.fixture(scope="module")
def references(paths):
    """{name: (inputs, TFLM's first output)}."""
    out = {}
    for name, path in paths.items():
        x = model_inputs(path, 2, seed=1)
        out[name] = (x, make_backend("tflm", path)(x)[0])
    return out


def run_debug(program, x) -> np.ndarray:
    """The first output of `program` for each sample of `x`, in debug mode."""
    runtime = Runtime(program, debug=True)
    return np.concatenate([runtime.invoke(sample[None])[0] for sample in x])


def fused_program(path):
    """The program of the plan with every in-place rule applied (best's fallback off)."""
    model = read_model(path)
    return compile_model(model, plan=raw_inplace_plan(model))


# -- kernels: explicit padding == PAD with the zero point, then VALID ---------------------------

@pytest.mark.parametrize("depthwise", [False, True])
@pytest.mark.parametrize("padding,stride", [(((1, 1), (1, 1)), 2), (((2, 0), (0, 2)), 1),
                                            (((0, 1), (2, 1)), 2)])
def test_explicit_padding_equals_pad_then_valid(depthwise, padding, stride):
    rng = np.random.default_rng(0)
    lib = load()
    x = rng.integers(-128, 128, (1, 7, 6, 3), dtype=np.int8)
    in_q, out_q, zp = Quant(0.05, -7), Quant(0.1, 3), -7
    if depthwise:
        cls, w = kernel_ops.DepthwiseConv2D, rng.integers(-127, 128, (1, 3, 3, 6), dtype=np.int8)
        channels = 6
    else:
        cls, w = kernel_ops.Conv2D, rng.integers(-127, 128, (5, 3, 3, 3), dtype=np.int8)
        channels = 5
    bias = rng.integers(-500, 500, channels).astype(np.int32)
    scales = np.full(channels, 0.02, np.float32)
    padded = np.pad(x, ((0, 0), *padding, (0, 0)), constant_values=zp)
    reference = cls(padded.shape, w, bias, in_q, scales, out_q, stride=stride,
                    padding="VALID", lib=lib)(padded)
    fused = cls(x.shape, w, bias, in_q, scales, out_q, stride=stride, padding=padding,
                lib=lib)
    assert fused.params.pad_height == padding[0][0] and fused.params.pad_width == padding[1][0]
    assert fused.output_shape == reference.shape
    assert np.array_equal(fused(x), reference)


@pytest.mark.parametrize("padding", ["FULL", ((1, 1),), ((-1, 0), (0, 0)), "x"])
def test_bad_explicit_padding_is_refused(padding):
    w = np.ones((2, 3, 3, 3), np.int8)
    with pytest.raises(RnnedgeError):
        kernel_ops.Conv2D((1, 4, 4, 3), w, None, Quant(0.1, 0), np.full(2, 0.1, np.float32),
                 Quant(0.1, 0), padding=padding, lib=load())


def test_string_padding_still_works():
    w = np.ones((2, 3, 3, 3), np.int8)
    conv = kernel_ops.Conv2D((1, 5, 5, 3), w, None, Quant(0.1, 0), np.full(2, 0.1, np.float32),
                    Quant(0.1, 0), stride=2, padding="SAME", lib=load())
    assert conv.output_shape == (1, 3, 3, 2) and conv.params.pad_height == 1


# -- whole models --------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", ZOO)
def test_zoo_exports_bit_exact_with_tflm(paths, references, name):
    x, expected = references[name]
    program = fused_program(paths[name])
    sg = program.model.main
    fused = {s.ops[:2] for s in program.steps if sg.operators[s.ops[0]].opcode == "PAD"}
    assert fused == padded_strided_convs(sg)
    for s in program.steps:
        if s.ops[:2] in fused:
            assert s.reads[0] == sg.operators[s.ops[0]].inputs[0]  # the unpadded input
    assert np.array_equal(run_debug(program, x), expected)
    assert np.array_equal(make_backend("c", paths[name], planner="inplace")(x)[0], expected)


@pytest.mark.parametrize("name", ZOO)
def test_inplace_program_has_the_issue_arena(paths, references, name):
    """Both CIFAR exports run in a 25,088-byte arena with TFLM's output bytes, in debug mode
    (poisoned dead bytes, live tensors CRC-checked after every step), with no extra scratch."""
    program = compile_model(paths[name], "inplace")
    assert program.arena <= 25_088 and program.plan.fused_pads and program.scratch == 0
    x, expected = references[name]
    assert np.array_equal(run_debug(program, x), expected)


def test_pad_conv_add_step_bit_exact(paths, references):
    program = fused_program(paths["pad_conv_add"])
    sg = program.model.main
    opcodes = [tuple(sg.operators[i].opcode for i in s.ops) for s in program.steps]
    assert ("PAD", "CONV_2D", "ADD") in opcodes
    x, expected = references["pad_conv_add"]
    assert np.array_equal(run_debug(program, x), expected)


def test_plan_fusing_an_unfit_pad_is_refused(paths):
    """A plan that fuses a PAD whose output quantisation differs from its input's cannot be
    honoured: the compiler names the operators."""
    model = read_model(paths["cifar-resnet18-thin"])
    good = raw_inplace_plan(model)
    pad, _ = sorted(padded_strided_convs(model.main))[0]
    sg = model.main
    t = sg.tensors[sg.operators[pad].outputs[0]]
    q = dataclasses.replace(t.quantization, scales=t.quantization.scales * 2)
    tensors = list(sg.tensors)
    tensors[t.index] = dataclasses.replace(t, quantization=q)
    bad = dataclasses.replace(model, subgraphs=(dataclasses.replace(sg, tensors=tuple(tensors)),)
                              + tuple(model.subgraphs[1:]))
    with pytest.raises(RnnedgeError, match="cannot take as explicit padding"):
        compile_model(bad, plan=good)


@pytest.mark.slow
def test_generated_c_honours_fused_pad(paths, references, tmp_path):
    program = compile_model(paths["cifar-resnet18-thin"], "inplace")
    codegen.write_firmware(program, tmp_path)
    x, expected = references["cifar-resnet18-thin"]
    executable = toolchain.build_host(tmp_path)
    assert toolchain.run_host(executable, x.tobytes()) == expected.tobytes()
