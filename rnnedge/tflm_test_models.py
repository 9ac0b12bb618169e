"""Test models for the ops and modes beyond the zoo that TFLM runs: int16x8, TRANSPOSE_CONV,
control flow (WHILE), several inputs and outputs, SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM.

Why: `rnnedge.tinyml_models` holds full-int8 CNNs; the C kernels of the recurrent ops, the
int16x8 variants and the control-flow runtime need models that exercise them, built by the
tools a TFLM user has (TensorFlow's converter), not by rnnedge's own exporter. Each builder
returns the flatbuffer bytes; `tflite_path(name)` caches them like rnnedge.tinyml_models (a
file per TensorFlow version, builder version and seed under rnnedge.files.cache_dir
("tflm_models")).

  conv_int16x8            conv net (CONV_2D, DEPTHWISE_CONV_2D, ADD, MEAN, FULLY_CONNECTED,
                          SOFTMAX) quantised with EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_
                          WEIGHTS_INT8: int16 activations, int8 weights, int16 input and output
  transpose_conv_int8     Keras Conv2DTranspose (stride 2, SAME) full int8
  transpose_conv_int16x8  the same layer in int16x8
  two_input_int8          two inputs (16 and 8 features), two outputs (FC heads), full int8
  while_int8              a tf.while_loop of 5 steps h = tanh(W h + b + x): WHILE with a cond
                          and a body subgraph; int8 input/output, int8 FC/ADD/TANH in the body
                          (the quantiser keeps the loop-carried tensors float, as it does for
                          every WHILE)
  lstm_while_int8         a Keras 3 LSTM (unroll=False): Keras 3 converts to a WHILE loop
                          (not the fused op); int8 as while_int8
  gru_while_int8          a Keras 3 GRU (unroll=False): a WHILE loop, int8 as while_int8
  if_int8                 tf.cond on the sign of the input's sum: an IF with a tanh branch and
                          a relu branch (BATCH_MATMUL inside each), int8 input/output
  variable_int8           a tf.Variable state h = tanh(W x + h) (initial value 0.25):
                          CALL_ONCE (whose subgraph assigns the initial value), VAR_HANDLE,
                          READ_VARIABLE, ASSIGN_VARIABLE (converted with resource variables);
                          the variable stays float between DEQUANTIZE and QUANTIZE
  svdf_int8, svdf_int8_state8
                          SVDF written with the TFLite schema (Keras has no SVDF layer): int16
                          / int8 time weights and state (rnnedge.tflm_schema_models)
  lstm_int8               UNIDIRECTIONAL_SEQUENCE_LSTM written with the TFLite schema, int8
                          input/output, int16 cell state (rnnedge.tflm_schema_models)
  lstm_int16x8            the same op in 16x8 (int16 input/output and output state, int64
                          biases), batch 2, batch major

Converter-built WHILE models are quantised without TensorFlow's calibrator (which crashes on
WHILE in TensorFlow 2.21): the float model runs in tf.lite.Interpreter on the calibration
inputs, every float tensor of every subgraph gets its observed min/max, and TensorFlow's
MLIR quantiser (`mlir_quantize`, the converter's own pass) does the rest.

Imports tensorflow lazily (only when a model is built), ai_edge_litert's schema, numpy,
rnnedge.errors, rnnedge.files and rnnedge.tflm_schema_models.
"""

import contextlib
import hashlib
import io
import os

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_write, cache_dir

SEED = 0
CALIBRATION_SAMPLES = 8
_BUILD_VERSION = "2"  # bump when a builder changes so cached files are rebuilt


def _tf():
    import tensorflow as tf

    tf.keras.utils.set_random_seed(SEED)
    return tf


def _calibration(shapes, seed=SEED, samples=CALIBRATION_SAMPLES):
    rng = np.random.default_rng(seed)
    return [[rng.uniform(-1, 1, s).astype(np.float32) for s in shapes] for _ in range(samples)]


def _convert(converter, shapes, int16=False, names=None):
    """Post-training full-integer quantisation of `converter` (int8, or int16x8); with
    `names`, calibration samples are keyed by input name (the converter may reorder inputs)."""
    tf = _tf()
    data = _calibration(shapes)
    if names:
        data = [dict(zip(names, sample)) for sample in data]
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: iter(data)
    if int16:
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int16
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def _keras(model, int16=False):
    tf = _tf()
    shapes = [tuple(i.shape) for i in model.inputs]
    names = [i.name for i in model.inputs] if len(shapes) > 1 else None
    return _convert(tf.lite.TFLiteConverter.from_keras_model(model), shapes, int16, names)


def conv_int16x8():
    """A small conv net in int16x8 (see the module docstring)."""
    tf = _tf()
    K, L = tf.keras, tf.keras.layers
    inp = K.Input((12, 12, 3), batch_size=1)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    y = L.DepthwiseConv2D(3, padding="same")(x)
    x = L.Add()([x, y])
    x = L.GlobalAveragePooling2D()(x)
    out = L.Softmax()(L.Dense(5)(x))
    return _keras(K.Model(inp, out), int16=True)


def _transpose_conv():
    tf = _tf()
    K, L = tf.keras, tf.keras.layers
    inp = K.Input((6, 6, 4), batch_size=1)
    out = L.Conv2DTranspose(5, 3, strides=2, padding="same")(inp)
    return K.Model(inp, out)


def transpose_conv_int8():
    """Conv2DTranspose, full int8."""
    return _keras(_transpose_conv())


def transpose_conv_int16x8():
    """Conv2DTranspose, int16x8."""
    return _keras(_transpose_conv(), int16=True)


def two_input_int8():
    """Two inputs, two outputs (see the module docstring)."""
    tf = _tf()
    K, L = tf.keras, tf.keras.layers
    a = K.Input((16,), batch_size=1, name="a")
    b = K.Input((8,), batch_size=1, name="b")
    h = L.Dense(8, activation="relu")(a)
    joined = L.Add()([h, b])
    return _keras(K.Model([a, b], [L.Dense(3)(joined), L.Dense(2)(a)]))


def _quantize_float_while(flat: bytes, shapes) -> bytes:
    """Calibrate a float model by running it (all subgraphs' float tensors get min/max) and
    quantise it with TensorFlow's MLIR quantiser to int8 input and output."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as fb
    from tensorflow.lite.python import convert

    tf = _tf()
    model = fb.ModelT.InitFromPackedBuf(flat, 0)
    ranges = {}
    for sample in _calibration(shapes):
        interp = tf.lite.Interpreter(model_content=flat, experimental_preserve_all_tensors=True)
        interp.allocate_tensors()
        for detail, x in zip(interp.get_input_details(), sample):
            interp.set_tensor(detail["index"], x)
        interp.invoke()
        for si, sg in enumerate(model.subgraphs):
            for ti, t in enumerate(sg.tensors):
                if t.type != fb.TensorType.FLOAT32:
                    continue
                try:
                    v = interp.get_tensor(ti, si)
                except ValueError:  # not allocated (e.g. a constant folded away)
                    continue
                if v.size == 0:
                    continue
                lo, hi = ranges.get((si, ti), (0.0, 0.0))
                ranges[(si, ti)] = (min(lo, float(v.min())), max(hi, float(v.max())))
    for si, sg in enumerate(model.subgraphs):
        for ti, t in enumerate(sg.tensors):
            data = model.buffers[t.buffer].data
            if t.type == fb.TensorType.FLOAT32 and (data is None or len(data) == 0):
                q = fb.QuantizationParametersT()
                lo, hi = ranges.get((si, ti), (-1.0, 1.0))
                q.min, q.max = [min(lo, -1e-3)], [max(hi, 1e-3)]
                t.quantization = q
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    with contextlib.redirect_stdout(io.StringIO()):
        return convert.mlir_quantize(bytes(builder.Output()), fully_quantize=True,
                                     input_data_type=tf.int8, output_data_type=tf.int8)


def while_int8():
    """A 5-step tf.while_loop (see the module docstring)."""
    tf = _tf()
    rng = np.random.default_rng(SEED)
    w = tf.constant(rng.normal(0, 0.3, (8, 8)).astype(np.float32))
    b = tf.constant(rng.normal(0, 0.1, (8,)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec((1, 8), tf.float32)])
    def model(x):
        def body(i, h):
            return i + 1, tf.tanh(tf.matmul(h, w) + b + x)
        return tf.while_loop(lambda i, h: i < 5, body, (tf.constant(0), x))[1]

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [model.get_concrete_function()], model)
    with contextlib.redirect_stdout(io.StringIO()):
        flat = converter.convert()
    return _quantize_float_while(flat, [(1, 8)])


def _keras_recurrent_while(layer):
    """Keras `layer(units)` over 8 steps of 6 features + Dense(4), converted by TF (a WHILE
    loop) and quantised to int8."""
    tf = _tf()
    inp = tf.keras.Input((8, 6), batch_size=1)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(4)(layer(tf.keras.layers)(inp)))
    with contextlib.redirect_stdout(io.StringIO()):
        flat = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    return _quantize_float_while(flat, [(1, 8, 6)])


def lstm_while_int8():
    """A Keras 3 LSTM (8 steps, 6 features, 12 units) + Dense: a WHILE loop, int8."""
    return _keras_recurrent_while(lambda layers: layers.LSTM(12))


def gru_while_int8():
    """A Keras 3 GRU (8 steps, 6 features, 10 units) + Dense: a WHILE loop, int8."""
    return _keras_recurrent_while(lambda layers: layers.GRU(10))


def _weights(tf, *shapes):
    rng = np.random.default_rng(SEED)
    return [tf.constant(rng.normal(0, 0.3, s).astype(np.float32)) for s in shapes]


def if_int8():
    """tf.cond choosing a tanh or a relu branch (see the module docstring)."""
    tf = _tf()
    w1, w2 = _weights(tf, (8, 8), (8, 8))

    @tf.function(input_signature=[tf.TensorSpec((1, 8), tf.float32)])
    def model(x):
        return tf.cond(tf.reduce_sum(x) > 0, lambda: tf.tanh(tf.matmul(x, w1)),
                       lambda: tf.nn.relu(tf.matmul(x, w2)))

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [model.get_concrete_function()], model)
    return _convert(converter, [(1, 8)])


def variable_int8():
    """A tf.Variable recurrent state (see the module docstring)."""
    tf = _tf()
    (w,) = _weights(tf, (8, 8))

    class Stateful(tf.Module):
        def __init__(self):
            super().__init__()
            self.state = tf.Variable(tf.fill((1, 8), 0.25))

        @tf.function(input_signature=[tf.TensorSpec((1, 8), tf.float32)])
        def __call__(self, x):
            h = tf.tanh(tf.matmul(x, w) + self.state)
            self.state.assign(h)
            return h

    module = Stateful()
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.__call__.get_concrete_function()], module)
    converter.experimental_enable_resource_variables = True
    return _convert(converter, [(1, 8)])


def _schema(name):
    def build():
        from rnnedge import tflm_schema_models

        return tflm_schema_models.BUILDERS[name]()
    build.__doc__ = f"{name}, written with the TFLite schema (rnnedge.tflm_schema_models)."
    return build


BUILDERS = {
    "conv_int16x8": conv_int16x8,
    "transpose_conv_int8": transpose_conv_int8,
    "transpose_conv_int16x8": transpose_conv_int16x8,
    "two_input_int8": two_input_int8,
    "while_int8": while_int8,
    "lstm_while_int8": lstm_while_int8,
    "gru_while_int8": gru_while_int8,
    "if_int8": if_int8,
    "variable_int8": variable_int8,
    "svdf_int8": _schema("svdf_int8"),
    "svdf_int8_state8": _schema("svdf_int8_state8"),
    "lstm_int8": _schema("lstm_int8"),
    "lstm_int16x8": _schema("lstm_int16x8"),
}


def tflite_path(name: str, directory: str | None = None) -> str:
    """Path of the .tflite for test model `name`, built on first use. The file name carries
    a hash of the TensorFlow version, builder version and seed."""
    if name not in BUILDERS:
        raise RnnedgeError(f"unknown TFLM test model {name!r}; choose one of {sorted(BUILDERS)}")
    import tensorflow as tf

    directory = directory or cache_dir("tflm_models")
    key = hashlib.sha1(f"{tf.__version__}/{_BUILD_VERSION}/{SEED}".encode()).hexdigest()[:10]
    path = os.path.join(directory, f"{name}-{key}.tflite")
    if not os.path.exists(path):
        os.makedirs(directory, exist_ok=True)
        atomic_write(path, BUILDERS[name]())
    return path


def tflite_bytes(name: str, directory: str | None = None) -> bytes:
    """The flatbuffer of test model `name` (see tflite_path)."""
    with open(tflite_path(name, directory), "rb") as f:
        return f.read()
