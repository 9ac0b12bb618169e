"""Small public TinyML architectures, built with Keras and converted to full-int8 TFLite.

Test and benchmark models that do not depend on rnnedge's own export path: MobileNet-v1
(width 0.25), DS-CNN (keyword spotting), ResNet-8 (MLPerf Tiny image classification), the
MLPerf Tiny dense autoencoder, a small U-Net (RESIZE_NEAREST_NEIGHBOR + CONCATENATION), and
the paper's CIFAR ResNet18 at width 0.2 (channels 12/25/51/102, BN folded by the converter,
a separate ADD, 1x1 projection shortcuts at stride 2, 100 classes).

Conversion is deterministic: weights come from a fixed seed and the representative dataset
from `numpy.random.default_rng(seed)`; inputs and outputs are int8. `tflite_bytes(name)`
caches the converted file in a directory (default: rnnedge.files.cache_dir("tinyml"), i.e.
$RNNEDGE_CACHE_DIR/tinyml or ~/.cache/rnnedge/tinyml).
Imports tensorflow lazily (only when a model is built); imports nothing else from rnnedge
but rnnedge.errors and rnnedge.files.
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


def _layers():
    import tensorflow as tf

    return tf.keras, tf.keras.layers


def _conv_bn_relu(L, x, filters, kernel, strides=1, relu=True):
    x = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    return L.ReLU()(x) if relu else x


def mobilenet_v1():
    """MobileNet-v1, width 0.25, 96x96x3 input, 2 classes (the MLPerf Tiny VWW shape)."""
    keras, L = _layers()
    inp = keras.Input((96, 96, 3))
    x = _conv_bn_relu(L, inp, 8, 3, 2)
    for filters, stride in [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1),
                            (128, 1), (256, 2), (256, 1)]:
        x = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization()(x))
        x = _conv_bn_relu(L, x, filters, 1)
    x = L.GlobalAveragePooling2D()(x)
    out = L.Softmax()(L.Dense(2)(x))
    return keras.Model(inp, out, name="mobilenet_v1_025")


def ds_cnn():
    """DS-CNN (small) for keyword spotting: 49x10 MFCC input, 64 channels, 12 classes."""
    keras, L = _layers()
    inp = keras.Input((49, 10, 1))
    x = _conv_bn_relu(L, inp, 64, (10, 4), 2)
    for _ in range(4):
        x = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization()(x))
        x = _conv_bn_relu(L, x, 64, 1)
    x = L.AveragePooling2D(pool_size=(25, 5))(x)
    x = L.Flatten()(x)
    out = L.Softmax()(L.Dense(12)(x))
    return keras.Model(inp, out, name="ds_cnn")


def _residual(L, x, filters, stride, relu_after_add=True):
    shortcut = x
    y = _conv_bn_relu(L, x, filters, 3, stride)
    y = _conv_bn_relu(L, y, filters, 3, 1, relu=False)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn_relu(L, x, filters, 1, stride, relu=False)
    y = L.Add()([y, shortcut])
    return L.ReLU()(y) if relu_after_add else y


def resnet8():
    """ResNet-8 of MLPerf Tiny image classification: 32x32x3, 16/32/64 channels, 10 classes."""
    keras, L = _layers()
    inp = keras.Input((32, 32, 3))
    x = _conv_bn_relu(L, inp, 16, 3)
    for filters, stride in [(16, 1), (32, 2), (64, 2)]:
        x = _residual(L, x, filters, stride)
    x = L.GlobalAveragePooling2D()(x)
    out = L.Softmax()(L.Dense(10)(x))
    return keras.Model(inp, out, name="resnet8")


def autoencoder():
    """The MLPerf Tiny anomaly-detection dense autoencoder: 640 -> 128x4 -> 8 -> 128x4 -> 640."""
    keras, L = _layers()
    inp = keras.Input((640,))
    x = inp
    for units in [128, 128, 128, 128, 8, 128, 128, 128, 128]:
        x = L.ReLU()(L.BatchNormalization()(L.Dense(units)(x)))
    out = L.Dense(640)(x)
    return keras.Model(inp, out, name="autoencoder")


def unet():
    """A small U-Net for 32x32x3 segmentation into 2 classes: two max-pool downsamplings,
    nearest-neighbour upsampling and channel concatenation with the skip tensors."""
    keras, L = _layers()
    inp = keras.Input((32, 32, 3))
    d1 = _conv_bn_relu(L, inp, 8, 3)
    d2 = _conv_bn_relu(L, L.MaxPooling2D()(d1), 16, 3)
    b = _conv_bn_relu(L, L.MaxPooling2D()(d2), 32, 3)
    up2 = L.Resizing(16, 16, interpolation="nearest")(b)
    u2 = _conv_bn_relu(L, L.Concatenate()([up2, d2]), 16, 3)
    up1 = L.Resizing(32, 32, interpolation="nearest")(u2)
    u1 = _conv_bn_relu(L, L.Concatenate()([up1, d1]), 8, 3)
    out = L.Conv2D(2, 1)(u1)
    return keras.Model(inp, out, name="unet")


def resnet18_w02():
    """The paper's CIFAR-100 ResNet18 at width 0.2: 3x3 stem 3->12 (stride 1, no pooling),
    stages of two basic blocks with 12, 25, 51, 102 channels, stride 2 and a 1x1 projection
    shortcut at the first block of stages 2-4, global average pooling, FC 102->100."""
    keras, L = _layers()
    inp = keras.Input((32, 32, 3))
    x = _conv_bn_relu(L, inp, 12, 3)
    for filters, stride in [(12, 1), (25, 2), (51, 2), (102, 2)]:
        x = _residual(L, x, filters, stride)
        x = _residual(L, x, filters, 1)
    x = L.GlobalAveragePooling2D()(x)
    out = L.Dense(100)(x)
    return keras.Model(inp, out, name="resnet18_w02")


BUILDERS = {
    "mobilenet_v1_025": mobilenet_v1,
    "ds_cnn": ds_cnn,
    "resnet8": resnet8,
    "autoencoder": autoencoder,
    "unet": unet,
    "resnet18_w02": resnet18_w02,
}


def build_keras(name: str, seed: int = SEED):
    """The Keras model `name` (a key of BUILDERS) with weights drawn from `seed`. BatchNorm
    statistics and biases are randomised too, so that folding BN into the convs is not a
    no-op and the converter keeps every bias (it drops all-zero ones)."""
    if name not in BUILDERS:
        raise RnnedgeError(f"unknown TinyML model {name!r}; choose one of {sorted(BUILDERS)}")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    model = BUILDERS[name]()
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                               rng.normal(0, 0.1, beta.shape).astype(np.float32),
                               rng.normal(0, 0.1, mean.shape).astype(np.float32),
                               rng.uniform(0.5, 1.5, var.shape).astype(np.float32)])
        elif getattr(layer, "bias", None) is not None:
            layer.bias.assign(rng.normal(0, 0.1, layer.bias.shape).astype(np.float32))
    return model


def to_int8_tflite(model, seed: int = SEED, samples: int = CALIBRATION_SAMPLES) -> bytes:
    """Convert a Keras model to a full-int8 TFLite flatbuffer (int8 input and output),
    calibrated on `samples` uniform(-1, 1) inputs drawn from `seed`."""
    import tensorflow as tf

    shape = tuple(model.inputs[0].shape[1:])
    calibration = np.random.default_rng(seed).uniform(-1, 1, (samples, 1) + shape)
    calibration = calibration.astype(np.float32)

    def representative():
        for x in calibration:
            yield [x]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its SavedModel
        return converter.convert()


def tflite_path(name: str, directory: str | None = None, seed: int = SEED) -> str:
    """Path of the int8 .tflite for model `name`, converting it on first use. The file name
    carries a hash of the TensorFlow version, builder version and seed."""
    if name not in BUILDERS:
        raise RnnedgeError(f"unknown TinyML model {name!r}; choose one of {sorted(BUILDERS)}")
    import tensorflow as tf

    directory = directory or cache_dir("tinyml")
    key = hashlib.sha1(f"{tf.__version__}/{_BUILD_VERSION}/{seed}".encode()).hexdigest()[:10]
    path = os.path.join(directory, f"{name}-{key}.tflite")
    if not os.path.exists(path):
        os.makedirs(directory, exist_ok=True)
        data = to_int8_tflite(build_keras(name, seed), seed)
        atomic_write(path, data)
    return path


def tflite_bytes(name: str, directory: str | None = None, seed: int = SEED) -> bytes:
    """The int8 .tflite flatbuffer of model `name` (see tflite_path)."""
    with open(tflite_path(name, directory, seed), "rb") as f:
        return f.read()
