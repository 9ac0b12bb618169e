"""Fixtures of the op-level kernel tests: the kernel library of each kernel set and a seeded
random generator per test."""

import numpy as np
import pytest

from rnnedge import kernels


@pytest.fixture(scope="session", params=["optimized", "reference"])
def lib(request):
    """The C kernels of each kernel set, so every op test runs both against TFLM (release
    build, or the sanitizer build when RNNEDGE_KERNELS_SANITIZE=1)."""
    return kernels.load(kernels=request.param)


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id, so each case is reproducible."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(request.node.nodeid)) % (2**32)
    return np.random.default_rng(seed)
