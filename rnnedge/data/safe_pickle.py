"""Read the CIFAR python-pickle files without running arbitrary code.

A pickle can call any importable function while it loads, so `pickle.load` on a downloaded
file is code execution. The CIFAR files only hold dicts, lists, ints, (byte) strings and
uint8 numpy arrays, so this unpickler resolves exactly the globals those need (numpy's array
reconstruction and dtype, and `_codecs.encode` for latin-1 only, which Python 3 uses to
pickle bytes at protocol 2) and refuses every other global with an RnnedgeError. Each of
them is wrapped so that no object it builds can exceed the file's own size (plus SLACK): a
238-byte file cannot ask for `bytes(2**31)` or a 1.8 GB empty array. The files were written
by Python 2: `encoding="bytes"` keeps their `str` objects as bytes.

May import: numpy, rnnedge.errors.
"""

import codecs
import os
import pickle

import numpy as np

from rnnedge.errors import RnnedgeError

SLACK = 1 << 16  # bytes an object may exceed the file by (headers, small empty arrays)


class _Bounds:
    """The constructors a CIFAR pickle needs, each refusing to build more than `limit` bytes:
    the data of a CIFAR file is in the file, so nothing it builds can be larger than it
    (plus a small slack). `bytes(N)`, a huge empty array or an object dtype are refused."""

    def __init__(self, limit):
        self.limit = limit

    def _check(self, nbytes, what):
        if nbytes > self.limit:
            raise RnnedgeError(f"pickle asks for {what} of {nbytes:,} bytes, more than the file "
                               f"can hold ({self.limit:,}): refused")

    def encode(self, text, encoding="utf-8"):
        """`_codecs.encode` restricted to latin-1, the only codec Python 3's pickler emits."""
        if not isinstance(encoding, str) or \
                encoding.lower().replace("_", "-") not in ("latin1", "latin-1"):
            raise RnnedgeError(f"pickle asks for codec {str(encoding)[:20]!r}: refused (only "
                               "latin-1 is used by array and bytes pickles)")
        if not isinstance(text, str):
            raise RnnedgeError("pickle asks to encode a non-string: refused")
        return codecs.encode(text, "latin-1")

    def bytes(self, *args):
        if args and not isinstance(args[0], (bytes, bytearray, str, list)):
            raise RnnedgeError("pickle asks for bytes(...) of a number or an object: refused")
        if args and isinstance(args[0], list):
            self._check(len(args[0]), "bytes")
        return bytes(*args)

    def dtype(self, spec, *args):
        dtype = np.dtype(spec, *args[:2])
        if dtype.kind not in "biuf":
            raise RnnedgeError(f"pickle asks for numpy dtype {dtype}: refused (CIFAR arrays "
                               "are numeric)")
        return dtype

    def reconstruct(self, cls, shape, dtype_code):
        if cls is not _NDARRAY:
            raise RnnedgeError("pickle asks to reconstruct something other than an array: "
                               "refused")
        size = np.prod(shape, dtype=np.int64) if isinstance(shape, tuple) else shape
        self._check(int(size), "an empty array")
        return _RECONSTRUCT(np.ndarray, shape, dtype_code)

    def frombuffer(self, buffer, dtype, shape, order):
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
            raise RnnedgeError("pickle asks for a non-numeric array: refused")
        self._check(len(buffer), "an array")
        return _FROMBUFFER(buffer, dtype, shape, order)


_NDARRAY = object()  # stands for numpy.ndarray: the type itself must not be callable
_RECONSTRUCT = np.zeros(1, np.uint8).__reduce__()[0]
_FROMBUFFER = np.zeros(1, np.uint8).__reduce_ex__(5)[0]


def _allowed(bounds):
    """{(module, name): object} of the globals a CIFAR pickle may reference."""
    allowed = {("numpy", "ndarray"): _NDARRAY, ("numpy", "dtype"): bounds.dtype,
               ("_codecs", "encode"): bounds.encode, ("builtins", "bytes"): bounds.bytes,
               ("builtins", "list"): list, ("builtins", "dict"): dict}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = bounds.reconstruct
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        allowed[(module, "_frombuffer")] = bounds.frombuffer
    return allowed


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals of `_allowed`, size-bounded."""

    def __init__(self, handle, limit, source):
        super().__init__(handle, encoding="bytes")
        self.source = source
        self.allowed = _allowed(_Bounds(limit))

    def find_class(self, module, name):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise RnnedgeError(
                f"{self.source}: the pickle references {str(module)[:40]}.{str(name)[:40]}, "
                "which a CIFAR file never needs: refused (the file is corrupt or not a CIFAR "
                "batch)") from None


def load_cifar_pickle(path):
    """Load one CIFAR python-pickle file at `path` with the restricted unpickler and return
    its top-level dict with keys decoded to str; RnnedgeError when it is unreadable."""
    try:
        with open(path, "rb") as handle:
            limit = os.fstat(handle.fileno()).st_size + SLACK
            obj = _CifarUnpickler(handle, limit, str(path)).load()
    except RnnedgeError:
        raise
    except OSError as exc:
        raise RnnedgeError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # any malformed-pickle error from the pickle machinery
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RnnedgeError(f"{path}: not a readable CIFAR pickle ({detail})") from None
    if not isinstance(obj, dict):
        raise RnnedgeError(f"{path}: expected a dict in the pickle, found {type(obj).__name__}")
    return {(key.decode("latin-1") if isinstance(key, bytes) else key): value
            for key, value in obj.items()}
