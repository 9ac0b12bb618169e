"""Read the CIFAR python-pickle files without running arbitrary code.

A pickle can call any importable function while it loads, so `pickle.load` on a downloaded
file is code execution. The CIFAR files only hold dicts, lists, ints, (byte) strings and
uint8 numpy arrays, so this unpickler resolves exactly the globals those need (numpy's array
reconstruction and dtype, and `_codecs.encode` for latin-1 only, which Python 3 uses to
pickle bytes at protocol 2) and refuses every other global with an RnnedgeError. The files
were written by Python 2: `encoding="bytes"` keeps their `str` objects as bytes.

May import: numpy, rnnedge.errors.
"""

import codecs
import pickle

import numpy as np

from rnnedge.errors import RnnedgeError


def _latin1_encode(text, encoding="utf-8"):
    """`_codecs.encode` restricted to latin-1, the only codec Python 3's pickler emits."""
    if encoding.lower().replace("_", "-") not in ("latin1", "latin-1"):
        raise RnnedgeError(f"pickle asks for codec {encoding!r}: refused (only latin-1 is "
                           "used by array and bytes pickles)")
    return codecs.encode(text, "latin-1")


def _array_reconstructors():
    """numpy's array-rebuilding functions under every module name pickles use for them."""
    reconstruct = np.zeros(1, np.uint8).__reduce__()[0]
    frombuffer = np.zeros(1, np.uint8).__reduce_ex__(5)[0]
    allowed = {}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = reconstruct
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        allowed[(module, "_frombuffer")] = frombuffer
    return allowed


_ALLOWED = {
    **_array_reconstructors(),
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("builtins", "list"): list,
    ("builtins", "dict"): dict,
    ("builtins", "bytes"): bytes,
    ("builtins", "str"): str,
    ("builtins", "int"): int,
}


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in `_ALLOWED`."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise RnnedgeError(
                f"{self.source}: the pickle references {module}.{name}, which a CIFAR file "
                "never needs: refused (the file is corrupt or not a CIFAR batch)") from None


def load_cifar_pickle(path):
    """Load one CIFAR python-pickle file at `path` with the restricted unpickler and return
    its top-level dict with keys decoded to str; RnnedgeError when it is unreadable."""
    try:
        with open(path, "rb") as handle:
            unpickler = _CifarUnpickler(handle, encoding="bytes")
            unpickler.source = str(path)
            obj = unpickler.load()
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
