"""PyTorch -> ONNX -> fully int8 TFLite export (imported as rnnedge.export).

One module per stage; data flows down this list:
  pipeline     export_int8(): orchestrates the stages below, writes atomically, reports
  onnx_export  PyTorch (static form, eval) -> ONNX with torch.onnx (TorchScript exporter)
  calibration  calibration / check inputs (dataset folder or synthetic), ONNX tensor ranges
  converter    THE boundary ONNX -> int8 .tflite bytes, built from:
    lowering       ONNX op subset -> NHWC graph of TFLite builtins (the supported-op table)
    lowerers_recurrent  ONNX RNN/GRU/LSTM unrolled, weights once (recurrent_cells: the cells;
                   lowerers_fused_lstm: --lstm fused, UNIDIRECTIONAL_SEQUENCE_LSTM)
    quantize       int8 scales with same-scale groups, per-channel weights, int32 biases
    tflite_writer  the flatbuffer
  verify       onnxruntime vs PyTorch, int8 reference kernels vs float, TFLM run
  graph_stats  op counts, requirement checks, duplication factor, ops/step, MACs
  vela_check   Vela run as a tool: per-layer placement, cycles, SRAM, flash (any Ethos-U)
  user_model   a model the user brings (ONNX file, factory, nn.Module) -> int8, verified
               (verify_user), with onnx_rewrite before the lowering and the lowerers_*
               modules and support_table (the supported-op table) beside lowerers
See docs/export.md for the design and the choice of converter.

The Python API: `export_module(module, input_shapes, output, ...)` and
`export_onnx_file(path, output, ...)` (rnnedge.export.user_model).
"""


def export_module(*args, **kwargs):
    """rnnedge.export.user_model.export_module (imported on first use)."""
    from rnnedge.export.user_model import export_module as run
    return run(*args, **kwargs)


def export_onnx_file(*args, **kwargs):
    """rnnedge.export.user_model.export_onnx_file (imported on first use)."""
    from rnnedge.export.user_model import export_onnx_file as run
    return run(*args, **kwargs)
