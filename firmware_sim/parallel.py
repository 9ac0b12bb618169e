"""Run many samples through one backend on several threads, with the results of one thread.

    outputs = run_samples("c", "model.tflite", x, jobs=4, kernels="optimized")
    runner = ParallelRunner("c", "model.tflite", jobs=4); outputs = runner(x)  # reusable

Why threads: the C kernels are called through ctypes, which releases the GIL for the
duration of each call, so `jobs` runtimes (each with its own static arena, built once per
worker) compute different samples at the same time while Python only dispatches. The samples
are cut into contiguous chunks; each chunk's outputs land at its own position, so the result
is identical to ``jobs=1`` whatever the scheduling (every sample is computed independently by
deterministic kernels). Only the "c" backend runs on more than one thread: the tf.lite and
tflite-micro interpreters run in an isolated child process each (isolated.py), one batch per
round trip.

Imports numpy, the standard library and this package's backends module.
"""

import os
import queue
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.backends import make_backend

CHUNK = 16  # samples per task: small enough to balance, large enough to amortise dispatch
SERIAL_CHUNK = 64  # samples per call with one worker (one round trip to an isolated engine)


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
    """`resolve_jobs(backend, jobs)` runtimes of one model, built once; calling it with
    samples `x` (stacked on axis 0, as `make_backend` takes them) returns one array per graph
    output, stacked the same way, identical to one worker's. `progress(done, total)` is
    called as chunks finish."""

    def __init__(self, backend: str, model_path, *, jobs: int | None = None,
                 planner: str = "best", kernels: str | None = None,
                 max_arena: int | None = None, stream_input: bool = False,
                 max_recompute: float = 0.0):
        self.jobs = resolve_jobs(backend, jobs)
        self._runners = queue.SimpleQueue()
        for _ in range(self.jobs):
            self._runners.put(make_backend(backend, model_path, planner=planner,
                                           kernels=kernels, max_arena=max_arena,
                                           stream_input=stream_input,
                                           max_recompute=max_recompute))
        self._first = self._runners.get()
        self._runners.put(self._first)

    def _work(self, x, span):
        run = self._runners.get()
        try:
            return run(x[span[0]:span[1]])
        finally:
            self._runners.put(run)

    def __call__(self, x: np.ndarray, progress=None) -> list:
        total = len(x)
        if total == 0:
            return self._first(x)
        size = CHUNK if self.jobs > 1 else SERIAL_CHUNK
        chunks = [(i, min(i + size, total)) for i in range(0, total, size)]
        results, done = [], 0
        with ThreadPoolExecutor(max_workers=max(1, min(self.jobs, len(chunks)))) as pool:
            futures = [pool.submit(self._work, x, span) for span in chunks]
            for span, future in zip(chunks, futures):
                results.append(future.result())
                done += span[1] - span[0]
                if progress:
                    progress(done, total)
        return [np.concatenate([r[k] for r in results]) for k in range(len(results[0]))]


def run_samples(backend: str, model_path, x: np.ndarray, *, jobs: int | None = None,
                planner: str = "best", kernels: str | None = None,
                max_arena: int | None = None, progress=None, stream_input: bool = False,
                max_recompute: float = 0.0) -> list:
    """`ParallelRunner(backend, model_path, ...)(x, progress)`: the outputs of the samples
    `x` computed by `resolve_jobs(backend, jobs)` workers (the c backend's options as
    `make_backend` takes them)."""
    return ParallelRunner(backend, model_path, jobs=jobs, planner=planner, kernels=kernels,
                          max_arena=max_arena, stream_input=stream_input,
                          max_recompute=max_recompute)(x, progress)
