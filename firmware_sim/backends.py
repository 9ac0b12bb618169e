"""One calling convention for every engine that can run an int8 .tflite on the host.

    run = make_backend("c", "model.tflite", planner="inplace")
    outputs = run(batch)          # batch: N inputs stacked on axis 0 (or one input)

Backends:
  c               rnnedge's firmware runtime (C kernels in one static arena, runtime.py);
                  `kernels` picks the kernel set ("optimized", the default, or "reference")
  tflite          tf.lite.Interpreter with the BUILTIN_REF (reference) kernels
  tflite-default  tf.lite.Interpreter with its default optimised kernels (benchmarks only)
  tflm            tflite-micro's host interpreter, its arena sized from rnnedge's
                  `tflm` plan + the persistent-tail estimate + a generous margin
The three third-party interpreters run in one child process per backend (isolated.py), so a
model that crashes them ends in one error line, not in a dead process; the batch crosses to
the child in one round trip.
Every callable takes one array per graph input, each holding N samples stacked along axis 0
in place of the batch dimension 1 (or exactly one sample of the model's shape), and returns
a list of output arrays stacked the same way, in the model's output dtypes. The accuracy
check (`rnnedge check --backend ...`) and the benchmark reuse this module.

Imports numpy, rnnedge.errors, rnnedge.budget, rnnedge.planner, rnnedge.tflm_probe (TFLM's
arena size) and this package; tensorflow and tflite_micro only in the child process of
isolated.py.
"""

import os

import numpy as np

from rnnedge.budget import check_bytes, default_max_arena
from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.isolated import ChildInterpreter
from rnnedge.firmware_sim.compiler import compile_model, load_model
from rnnedge.firmware_sim.runtime import Runtime
from rnnedge.tflm_probe import tflm_arena_size

BACKENDS = ("c", "tflite", "tflite-default", "tflm")


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
                value = np.asarray(value)
                if value.size != int(np.prod(result.shape[1:], dtype=np.int64)):
                    raise RnnedgeError("an output does not have the shape the model declares")
                result[i] = value.reshape(result.shape[1:])
        return results
    run.output_specs = [(_inner(t.shape), np.dtype(t.dtype)) for t in outputs]  # per sample
    return run


def _c_backend(model, planner, debug, max_arena, kernels=None, stream_input=False,
               max_recompute=0.0):
    """The firmware runtime on kernel set `kernels` as a backend (its Runtime as `.runtime`)."""
    from rnnedge.kernels import load

    lib = load(kernels=kernels)
    runtime = Runtime(compile_model(model, planner, lib=lib, max_arena=max_arena,
                                    stream_input=stream_input, max_recompute=max_recompute),
                      lib=lib, debug=debug)
    run = _loop(model, lambda sample: runtime.invoke(*sample))
    run.runtime = runtime
    return run


def _isolated(model, engine, model_path, arena_size=0):
    """A backend callable over a third-party interpreter in a child process (isolated.py):
    one child per backend, every call one round trip with the whole batch."""
    inputs, outputs = _ports(model)
    child = ChildInterpreter(engine, model_path, arena_size)

    def run(*batches):
        """Outputs of every sample in `batches`, stacked on axis 0."""
        n, arrays = _samples(batches, inputs)
        results = child(arrays) if n else []
        if n and len(results) != len(outputs):
            raise RnnedgeError(f"{child.label} returned {len(results)} outputs; the model has "
                               f"{len(outputs)}")
        if not n:
            return [np.empty((0,) + _inner(t.shape), t.dtype) for t in outputs]
        try:
            return [np.asarray(r).reshape((n,) + _inner(t.shape)).astype(t.dtype, copy=False)
                    for r, t in zip(results, outputs)]
        except ValueError:
            raise RnnedgeError(f"{child.label}'s outputs do not have the shapes the model "
                               "declares") from None
    run.close = child.close
    run.child = child  # its .cpu_s: the child's CPU time of the last call (benchmarks)
    return run


def _tflite_tensor_bytes(model) -> int:
    """An upper bound of what tf.lite allocates for the model's non-constant tensors."""
    return sum(t.nbytes for sg in model.subgraphs for t in sg.tensors if not t.is_constant)


def make_backend(name: str, model_path, planner: str = "best", debug: bool = False,
                 max_arena: int | None = None, kernels: str | None = None,
                 stream_input: bool = False, max_recompute: float = 0.0):
    """A callable running `model_path` on backend `name` (see BACKENDS and the module
    docstring); `planner`, `debug`, `kernels`, `stream_input` and `max_recompute` (fused
    plans: the share of MACs column tiles may recompute) apply to the "c" backend. The arena
    an engine will allocate (the c backend's plan, TFLM's sized arena, TFLite's tensors as
    TFLM's planner lays them out) must fit `max_arena` bytes (default: rnnedge.budget.default_max_arena())."""
    if name not in BACKENDS:
        raise RnnedgeError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    model = load_model(os.fspath(model_path))
    if not model.main.outputs:
        raise RnnedgeError("the model has no outputs: there is nothing to run")
    limit = default_max_arena() if max_arena is None else max_arena
    if name == "c":
        return _c_backend(model, planner, debug, limit, kernels, stream_input, max_recompute)
    if name == "tflm":
        arena = check_bytes("tflite-micro's arena", tflm_arena_size(model), limit)
        return _isolated(model, "tflm", model_path, arena)
    check_bytes("TFLite's tensors", _tflite_tensor_bytes(model), limit)
    return _isolated(model, name, model_path)
