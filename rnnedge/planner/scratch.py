"""Scratch buffers that TFLite Micro's reference kernels request in the arena.

These are the kernels' `RequestScratchBufferInArena` calls for int8/int16 data (the kernels
the tflite-micro Python runtime and TFLM's reference build use; CMSIS-NN kernels request
more, e.g. im2col buffers for convolutions, which this estimate does not model):
  MEAN, SUM             4 bytes per output element (int32 accumulators)
  REDUCE_MAX, REDUCE_MIN 4 bytes per input dimension and 4 per reduced axis (two requests)
  TRANSPOSE_CONV        4 bytes per output element (int32 accumulators) for int8/int16
CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pooling, elementwise, SOFTMAX, CONCATENATION,
RESHAPE, PAD and the other ops of CNN/RNN exports request none in the reference build.
Imports nothing from rnnedge.
"""

_QUANTIZED = ("INT8", "UINT8", "INT16")


def scratch_requests(subgraph) -> list:
    """[(operator index, bytes, label)] in TFLM's request order (operator order)."""
    out = []
    tensors = subgraph.tensors
    for op in subgraph.operators:
        if not op.inputs or op.inputs[0] < 0 or not op.outputs:
            continue
        inp, outp = tensors[op.inputs[0]], tensors[op.outputs[0]]
        if op.opcode in ("MEAN", "SUM") and inp.type_name in _QUANTIZED:
            out.append((op.index, 4 * outp.num_elements, f"op{op.index} {op.opcode} scratch"))
        elif op.opcode in ("REDUCE_MAX", "REDUCE_MIN") and len(op.inputs) > 1:
            axis = tensors[op.inputs[1]]
            out.append((op.index, 4 * len(inp.shape), f"op{op.index} {op.opcode} scratch"))
            out.append((op.index, 4 * axis.num_elements, f"op{op.index} {op.opcode} axis"))
        elif op.opcode == "TRANSPOSE_CONV" and len(op.inputs) > 2:
            data = tensors[op.inputs[2]]
            if data.type_name in _QUANTIZED:
                out.append((op.index, 4 * outp.num_elements,
                            f"op{op.index} TRANSPOSE_CONV scratch"))
    return out
