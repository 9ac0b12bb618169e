"""Run many samples through one backend on several threads, with the results of one thread.

    outputs = run_samples("c", "model.tflite", x, jobs=4, kernels="optimized")

Why threads: the C kernels are called through ctypes, which releases the GIL for the
duration of each call, so `jobs` runtimes (each with its own static arena, built once per
worker) compute different samples at the same time while Python only dispatches. The samples
are cut into contiguous chunks; each chunk's outputs land at its own position, so the result
is identical to ``jobs=1`` whatever the scheduling (every sample is computed independently by
deterministic kernels). Only the "c" backend runs on more than one thread: tf.lite and
tflite-micro interpreters are not documented as releasing the GIL or as safe to drive from
several threads.

Imports numpy, the standard library and this package's backends module.
"""

import os
import queue
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.firmware_sim.backends import make_backend

CHUNK = 16  # samples per task: small enough to balance, large enough to amortise dispatch


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


def run_samples(backend: str, model_path, x: np.ndarray, *, jobs: int | None = None,
                planner: str = "best", kernels: str | None = None, progress=None) -> list:
    """The outputs of the samples `x` (stacked on axis 0, as `make_backend` takes them) on
    `backend`, computed by `resolve_jobs(backend, jobs)` workers: one array per graph output,
    stacked the same way. `progress(done, total)` is called as chunks finish."""
    jobs = resolve_jobs(backend, jobs)
    total = len(x)
    chunks = [(i, min(i + CHUNK, total)) for i in range(0, total, CHUNK)]
    jobs = max(1, min(jobs, len(chunks)))
    runners = queue.SimpleQueue()
    first = make_backend(backend, model_path, planner=planner, kernels=kernels)
    runners.put(first)
    for _ in range(jobs - 1):
        runners.put(make_backend(backend, model_path, planner=planner, kernels=kernels))
    if total == 0:
        return first(x)

    def work(span):
        run = runners.get()
        try:
            return span, run(x[span[0]:span[1]])
        finally:
            runners.put(run)

    results, done = [None] * len(chunks), 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(work, span) for span in chunks]
        for index, future in enumerate(futures):
            span, outputs = future.result()
            results[index] = outputs
            done += span[1] - span[0]
            if progress:
                progress(done, total)
    return [np.concatenate([r[k] for r in results]) for k in range(len(results[0]))]
