"""Child process of the sanitizer tests: runs pickled kernel specs on the ASan +
UBSan build and compares every output with TFLM (which, unlike TensorFlow, loads
fine with libasan preloaded).

Usage: ``python sanitizer_tflm.py CASES.pkl``; each case is
(name, model bytes, (ops class name, args, kwargs), list of input tuples).
Exits non-zero, naming the case, on the first mismatching byte.

May import: numpy, tflite_micro and rnnedge.kernels.
"""

import pickle
import sys

import numpy as np
from tflite_micro.python.tflite_micro import runtime

from rnnedge.kernels import load, ops


def main(path: str) -> int:
    """Check every case; 0 when all match."""
    lib = load()
    with open(path, "rb") as f:
        cases = pickle.load(f)
    for name, model, (cls, args, kwargs), inputs in cases:
        kernel = getattr(ops, cls)(*args, lib=lib, **kwargs)
        tflm = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
        for xs in inputs:
            for i, x in enumerate(xs):
                tflm.set_input(x, i)
            tflm.invoke()
            want = np.array(tflm.get_output(0))
            got = kernel(*xs)
            if want.reshape(-1).view(np.uint8).tolist() != got.reshape(-1).view(np.uint8).tolist():
                print(f"{name}: sanitizer build differs from TFLM", file=sys.stderr)
                return 1
    print(f"{len(cases)} cases match TFLM")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
