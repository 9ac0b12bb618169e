"""C99 int8 reference kernels, built with the system compiler and loaded with ctypes
(imported as rnnedge.kernels).

The stage the firmware runtime calls to compute exactly what TFLite Micro computes:

  * ``load(sanitize=None)`` builds (once, cached) and loads the kernel library; the
    sanitizer (ASan + UBSan) build is used when ``sanitize`` is true or, by default,
    when ``RNNEDGE_KERNELS_SANITIZE=1`` (see `build.sanitizer_env`).
  * ``rnnedge.kernels.ops`` holds one prepared-kernel class per TFLite op (params
    computed once as TFLM's Prepare does, then called on caller-owned numpy buffers).
  * ``rnnedge.kernels.params`` holds those parameter derivations.

Module layout: C sources (one op per file) and ``include/`` beside this file;
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

_LIBS: dict[bool, ctypes.CDLL] = {}


def sanitize_requested() -> bool:
    """True when the environment asks for the sanitizer build."""
    return os.environ.get("RNNEDGE_KERNELS_SANITIZE", "") not in ("", "0")


def load(sanitize: bool | None = None) -> ctypes.CDLL:
    """The kernel library (built on first use), with every entry point typed.

    ``sanitize=None`` follows ``RNNEDGE_KERNELS_SANITIZE``.  Loading the sanitizer
    build needs the ASan runtime preloaded: run such code in a subprocess started
    with ``build.sanitizer_env()``.
    """
    if sanitize is None:
        sanitize = sanitize_requested()
    sanitize = bool(sanitize)
    if sanitize not in _LIBS:
        if sanitize and not build.asan_preloaded():
            raise RnnedgeError("the sanitizer kernel build needs libasan preloaded: run it in a "
                               "subprocess with rnnedge.kernels.build.sanitizer_env()")
        path = build.library_path(sanitize)
        _LIBS[sanitize] = structs.declare(ctypes.CDLL(str(path)))
    return _LIBS[sanitize]
