"""What the C runtime runs: the one-line refusal of a float model, with how to get an int8
one. (Control flow and several subgraphs run: control.py.)

Imports rnnedge.errors.
"""

from rnnedge.errors import RnnedgeError

FLOATS = ("FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16")


def check_runnable(model) -> None:
    """The one-line refusal of a float model (with how to get an int8 one)."""
    sg = model.main
    activations = {sg.tensors[t].type_name for op in sg.operators for t in op.outputs}
    activations |= {sg.tensors[t].type_name for t in sg.inputs}
    if activations and activations <= set(FLOATS):
        raise RnnedgeError(f"the model is float ({'/'.join(sorted(activations))} activations, "
                           "no quantisation): the C runtime runs int8 models; make one with "
                           "`rnnedge export MODEL --int8 -o model.tflite` (or TFLiteConverter's "
                           "full-integer post-training quantisation), or run this one with "
                           "--backend tflite")
