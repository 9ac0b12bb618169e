"""Test harness for the op-level kernel tests: builds single-op int8 TFLite models
with TensorFlow, runs them in TFLite Micro, and reads back what the C kernel needs.

Models are converted once per test session (cached by a key chosen by the test).
Tensors (shapes, quantisation, constant data) come from `tf.lite.Interpreter`; the
builtin options (strides, padding, fused activation...) come from TFLM's own
flatbuffer schema bindings, so nothing here depends on rnnedge's TFLite reader.

May import: numpy, tensorflow, tflite_micro and rnnedge.kernels.
"""

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from rnnedge.kernels.params import Quant

_MODELS: dict[str, bytes] = {}
_OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
PADDINGS = {0: "SAME", 1: "VALID"}


def convert(key: str, fn, input_specs, representative, *, per_channel=True,
            per_channel_dense=True, int8_io=True, int16x8=False) -> bytes:
    """Full-int8 TFLite model of the tf.function `fn` (int8 inputs and outputs unless
    `int8_io` is false), converted once per session under `key`.  `representative`
    is a list of float input lists for calibration; `per_channel` / `per_channel_dense`
    choose per-channel weight scales for convolutions / fully connected layers; `int16x8`
    converts with int16 activations and int8 weights
    (EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8; int16 inputs and outputs
    unless `int8_io` is false)."""
    if key not in _MODELS:
        concrete = tf.function(fn, input_signature=[
            tf.TensorSpec(shape, tf.float32) for shape in input_specs]).get_concrete_function()
        conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([np.asarray(x, np.float32) for x in sample]
                                               for sample in representative)
        conv.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
            if int16x8 else tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            conv.inference_input_type = tf.int16 if int16x8 else tf.int8
            conv.inference_output_type = tf.int16 if int16x8 else tf.int8
        conv._experimental_disable_per_channel = not per_channel
        conv._experimental_disable_per_channel_quantization_for_dense_layers = (
            not per_channel_dense)
        model = conv.convert()
        assert b"TFL3" in model[:8], "converter returned no TFLite model"
        _MODELS[key] = model
    return _MODELS[key]


@dataclass
class Tensor:
    """One tensor of the model as the kernel wrappers want it."""

    shape: tuple
    dtype: np.dtype
    quant: Quant
    data: np.ndarray | None
    index: int = -1


class SingleOp:
    """The one operator of a converted single-op model: its name, options, input
    and output tensors (constants carry their data)."""

    def __init__(self, model: bytes, reference: bool = True):
        """Read `model` with TFLite's reference op resolver (`reference`), or with its
        builtin one (no delegates) for ops the reference resolver lacks (ELU)."""
        kind = tf.lite.experimental.OpResolverType
        interp = tf.lite.Interpreter(
            model_content=model,
            experimental_op_resolver_type=kind.BUILTIN_REF if reference else kind.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interp.allocate_tensors()
        ops = interp._get_ops_details()
        self.names = [o["op_name"] for o in ops]
        details = {d["index"]: d for d in interp.get_tensor_details()}
        model_t = runtime.convert_bytearray_to_object(model)
        graph = model_t.subgraphs[0]
        constants = {i for i, t in enumerate(graph.tensors)
                     if model_t.buffers[t.buffer].data is not None}
        self.ops = []
        for op, op_t in zip(ops, graph.operators):
            ins = [None if i < 0 else self._tensor(interp, details[i], i in constants)
                   for i in op["inputs"]]
            outs = [self._tensor(interp, details[i], False) for i in op["outputs"]]
            for t, i in zip(ins + outs, list(op["inputs"]) + list(op["outputs"])):
                if t is not None:
                    t.index = int(i)
            self.ops.append((op["op_name"], op_t.builtinOptions, ins, outs))

    @staticmethod
    def _tensor(interp, d, constant: bool) -> Tensor:
        """A Tensor from an Interpreter tensor detail (with data if constant)."""
        qp = d["quantization_parameters"]
        scales, zps = qp["scales"], qp["zero_points"]
        scale = (float(scales[0]) if len(scales) == 1 else np.asarray(scales, np.float32)) \
            if len(scales) else 0.0
        zp = int(zps[0]) if len(zps) else 0
        data = np.array(interp.get_tensor(d["index"])) if constant else None
        return Tensor(tuple(int(s) for s in d["shape"]), np.dtype(d["dtype"]), Quant(scale, zp),
                      data)

    def only(self, name: str):
        """(options, inputs, outputs) of the single op, asserting it is `name`."""
        assert self.names == [name], f"expected a single {name}, got {self.names}"
        _, options, ins, outs = self.ops[0]
        return options, ins, outs


def with_opcode(model: bytes, name: str) -> bytes:
    """`model` with every operator code replaced by builtin `name` and the operators' options
    dropped: an int8 single-op model of a builtin the converter keeps in float (ELU), written
    with TFLM's own schema bindings."""
    import flatbuffers
    model_t = schema.ModelT.InitFromPackedBuf(model, 0)
    for code in model_t.operatorCodes:
        code.builtinCode = getattr(schema.BuiltinOperator, name)
        code.deprecatedBuiltinCode = min(code.builtinCode, 127)
        code.version = 1
    for graph in model_t.subgraphs:
        for op in graph.operators:
            op.builtinOptionsType, op.builtinOptions = 0, None
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(model_t.Pack(builder), b"TFL3")
    return bytes(builder.Output())


def activation(options) -> str:
    """Fused activation name of an op's builtin options."""
    return ACTIVATIONS[options.fusedActivationFunction]


def padding(options) -> str:
    """Padding name of an op's builtin options."""
    return PADDINGS[options.padding]


class Tflm:
    """A TFLM interpreter over one model, reused across inputs."""

    def __init__(self, model: bytes):
        self.interp = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
        self.n_out = len(runtime.convert_bytearray_to_object(model).subgraphs[0].outputs)

    def __call__(self, *inputs) -> list[np.ndarray]:
        """Run one inference; returns copies of all outputs."""
        for i, x in enumerate(inputs):
            self.interp.set_input(x, i)
        self.interp.invoke()
        return [np.array(self.interp.get_output(i)) for i in range(self.n_out)]


def int8_inputs(rng, shape, count: int = 4) -> list[np.ndarray]:
    """Random int8 tensors plus the two saturated extremes."""
    out = [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(count)]
    out.append(np.full(shape, -128, np.int8))
    out.append(np.full(shape, 127, np.int8))
    return out


def int16_inputs(rng, shape, count: int = 4) -> list[np.ndarray]:
    """Random int16 tensors (full range, and a small-magnitude one) plus the two extremes."""
    out = [rng.integers(-32768, 32768, size=shape, dtype=np.int16) for _ in range(count)]
    out.append(rng.integers(-300, 300, size=shape).astype(np.int16))
    out.append(np.full(shape, -32768, np.int16))
    out.append(np.full(shape, 32767, np.int16))
    return out


def random_range(rng) -> tuple[float, float]:
    """A random calibration range (so random input scale and zero point)."""
    lo, hi = -float(rng.uniform(0.05, 8.0)), float(rng.uniform(0.05, 8.0))
    return (lo, hi) if rng.random() < 0.8 else (0.0, hi)


def float_samples(rng, shapes, low: float = -2.0, high: float = 2.0, n: int = 32):
    """Representative float data: `n` samples of uniform values per input shape."""
    return [[rng.uniform(low, high, size=s).astype(np.float32) for s in shapes]
            for _ in range(n)]


def assert_bytes_equal(expected: np.ndarray, got: np.ndarray, what: str = "") -> None:
    """Zero mismatching bytes, or a message counting them."""
    expected, got = np.asarray(expected), np.asarray(got)
    assert expected.shape == got.shape or expected.size == got.size, \
        f"{what}: shape {got.shape} != TFLM {expected.shape}"
    a, b = expected.reshape(-1).view(np.uint8), got.reshape(-1).view(np.uint8)
    bad = int(np.count_nonzero(a != b))
    assert bad == 0, f"{what}: {bad} of {a.size} bytes differ from TFLM"
