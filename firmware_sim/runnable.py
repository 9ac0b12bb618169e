"""What the C runtime runs: one-line refusals of a model it cannot (a float model, with how to
get an int8 one; control flow, naming the first control-flow op; several subgraphs).

Imports rnnedge.errors.
"""

from rnnedge.errors import RnnedgeError

FLOATS = ("FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16")


def check_runnable(model) -> None:
    """One-line refusals of what the C runtime does not run: a float model (with how to get
    an int8 one) and control flow (naming the first control-flow op)."""
    sg = model.main
    activations = {sg.tensors[t].type_name for op in sg.operators for t in op.outputs}
    activations |= {sg.tensors[t].type_name for t in sg.inputs}
    if activations and activations <= set(FLOATS):
        raise RnnedgeError(f"the model is float ({'/'.join(sorted(activations))} activations, "
                           "no quantisation): the C runtime runs int8 models; make one with "
                           "`rnnedge export MODEL --int8 -o model.tflite` (or TFLiteConverter's "
                           "full-integer post-training quantisation), or run this one with "
                           "--backend tflite")
    for op in sg.operators:
        if op.opcode in ("WHILE", "IF", "CALL_ONCE"):
            raise RnnedgeError(f"op {op.index} {op.opcode}: control flow ({len(model.subgraphs)}"
                               " subgraphs) is not run by the C runtime yet; `rnnedge arena` "
                               "plans it and --backend tflm runs it")
    if len(model.subgraphs) > 1:
        raise RnnedgeError(f"the model has {len(model.subgraphs)} subgraphs; the C runtime "
                           "runs subgraph 0 of single-subgraph models only")
