"""An estimate of TFLite Micro's persistent tail: what its allocator keeps after the planned
head, by allocation kind (the records of TFLM's RecordingMicroAllocator, 64-bit build, as the
tflite-micro Python package measures them).

Why a model and not a constant per op: the tail is dominated by per-op kernel data that
differs by op and dtype (per-channel multipliers, int16 SOFTMAX look-up tables, the LSTM's
gate parameters) and by the variable tensors (SVDF/LSTM state), which live in the tail.

  fixed                   ALLOCATOR bytes (allocator objects, interpreter state) plus
                          SUBGRAPH bytes per subgraph
  TfLiteEvalTensor        24 B per tensor of every subgraph
  NodeAndRegistration     64 B per operator of every subgraph
  builtin data            BUILTIN bytes per operator with builtin options (its params struct)
  scratch handles         8 B per kernel scratch request
  graph inputs/outputs    64 B (TfLiteTensor) + 32 B if quantised, per input/output of
                          subgraph 0
  variable tensors        each tensor's bytes, rounded up to 16 (SVDF and LSTM state)
  kernel data             OP_DATA bytes per operator that keeps kernel data (SMALL_OP_DATA
                          for the quantize, activation, pool and resize ops in SMALL, none
                          for the views, comparisons and control ops in NO_OP_DATA), plus:
                          CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV: two int32 arrays per
                          output channel (multiplier, shift); FULLY_CONNECTED: the same only
                          with a per-channel filter; SOFTMAX with int16 input: two 513-entry
                          int16 look-up tables; UNIDIRECTIONAL_SEQUENCE_LSTM: LSTM_DATA bytes
                          (gate parameters); BATCH_MATMUL: its OpData, the quantisation
                          struct (int8/int16) and a persistent transposed copy (eval tensor,
                          dims, data) of the lhs with adj_x and of the rhs without adj_y
                          (batch_matmul.cc); CALL_ONCE its OpData (subgraph index, has_run),
                          VAR_HANDLE its resource id, ASSIGN_VARIABLE its compression scratch
                          index (TFLM built with USE_TFLM_COMPRESSION, as the tflite-micro
                          package is), READ_VARIABLE none; builtin params TfLiteCallOnceParams
                          4 B, TfLiteVarHandleParams 16 B (two string pointers)
  resource variables      MicroResourceVariables::Create(allocator, n) with n the model's
                          distinct VAR_HANDLE shared names (what the tflite-micro interpreter
                          passes): the 16 B object and n 40 B MicroResourceVariable entries;
                          and each variable's buffer (MicroResourceVariables::Allocate: the
                          bytes of the first value assigned), rounded up to 16
  input/output pointers   MicroInterpreter's arrays of TfLiteTensor* for the graph's inputs
                          and outputs (8 B each, one allocation per array)

The constants come from measured tails (tests/test_tflm_memory.py checks the estimate against
TFLM on every test model, within TAIL_TOLERANCE). KERNEL_DATA and BUILTIN_DATA hold the exact
per-op bytes of the ops an unrolled recurrence is made of, as TFLM's allocator records them
(the "Persistent buffer data" record, 16-byte aligned, and the unrecorded builtin params,
4-byte aligned) on the detector exports: sizeof(OpDataConv) 80, OpDataAdd 60 (64 aligned),
the CONCATENATION OpData 80, TANH 16, PAD 64, OpDataFullyConnected 80; SPLIT and TRANSPOSE
keep none; TfLiteConvParams 28, TfLiteAddParams 8, TfLiteConcatenationParams 8,
TfLiteSplitParams 4, TRANSPOSE and PAD none, and 32 unrecorded bytes per FULLY_CONNECTED
(measured by difference: the same CRNNs with per-tensor FC steps instead of CONV_2D steps,
`--recurrent-step fc`, keep 4 B more unrecorded per op, within 8 B of alignment). With them the estimate is TFLM's measured tail to within 0.3% on det-cnn-256 and
det-crnn-256 (tests/test_tflm_tail_floor.py). Works on rnnedge.tflite models; imports
only rnnedge.tflm_scratch.
"""

from rnnedge.tflm_scratch import kernel_scratch

ALLOCATOR, SUBGRAPH, BUILTIN, OP_DATA, SMALL_OP_DATA, LSTM_DATA = 448, 16, 24, 80, 32, 720
TAIL_TOLERANCE = 0.05
NO_OP_DATA = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS", "SHAPE", "WHILE", "IF",
              "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL",
              "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT", "GATHER", "PACK", "UNPACK")
SMALL = ("QUANTIZE", "DEQUANTIZE", "TANH", "LOGISTIC", "MAX_POOL_2D", "AVERAGE_POOL_2D",
         "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "RESIZE_NEAREST_NEIGHBOR")
PER_CHANNEL = ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV")
RESOURCE_OP_DATA = {"CALL_ONCE": 16, "VAR_HANDLE": 16, "ASSIGN_VARIABLE": 16,
                    "READ_VARIABLE": 0}
RESOURCE_VARIABLES, RESOURCE_VARIABLE = 16, 40  # sizeof(MicroResourceVariables), entry
POINTER = 8  # sizeof(TfLiteTensor*), 64-bit
EVAL_TENSOR = 24  # sizeof(TfLiteEvalTensor), 64-bit
NODE = 64  # sizeof(NodeAndRegistration), 64-bit
#: kernel data (before the per-channel arrays) of the ops measured exactly; others: OP_DATA etc.
KERNEL_DATA = {"CONV_2D": 80, "ADD": 64, "CONCATENATION": 80, "TANH": 16, "PAD": 64,
               "SPLIT": 0, "TRANSPOSE": 0, "FULLY_CONNECTED": 80}
#: builtin params of the ops measured exactly; other ops with options: BUILTIN
BUILTIN_DATA = {"CONV_2D": 28, "ADD": 8, "CONCATENATION": 8, "SPLIT": 4, "TRANSPOSE": 0,
                "PAD": 0, "CALL_ONCE": 4, "VAR_HANDLE": 16, "FULLY_CONNECTED": 32}
TAIL_CONVENTION = (
    "estimate of TFLM's persistent tail (rnnedge.tflm_tail): allocator state + 16 B per "
    "subgraph + 24 B per tensor + 64 B per op + builtin params + 8 B per scratch request + "
    "64-96 B per graph input/output (+ its TfLiteTensor* slot) + variable tensors (SVDF/LSTM state) + per-op kernel "
    "data (80 B, 32 B for quantize/activation/pool ops, measured per op for CONV_2D/ADD/"
    "CONCATENATION/TANH/PAD/SPLIT/TRANSPOSE/FULLY_CONNECTED; + 8 B per output channel of "
    "CONV_2D/DEPTHWISE_CONV_2D/TRANSPOSE_CONV and of "
    "per-channel FULLY_CONNECTED; int16 SOFTMAX tables; LSTM gate parameters; BATCH_MATMUL's "
    "transposed operand copies; CALL_ONCE/VAR_HANDLE/ASSIGN_VARIABLE OpData) + resource "
    "variables (MicroResourceVariables table and buffers); "
    "within 5% of the measured tail on the test models; --verify-tflm measures it")


def _align(n: int) -> int:
    return (n + 15) // 16 * 16


def _batch_matmul_data(sg, op) -> int:
    """OpDataBatchMatmul, its quantisation struct and the transposed operand copies."""
    size = 32 + (32 if sg.tensors[op.inputs[0]].type_name in ("INT8", "INT16") else 0)
    for position, transposed in ((0, op.options.get("adj_x")), (1, not op.options.get("adj_y"))):
        if transposed:
            t = sg.tensors[op.inputs[position]]
            size += _align(EVAL_TENSOR) + _align(4 + 4 * len(t.shape)) + _align(t.nbytes)
    return size


def _resource_bytes(subgraphs) -> int:
    """Bytes of the resource variables: MicroResourceVariables (the object and one entry per
    shared name) when the model has any, and their buffers: one per shared name, sized by the
    first ASSIGN_VARIABLE of it (its value tensor)."""
    names, sizes = {}, {}
    for index, sg in enumerate(subgraphs):
        for op in sg.operators:
            if op.opcode == "VAR_HANDLE" and op.outputs:
                names[(index, op.outputs[0])] = op.options.get("shared_name") or ""
    for index, sg in enumerate(subgraphs):
        for op in sg.operators:
            if op.opcode == "ASSIGN_VARIABLE" and len(op.inputs) == 2:
                name = names.get((index, op.inputs[0]))
                if name is not None and name not in sizes:
                    sizes[name] = _align(sg.tensors[op.inputs[1]].nbytes)
    distinct = len(set(names.values()))
    table = _align(RESOURCE_VARIABLES) + _align(RESOURCE_VARIABLE * distinct) if distinct else 0
    return table + sum(sizes.values())


def _kernel_data(sg, op) -> int:
    if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        return LSTM_DATA
    if op.opcode in RESOURCE_OP_DATA:
        return RESOURCE_OP_DATA[op.opcode]
    if op.opcode == "BATCH_MATMUL" and len(op.inputs) >= 2:
        return _batch_matmul_data(sg, op)
    if op.opcode in NO_OP_DATA:
        return 0
    if op.opcode in SMALL and op.opcode not in KERNEL_DATA:
        return SMALL_OP_DATA
    size = KERNEL_DATA.get(op.opcode, OP_DATA)
    filt = sg.tensors[op.inputs[1]] if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
    per_channel = (filt is not None and filt.quantization is not None
                   and filt.quantization.per_channel)
    out = sg.tensors[op.outputs[0]] if op.outputs and op.outputs[0] >= 0 else None
    if out is not None and out.shape and (
            op.opcode in PER_CHANNEL or (op.opcode == "FULLY_CONNECTED" and per_channel)):
        channels = filt.shape[0] if op.opcode == "TRANSPOSE_CONV" and filt is not None \
            else out.shape[-1]
        size += 2 * _align(4 * channels)
    source = sg.tensors[op.inputs[0]] if op.inputs and op.inputs[0] >= 0 else None
    if op.opcode == "SOFTMAX" and source is not None and source.type_name == "INT16":
        size += 2 * _align(2 * 513)
    return size


def builtin_data(op) -> int:
    """Bytes of an operator's builtin params (TfLite*Params) in the tail."""
    if not op.options_type:
        return 0
    return BUILTIN_DATA.get(op.opcode, BUILTIN)


def kind_tail(opcode: str, channels: int = 0) -> int:
    """Tail bytes of one operator of a measured kind (KERNEL_DATA) with one output tensor:
    node, builtin params, kernel data, the per-channel arrays of `channels` output channels
    (PER_CHANNEL kinds) and the output's eval tensor."""
    per_channel = 2 * _align(4 * channels) if opcode in PER_CHANNEL else 0
    return NODE + BUILTIN_DATA.get(opcode, 0) + KERNEL_DATA[opcode] + per_channel + EVAL_TENSOR


def op_tail(sg, op) -> int:
    """Tail bytes one operator of `sg` adds: its node, builtin params, kernel data (with the
    per-channel arrays) and the eval tensors of its outputs."""
    return NODE + builtin_data(op) + _kernel_data(sg, op) + EVAL_TENSOR * len(op.outputs)


def tail_estimate(model) -> int:
    """TFLM's persistent tail for `model` (a Model, or one Subgraph planned alone)."""
    subgraphs = getattr(model, "subgraphs", None) or (model,)
    main = subgraphs[0]
    total = ALLOCATOR
    for sg in subgraphs:
        total += SUBGRAPH + EVAL_TENSOR * len(sg.tensors) + NODE * len(sg.operators)
        total += 8 * len(kernel_scratch(sg))
        for op in sg.operators:
            total += builtin_data(op) + _kernel_data(sg, op)
        total += sum(_align(t.nbytes) for t in sg.tensors if t.is_variable)
    total += _resource_bytes(subgraphs)
    total += _align(POINTER * len(main.inputs)) + _align(POINTER * len(main.outputs))
    for t in (*main.inputs, *main.outputs):
        tensor = main.tensors[t]
        total += 64 + (32 if tensor.quantization is not None else 0)
    return total
