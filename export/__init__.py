"""PyTorch -> ONNX -> int8 TFLite export (imported as rnnedge.export)."""
