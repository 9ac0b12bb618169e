"""rnnedge: image models with recurrent heads, from PyTorch to int8 microcontroller deployment.

Stages, each with one home (dependencies point down this list, never up):
  rnnedge.cli           command line (click), one module per command; calls the stages below
  rnnedge.pipeline      the main job: train -> export -> arena -> check, Table-6 summary
  rnnedge.check         host-side accuracy of an int8 model vs float (metrics: rnnedge.metrics)
  rnnedge.train         training loop and checkpoints of the best epoch
  rnnedge.export        PyTorch -> ONNX -> int8 TFLite                      (folder export/)
  rnnedge.firmware_sim  static-arena runtime over the C kernels, C codegen   (folder firmware_sim/)
  rnnedge.kernels       C99 int8 kernels, built and loaded with ctypes      (folder kernels/)
  rnnedge.arena_report  per-op memory report; rnnedge.planner plans the arena
  rnnedge.tflite        bounds-checked .tflite reader and metadata writer
  rnnedge.data          CIFAR pickles, image folders, the synthetic default set
  rnnedge.checkpoint    rnnedge checkpoints (plain data, weights_only loading)
  rnnedge.rebuild       the allow-list of models a checkpoint may build, with typed arguments
  rnnedge.budget        byte budgets checked before anything sized by a file is allocated
  rnnedge.fuzz          mutation fuzzing of the stages and the CLI (tests, benchmarks/fuzz.py)
  rnnedge.summary       per-layer zoo summaries against the paper's tables
  rnnedge.zoo           the paper's models (Tables 1, 2, 5)
  rnnedge.accounting    parameter and MAC counts with the paper's conventions
  rnnedge.layers        RNN-on-image layers (reference and static forms)
"""

__version__ = "0.1.0"


def __getattr__(name):
    """`rnnedge.save` / `rnnedge.load` (rnnedge.checkpoint), imported on first use so that
    `import rnnedge` does not import torch."""
    if name in ("save", "load"):
        from rnnedge import checkpoint
        return getattr(checkpoint, name)
    raise AttributeError(f"module 'rnnedge' has no attribute {name!r}")
