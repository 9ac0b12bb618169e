"""Run many samples through one backend in several processes, with the results of one.

    outputs = run_samples("c", "model.tflite", x, jobs=4, kernels="optimized")
    runner = ParallelRunner("c", "model.tflite", jobs=4); outputs = runner(x)  # reusable

Why processes: the C kernels are fast enough that the runtime's Python loop over a model's
steps (which holds the GIL between kernel calls) is a large share of an inference, so
threads barely overlap (measured on cifar-resnet18-rnn: 2 threads 0.87x of 1 job's time).

How: with more than one job, `ParallelRunner` forks an engine process at once and returns,
so the caller prepares its data while the engine imports the runtime and compiles the
model. Each call sends the samples to the engine over a pipe (isolated.write_arrays: raw
numeric bytes, no pickles); the engine forks `jobs - 1` workers that inherit the compiled
runtime (each then owns a copy-on-write arena) and works too. Workers take chunks of samples
from a shared counter and write each chunk's outputs at its own position in shared memory,
so the result is identical to ``jobs=1`` whatever the scheduling (every sample is computed
independently by deterministic kernels). An error in the engine or a worker comes back as
one RnnedgeError; closing the runner (or losing it) ends the engine. With one job, or where
os.fork does not exist, the samples run in this process. Only the "c" backend runs on more
than one worker: the tf.lite and tflite-micro interpreters run in an isolated child process
each (isolated.py), one batch per round trip.

Imports numpy, the standard library, rnnedge.errors and this package's isolated module; the
backends module (the runtime and its compiler) only where the samples run.
"""

import json
import mmap
import multiprocessing
import os
import signal
import struct
import time

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.isolated import read_arrays, write_arrays

CHUNK = 16  # samples per task: small enough to balance, large enough to amortise dispatch
SERIAL_CHUNK = 64  # samples per call with one worker (one round trip to an isolated engine)
_ERROR_BYTES = 1024  # a failed worker's message, in the shared block's tail
CLOSE_WAIT_S = 2.0  # an engine that has not exited this long after its pipes closed is killed


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask; os.cpu_count() elsewhere)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def resolve_jobs(backend: str, jobs: int | None) -> int:
    """The worker count for `backend`: `jobs`, by default the available cores for "c" and 1
    for the others; more than 1 on another backend is refused."""
    if jobs is not None and jobs < 1:
        raise RnnedgeError(f"--jobs must be at least 1, got {jobs}")
    if backend != "c":
        if jobs not in (None, 1):
            raise RnnedgeError(f"--jobs {jobs} applies to the c backend only")
        return 1
    return available_cores() if jobs is None else jobs


class ParallelRunner:
    """One runtime of a model, built once, run by `resolve_jobs(backend, jobs)` workers;
    calling it with samples `x` (stacked on axis 0, as `make_backend` takes them) returns one
    array per graph output, stacked the same way, identical to one worker's.
    `progress(done, total)` is called as chunks finish. With several jobs the model is
    compiled in the engine process, so a model the backend refuses is reported by the first
    call."""

    def __init__(self, backend: str, model_path, *, jobs: int | None = None,
                 planner: str = "best", kernels: str | None = None,
                 max_arena: int | None = None, stream_input: bool = False,
                 max_recompute: float = 0.0):
        self.jobs = resolve_jobs(backend, jobs)
        options = dict(planner=planner, kernels=kernels, max_arena=max_arena,
                       stream_input=stream_input, max_recompute=max_recompute)
        self._engine = self._run = None
        if self.jobs > 1 and hasattr(os, "fork"):
            self._engine = _Engine(backend, os.fspath(model_path), options, self.jobs)
        else:
            from rnnedge.firmware_sim.backends import make_backend
            self._run = make_backend(backend, model_path, **options)

    def __call__(self, x: np.ndarray, progress=None) -> list:
        if self._engine is not None:
            return self._engine(x, progress)
        return _serial(self._run, x, SERIAL_CHUNK, progress)

    def close(self) -> None:
        """End the engine process, if any (idempotent; also when the runner is lost)."""
        if self._engine is not None:
            self._engine.close()


def _serial(run, x, size, progress) -> list:
    """`run` over the samples of `x` in chunks of `size`, in this process."""
    total = len(x)
    if total == 0:
        return run(x)
    results = []
    for start in range(0, total, size):
        results.append(run(x[start:start + size]))
        if progress:
            progress(min(start + size, total), total)
    return [np.concatenate([r[k] for r in results]) for k in range(len(results[0]))]


class _Engine:
    """A forked process that holds the compiled backend and serves calls (module docstring).

    Protocol on its two pipes: the engine answers {"ready": true} or {"error": ...} once the
    model is compiled (read at the first call); each request is write_arrays of the stacked
    inputs; the engine answers {"progress": done} lines, then write_arrays of the outputs, or
    {"error": ...}."""

    def __init__(self, backend, model_path, options, jobs):
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the engine: serve until the parent closes its end
            os.close(request_w)
            os.close(reply_r)
            status = 0
            try:
                _serve(os.fdopen(request_r, "rb"), os.fdopen(reply_w, "wb"), backend,
                       model_path, options, jobs)
            except BaseException:  # noqa: BLE001 - the parent sees the pipe close
                status = 1
            finally:
                os._exit(status)
        os.close(request_r)
        os.close(reply_w)
        self._pid, self._ready = pid, False
        self._requests, self._replies = os.fdopen(request_w, "wb"), os.fdopen(reply_r, "rb")

    def __call__(self, x, progress) -> list:
        if self._pid is None:
            raise RnnedgeError("the parallel runner is closed")
        if not self._ready:
            self._reply()
            self._ready = True
        try:
            write_arrays(self._requests, [np.asarray(x)])
        except OSError:
            pass  # the engine died: _reply says so
        while True:
            header = self._reply()
            if "progress" not in header:
                return [np.array(a) for a in read_arrays(self._replies, header)]
            if progress:
                progress(int(header["progress"]), len(x))

    def _reply(self) -> dict:
        line = self._replies.readline()
        if not line:
            self.close()
            raise RnnedgeError("the parallel runner's engine process ended unexpectedly")
        header = json.loads(line)
        if "error" in header:
            raise RnnedgeError(header["error"])
        return header

    def close(self) -> None:
        """Close the pipes (an idle engine then exits); kill an engine still running
        after CLOSE_WAIT_S."""
        if self._pid is None:
            return
        for stream in (self._requests, self._replies):
            try:
                stream.close()
            except OSError:
                pass
        deadline = time.monotonic() + CLOSE_WAIT_S
        while os.waitpid(self._pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
                break
            time.sleep(0.005)
        self._pid = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to release
            pass


def _serve(requests, replies, backend, model_path, options, jobs) -> None:
    """The engine's loop: compile, then run each request on `jobs` processes."""
    def send(obj):
        replies.write((json.dumps(obj) + "\n").encode())
        replies.flush()
    try:
        from rnnedge.firmware_sim.backends import make_backend
        run = make_backend(backend, model_path, **options)
    except Exception as exc:  # noqa: BLE001 - the refusal is the caller's error message
        send({"error": str(exc) or type(exc).__name__})
        return
    send({"ready": True})
    while line := requests.readline():
        x = read_arrays(requests, json.loads(line))[0]
        try:
            outputs = _forked(run, x, CHUNK, jobs, lambda done, total: send({"progress": done}))
        except Exception as exc:  # noqa: BLE001 - reported to the caller as one error
            send({"error": str(exc) or type(exc).__name__})
            continue
        write_arrays(replies, outputs)


def _forked(run, x, size, workers, progress) -> list:
    """`run` (a backend with `output_specs`, backends._loop) over every sample of `x` in up to
    `workers` processes, this one included, taking chunks of `size` from a shared counter."""
    total = len(x)
    chunks = -(-total // size)
    workers = min(workers, chunks)
    if workers < 2:
        return _serial(run, x, size, progress)
    offsets, nbytes = [], 16
    for shape, dtype in run.output_specs:
        nbytes = -(-nbytes // 16) * 16
        offsets.append(nbytes)
        nbytes += total * int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    block = mmap.mmap(-1, nbytes + _ERROR_BYTES)  # anonymous and shared across fork
    outputs = [np.frombuffer(block, dtype, total * int(np.prod(shape, dtype=np.int64)),
                             offset).reshape((total,) + tuple(shape))
               for (shape, dtype), offset in zip(run.output_specs, offsets)]
    lock = multiprocessing.get_context("fork").Lock()
    # block[0:8]: the next chunk to take; block[8:16]: samples done

    def take() -> int | None:
        with lock:
            index = struct.unpack_from("q", block, 0)[0]
            struct.pack_into("q", block, 0, index + 1)
        return index if index < chunks else None

    def work(report) -> None:
        while (index := take()) is not None:
            lo, hi = index * size, min(index * size + size, total)
            for out, value in zip(outputs, run(x[lo:hi])):
                out[lo:hi] = value
            with lock:
                done = struct.unpack_from("q", block, 8)[0] + hi - lo
                struct.pack_into("q", block, 8, done)
            if report:
                reported[0] = done
                report(done, total)

    children, reported = [], [0]
    try:
        for _ in range(workers - 1):
            pid = os.fork()
            if pid == 0:  # the worker: run chunks, never return into the caller's code
                status = 0
                try:
                    work(None)
                except BaseException as exc:  # noqa: BLE001 - reported to the parent
                    message = (str(exc) or type(exc).__name__).encode()[:_ERROR_BYTES - 1]
                    with lock:
                        if block[nbytes] == 0:
                            block[nbytes:nbytes + len(message)] = message
                    status = 1
                finally:
                    os._exit(status)
            children.append(pid)
        work(progress)
        failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
        children = []
        if failed:
            message = bytes(block[nbytes:nbytes + _ERROR_BYTES]).rstrip(b"\0").decode(
                errors="replace")
            raise RnnedgeError(message or "a worker process failed")
        if progress and reported[0] < total:  # the workers ran the last chunks
            progress(total, total)
        return [out.copy() for out in outputs]
    finally:
        for pid in children:  # the parent failed or was interrupted: stop the workers
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def run_samples(backend: str, model_path, x: np.ndarray, *, jobs: int | None = None,
                planner: str = "best", kernels: str | None = None,
                max_arena: int | None = None, progress=None, stream_input: bool = False,
                max_recompute: float = 0.0) -> list:
    """`ParallelRunner(backend, model_path, ...)(x, progress)`: the outputs of the samples
    `x` computed by `resolve_jobs(backend, jobs)` workers (the c backend's options as
    `make_backend` takes them)."""
    runner = ParallelRunner(backend, model_path, jobs=jobs, planner=planner, kernels=kernels,
                            max_arena=max_arena, stream_input=stream_input,
                            max_recompute=max_recompute)
    try:
        return runner(x, progress)
    finally:
        runner.close()
