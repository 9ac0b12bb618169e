"""Read (and minimally patch) .tflite flatbuffers in pure Python, without TensorFlow.

Stable API for the other stages (planner, reports, firmware runtime, exporter reports):

    from rnnedge.tflite import read_model
    model = read_model("model.tflite")          # or read_model(raw_bytes)
    sg = model.main                             # == model.subgraphs[0]
    for op in sg.operators:                     # execution order
        op.opcode, op.inputs, op.outputs, op.options     # "CONV_2D", (0, 42, 41), (43,), {...}
    t = sg.tensors[op.outputs[0]]
    t.name, t.shape, t.dtype, t.nbytes, t.data, t.quantization   # data: numpy or None
    t.quantization.scales, .zero_points, .quantized_dimension
    model.metadata_dict()                       # {name: bytes}

    from rnnedge.tflite import write_offline_plan, add_metadata
    new_bytes = write_offline_plan(model.raw, {tensor_index: arena_offset, ...})

Every malformed input raises `RnnedgeError` with one line (never a crash). Modules: flatbuf
(bounds-checked wire format), schema (enums and field tables), model (dataclasses), reader,
writer. Imports numpy and rnnedge.errors only.
"""

from rnnedge.tflite.model import Buffer, Metadata, Model, Operator, Quantization, Subgraph, Tensor
from rnnedge.tflite.reader import read_model
from rnnedge.tflite.writer import OFFLINE_PLAN_NAME, add_metadata, write_offline_plan

__all__ = ["Buffer", "Metadata", "Model", "Operator", "Quantization", "Subgraph", "Tensor",
           "read_model", "add_metadata", "write_offline_plan", "OFFLINE_PLAN_NAME"]
