"""C99 int8 kernels, built with the system compiler and loaded with ctypes (imported as
rnnedge.kernels).

The stage the firmware runtime calls to compute exactly what TFLite Micro computes:

  * ``load(sanitize=None, kernels=None)`` builds (once, cached) and loads the kernel
    library of a kernel set: ``optimized`` (the default; ``optimized/`` beside the
    reference files, same entry points and bytes, faster) or ``reference`` (the readable
    ones); ``kernels=None`` follows ``RNNEDGE_KERNELS`` (else ``optimized``). The
    sanitizer (ASan + UBSan) build is used when ``sanitize`` is true or, by default,
    when ``RNNEDGE_KERNELS_SANITIZE=1`` (see `build.sanitizer_env`).
  * ``rnnedge.kernels.ops`` holds one prepared-kernel class per TFLite op (params
    computed once as TFLM's Prepare does, then called on caller-owned numpy buffers).
  * ``rnnedge.kernels.params`` holds those parameter derivations.

Module layout: C sources (one op per file), ``optimized/`` (faster namesakes of some of
them: same entry points, structs and bytes) and ``include/`` beside this file;
``cflags.py`` holds the one set of C flags, ``build.py`` compiles, ``structs.py`` mirrors
the C structs, ``params.py`` derives quantisation parameters, ``ops/`` wraps each op (one
module per op family).

May import: the standard library, numpy, rnnedge.errors and rnnedge.files (cache location,
atomic output); nothing from other stages.
"""

import ctypes
import os

from rnnedge.errors import RnnedgeError
from rnnedge.kernels import build, structs

_LIBS: dict[tuple, ctypes.CDLL] = {}


def sanitize_requested() -> bool:
    """True when the environment asks for the sanitizer build."""
    return os.environ.get("RNNEDGE_KERNELS_SANITIZE", "") not in ("", "0")


def kernel_set(kernels: str | None = None) -> str:
    """The kernel set to use: `kernels`, else ``$RNNEDGE_KERNELS``, else ``optimized``."""
    return build.check_kernel_set(kernels or os.environ.get("RNNEDGE_KERNELS")
                                  or build.KERNEL_SETS[0])


def load(sanitize: bool | None = None, kernels: str | None = None) -> ctypes.CDLL:
    """The kernel library of kernel set `kernels` (built on first use), with every entry
    point typed.

    ``sanitize=None`` follows ``RNNEDGE_KERNELS_SANITIZE``, ``kernels=None`` follows
    `kernel_set`.  Loading the sanitizer build needs the ASan runtime preloaded: run such
    code in a subprocess started with ``build.sanitizer_env()``.
    """
    if sanitize is None:
        sanitize = sanitize_requested()
    key = (bool(sanitize), kernel_set(kernels))
    if key not in _LIBS:
        if key[0] and not build.asan_preloaded():
            raise RnnedgeError("the sanitizer kernel build needs libasan preloaded: run it in a "
                               "subprocess with rnnedge.kernels.build.sanitizer_env()")
        path = build.library_path(*key)
        _LIBS[key] = structs.declare(ctypes.CDLL(str(path)))
    return _LIBS[key]
