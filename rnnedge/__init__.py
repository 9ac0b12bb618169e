"""rnnedge: image models with recurrent heads, from PyTorch to int8 microcontroller deployment.

Stages, each with one home (dependencies point down this list, never up):
  rnnedge.cli           command line (click); calls the stages below
  rnnedge.export        PyTorch -> ONNX -> int8 TFLite          (folder export/)
  rnnedge.firmware_sim  static-arena runtime over the C kernels (folder firmware_sim/)
  rnnedge.kernels       C99 int8 kernels, built and loaded with ctypes (folder kernels/)
  rnnedge.zoo           the paper's models (Tables 1, 2, 5)
  rnnedge.layers        RNN-on-image layers (reference and static forms)
  rnnedge.accounting    parameter and MAC counts with the paper's conventions
"""

__version__ = "0.1.0"


def __getattr__(name):
    """`rnnedge.save` / `rnnedge.load` (rnnedge.checkpoint), imported on first use so that
    `import rnnedge` does not import torch."""
    if name in ("save", "load"):
        from rnnedge import checkpoint
        return getattr(checkpoint, name)
    raise AttributeError(f"module 'rnnedge' has no attribute {name!r}")
