"""One calling convention for every engine that can run an int8 .tflite on the host.

    run = make_backend("c", "model.tflite", planner="inplace")
    outputs = run(batch)          # batch: N inputs stacked on axis 0 (or one input)

Backends:
  c               rnnedge's firmware runtime (C kernels in one static arena, runtime.py);
                  `kernels` picks the kernel set ("optimized", the default, or "reference")
  tflite          tf.lite.Interpreter with the BUILTIN_REF (reference) kernels
  tflite-default  tf.lite.Interpreter with its default optimised kernels (benchmarks only)
  tflm            tflite-micro's host interpreter, in-process, its arena sized from rnnedge's
                  `tflm` plan + the persistent-tail estimate + a generous margin
Every callable takes one array per graph input, each holding N samples stacked along axis 0
in place of the batch dimension 1 (or exactly one sample of the model's shape), and returns
a list of output arrays stacked the same way, in the model's output dtypes. The accuracy
check (`rnnedge check --backend ...`) and the benchmark reuse this module.

Imports numpy, rnnedge.errors, rnnedge.planner, rnnedge.arena_report (tail estimate) and this
package; tensorflow and tflite_micro lazily.
"""

import contextlib
import os
import sys
import warnings

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.program import compile_model, load_model
from rnnedge.firmware_sim.runtime import Runtime

BACKENDS = ("c", "tflite", "tflite-default", "tflm")
TFLM_MARGIN = 1 << 20  # bytes added to the planned TFLM arena (head + tail estimate)


def _ports(model):
    """(graph input tensors, graph output tensors)."""
    sg = model.main
    return ([sg.tensors[t] for t in sg.inputs], [sg.tensors[t] for t in sg.outputs])


def _inner(shape) -> tuple:
    """A sample's shape without the leading batch dimension 1."""
    shape = tuple(shape)
    return shape[1:] if shape and shape[0] == 1 else shape


def _count(batch: np.ndarray, tensor) -> int:
    """Samples in `batch` for graph input `tensor` (its exact shape counts as one)."""
    shape, inner = tuple(tensor.shape), _inner(tensor.shape)
    if batch.dtype != np.dtype(tensor.dtype):
        raise RnnedgeError(f"input {tensor.name} must be {np.dtype(tensor.dtype)}, got "
                           f"{batch.dtype}")
    if batch.shape == shape:
        return 1
    if batch.ndim == len(inner) + 1 and tuple(batch.shape[1:]) == inner:
        return int(batch.shape[0])
    raise RnnedgeError(f"input {tensor.name} must have shape {list(shape)} or "
                       f"[N, {', '.join(map(str, inner))}], got {list(batch.shape)}")


def _samples(batches, inputs) -> tuple:
    """(n, per-input arrays shaped (n, *sample shape))."""
    if len(batches) != len(inputs):
        raise RnnedgeError(f"the model takes {len(inputs)} inputs, got {len(batches)}")
    arrays, counts = [], set()
    for b, t in zip(batches, inputs):
        b = np.asarray(b)
        n = _count(b, t)
        counts.add(n)
        arrays.append(b.reshape((n,) + _inner(t.shape)))
    if len(counts) != 1:
        raise RnnedgeError("the inputs hold different numbers of samples")
    return counts.pop(), arrays


def _loop(model, invoke):
    """A backend callable from `invoke(list of single inputs) -> list of outputs`."""
    inputs, outputs = _ports(model)

    def run(*batches):
        """Outputs of every sample in `batches`, stacked on axis 0."""
        n, arrays = _samples(batches, inputs)
        results = [np.empty((n,) + _inner(t.shape), dtype=t.dtype) for t in outputs]
        for i in range(n):
            sample = [a[i].reshape(t.shape) for a, t in zip(arrays, inputs)]
            for result, value in zip(results, invoke(sample)):
                result[i] = np.asarray(value).reshape(result.shape[1:])
        return results
    return run


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the C-level stderr (TensorFlow's start-up logging) for the enclosed imports
    and interpreter construction; Python exceptions still propagate."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _c_backend(model, planner, debug, kernels=None):
    """The firmware runtime on kernel set `kernels` as a backend (its Runtime as `.runtime`)."""
    from rnnedge.kernels import load

    lib = load(kernels=kernels)
    runtime = Runtime(compile_model(model, planner, lib=lib), lib=lib, debug=debug)
    run = _loop(model, lambda sample: runtime.invoke(*sample))
    run.runtime = runtime
    return run


def _tflite_backend(model_path, reference: bool):
    """invoke() over tf.lite.Interpreter (reference or default kernels)."""
    with _quiet_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        import tensorflow as tf

        resolver = tf.lite.experimental.OpResolverType
        try:
            interpreter = tf.lite.Interpreter(
                model_path=os.fspath(model_path),
                experimental_op_resolver_type=(resolver.BUILTIN_REF if reference
                                               else resolver.AUTO))
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise RnnedgeError(f"TFLite cannot load the model: {_first_line(exc)}") from None
    ins = [d["index"] for d in interpreter.get_input_details()]
    outs = [d["index"] for d in interpreter.get_output_details()]

    def invoke(sample):
        """Outputs of one sample."""
        try:
            for index, value in zip(ins, sample):
                interpreter.set_tensor(index, value)
            interpreter.invoke()
        except (ValueError, RuntimeError) as exc:
            raise RnnedgeError(f"TFLite failed to run the model: {_first_line(exc)}") from None
        return [interpreter.get_tensor(i) for i in outs]
    return invoke


def _first_line(exc) -> str:
    """The first line of an exception message."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def tflm_arena_size(model) -> int:
    """Arena bytes given to tflite-micro: rnnedge's `tflm` plan (TFLM's own planner, exactly)
    plus twice the persistent-tail estimate plus TFLM_MARGIN."""
    from rnnedge.arena_report import tail_estimate
    from rnnedge.planner import plan

    return plan(model, "tflm").arena + 2 * tail_estimate(model) + TFLM_MARGIN


def _tflm_backend(model, model_path):
    """invoke() over tflite-micro's in-process interpreter."""
    with _quiet_stderr():
        from tflite_micro import runtime as tflm
    try:
        interpreter = tflm.Interpreter.from_file(os.fspath(model_path),
                                                 arena_size=tflm_arena_size(model))
    except (RuntimeError, ValueError) as exc:
        raise RnnedgeError(f"tflite-micro cannot load the model: {_first_line(exc)}") from None
    n_out = len(model.main.outputs)

    def invoke(sample):
        """Outputs of one sample."""
        try:
            for i, value in enumerate(sample):
                interpreter.set_input(value, i)
            interpreter.invoke()
        except (RuntimeError, ValueError) as exc:
            raise RnnedgeError(f"tflite-micro failed to run the model: {_first_line(exc)}") \
                from None
        return [np.array(interpreter.get_output(i)) for i in range(n_out)]
    return invoke


def make_backend(name: str, model_path, planner: str = "best", debug: bool = False,
                 kernels: str | None = None):
    """A callable running `model_path` on backend `name` (see BACKENDS and the module
    docstring); `planner`, `debug` and `kernels` apply to the "c" backend."""
    if name not in BACKENDS:
        raise RnnedgeError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    model = load_model(os.fspath(model_path))
    if name == "c":
        return _c_backend(model, planner, debug, kernels)
    if name == "tflm":
        return _loop(model, _tflm_backend(model, model_path))
    return _loop(model, _tflite_backend(model_path, reference=name == "tflite"))
