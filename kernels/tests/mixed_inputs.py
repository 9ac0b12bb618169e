"""Single-op TFLite models whose inputs mix float (quantised to int8) and int32 tensors
(run-time GATHER indices), converted like kernels_harness.convert.

May import: numpy and tensorflow.
"""

import numpy as np
import tensorflow as tf

_MODELS: dict[str, bytes] = {}


def convert_mixed(key: str, fn, specs, representative) -> bytes:
    """Full-int8 model of `fn` over `specs` [(shape, "float32" | "int32")]; float inputs and
    outputs become int8, int32 inputs stay int32; `representative` gives one array per
    input per sample. Converted once per session under `key`."""
    if key not in _MODELS:
        sig = [tf.TensorSpec(shape, getattr(tf, dtype)) for shape, dtype in specs]
        concrete = tf.function(fn, input_signature=sig).get_concrete_function()
        conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([np.asarray(x) for x in sample]
                                               for sample in representative)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        model = conv.convert()
        assert b"TFL3" in model[:8], "converter returned no TFLite model"
        _MODELS[key] = model
    return _MODELS[key]
