"""The real shapes of the blocks inside SPACE_TO_BATCH_ND ... BATCH_TO_SPACE_ND.

TensorFlow's converter lowers a dilated convolution of a model with a dynamic batch
(`keras.Input(..., batch_size=None)`) to SPACE_TO_BATCH_ND -> CONV_2D / DEPTHWISE_CONV_2D ->
BATCH_TO_SPACE_ND. It writes every tensor's `shape` with the dynamic batch set to 1
(`shape_signature` keeps -1), so the tensors between the two movement ops are declared with
batch 1 although they hold prod(block shape) blocks. tf.lite resizes them when the batch is
fixed; tflite-micro does not (its conv then computes one block of four and leaves the others as
whatever the arena held). `resolve_block_batches` gives those tensors the batch the operators
compute, so the planner sizes them and the kernels run every block, as tf.lite does.

Imports numpy, dataclasses and rnnedge.tflite.
"""

from dataclasses import replace

import numpy as np

from rnnedge.tflite.model import Model


def _dynamic_batch(t) -> bool:
    return (t.shape_signature is not None and len(t.shape_signature) == len(t.shape) > 0
            and t.shape_signature[0] == -1)


def _block_tensors(sg, op) -> tuple:
    """(tensor indices, blocks): the SPACE_TO_BATCH_ND `op`'s output and the tensors computed
    from it up to its BATCH_TO_SPACE_ND whose declared batch misses the block count."""
    block = sg.tensors[op.inputs[1]]
    if block.data is None:
        return (), 1
    blocks = int(np.prod(block.data))
    batch = sg.tensors[op.inputs[0]].shape[0]
    found, frontier = [], [op.outputs[0]]
    while frontier:
        t = frontier.pop()
        tensor = sg.tensors[t]
        if not _dynamic_batch(tensor) or tensor.shape[0] != batch or t in found:
            continue
        found.append(t)
        for consumer in sg.operators:
            if t in consumer.inputs[:1] and consumer.opcode != "BATCH_TO_SPACE_ND":
                frontier.extend(consumer.outputs)
    return tuple(found), blocks


def resolve_block_batches(model: Model) -> Model:
    """`model` with the tensors between each SPACE_TO_BATCH_ND and its BATCH_TO_SPACE_ND
    declared with the batch the operators compute (see module docstring); unchanged (the same
    object) when no tensor needs it."""
    sg = model.main
    tensors = list(sg.tensors)
    for op in sg.operators:
        if op.opcode != "SPACE_TO_BATCH_ND" or len(op.inputs) < 2:
            continue
        found, blocks = _block_tensors(sg, op)
        for t in found:
            shape = tensors[t].shape
            tensors[t] = replace(tensors[t], shape=(shape[0] * blocks, *shape[1:]))
    if tensors == list(sg.tensors):
        return model
    main = replace(sg, tensors=tuple(tensors))
    return replace(model, subgraphs=(main, *model.subgraphs[1:]))
