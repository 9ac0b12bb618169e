"""Small Keras models converted by TensorFlow for the int16x8 and TRANSPOSE_CONV end-to-end
tests (written to a test's temporary directory; deterministic weights and calibration):

  conv16   int16 in/out: CONV_2D (relu), DEPTHWISE_CONV_2D, ADD, MAX_POOL_2D, TRANSPOSE_CONV
           (bias), AVERAGE_POOL_2D, MUL, RESHAPE, FULLY_CONNECTED; two outputs.
  move16   float in/out over int16 activations: QUANTIZE, PAD, CONCATENATION, STRIDED_SLICE,
           TRANSPOSE, RESIZE_NEAREST_NEIGHBOR, LOGISTIC, MUL (by a constant), SUB, TANH,
           DEQUANTIZE.
  tconv8   int8: CONV_2D, TRANSPOSE_CONV with and without bias (SAME stride 2, VALID (1, 2)).

May import: numpy and tensorflow.
"""

import numpy as np
import tensorflow as tf

L = tf.keras.layers


def _conv16():
    inp = tf.keras.Input((12, 10, 3), batch_size=1)
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = L.Add()([x, L.DepthwiseConv2D(3, padding="same")(x)])
    x = L.MaxPooling2D(2)(x)
    up = L.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
    x = L.AveragePooling2D(2)(x)
    x = L.Multiply()([x, L.Conv2D(8, 1)(x)])
    return tf.keras.Model(inp, [L.Dense(6)(L.Flatten()(x)), up])


def _move16():
    inp = tf.keras.Input((6, 5, 4), batch_size=1)
    x = L.ZeroPadding2D(((1, 0), (2, 1)))(inp)
    x = L.Concatenate(axis=-1)([x, x])
    x = L.Cropping2D(((1, 2), (0, 1)))(x)
    x = L.Permute((2, 1, 3))(x)
    x = L.Activation("sigmoid")(L.Lambda(lambda t: tf.image.resize(t, (8, 3), "nearest"))(x))
    # (a SPLIT of int16 data feeding a SUB makes TFLM abort, so no SPLIT here)
    x = L.Subtract()([x, L.Lambda(lambda t: t * 3.0)(x)])
    return tf.keras.Model(inp, L.Activation("tanh")(x))


def _tconv8():
    inp = tf.keras.Input((6, 5, 3), batch_size=1)
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = L.Conv2DTranspose(5, 3, strides=2, padding="same")(x)
    x = L.Conv2DTranspose(3, (2, 3), strides=(1, 2), padding="valid", use_bias=False)(x)
    return tf.keras.Model(inp, x)


MODELS = {"conv16": (_conv16, "int16"), "move16": (_move16, "float16x8"),
          "tconv8": (_tconv8, "int8")}


def _randomise(model, rng):
    """Non-trivial weights and biases (Keras starts biases at zero, which the converter
    would drop)."""
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.normal(0, 0.4, w.shape).astype(np.float32) for w in weights])


def write(name: str, directory) -> str:
    """Convert model `name` into `directory`; returns the .tflite path."""
    tf.keras.utils.set_random_seed(17)
    build, mode = MODELS[name]
    model = build()
    rng = np.random.default_rng(17)
    _randomise(model, rng)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    shape = model.input_shape
    conv.representative_dataset = lambda: ([rng.uniform(-1, 1, shape).astype(np.float32)]
                                           for _ in range(24))
    int16 = mode != "int8"
    conv.target_spec.supported_ops = [
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 if int16
        else tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if mode != "float16x8":
        conv.inference_input_type = conv.inference_output_type = tf.int16 if int16 else tf.int8
    path = f"{directory}/{name}.tflite"
    with open(path, "wb") as f:
        f.write(conv.convert())
    return path
