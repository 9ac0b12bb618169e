"""The verification block printed after an export.

Three independent checks of what was written:
1. onnxruntime on the exported (static-form) ONNX vs the float PyTorch model in its reference
   form: max |diff| (catches a static form or an ONNX export that computes something else).
2. The int8 .tflite on TFLite's reference kernels (BUILTIN_REF, the ones TFLM is bit-exact
   with) vs float PyTorch on the calibration-independent check set: cosine similarity and
   max/mean |diff| of the dequantised outputs, and argmax agreement (over classes for a
   classifier; per pixel over channels for a map output; not for a detector).
3. tflite-micro loads and runs the model (in a child process) on the first check input, and
   its outputs are compared with the reference kernels' (max difference in LSB; usually 0).

Inputs are quantised with rnnedge.preprocessing.quantize_input (TFLite's QUANTIZE rounding);
TFLM's arena is sized by rnnedge.tflm_probe.tflm_arena_size.

May import: numpy, torch, onnxruntime, ai_edge_litert, rnnedge.errors, rnnedge.preprocessing,
rnnedge.tflm_probe.
"""

import numpy as np
import torch

from rnnedge.errors import RnnedgeError
from rnnedge.preprocessing import quantize_input


def _as_list(outputs):
    """A model output (tensor or tuple of tensors) as a list."""
    if isinstance(outputs, (tuple, list)):
        return [o for o in outputs]
    return [outputs]


def torch_outputs(model, samples):
    """Float PyTorch outputs (NCHW numpy) per sample: [[out0, out1, ...], ...]."""
    model = model.eval()
    results = []
    with torch.no_grad():
        for sample in samples:
            results.append([o.numpy() for o in _as_list(model(torch.from_numpy(sample)))])
    return results


def ort_max_diff(onnx_model, reference_outputs, samples):
    """max |onnxruntime - PyTorch| over the samples and outputs."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared cores
    session = ort.InferenceSession(onnx_model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    worst = 0.0
    for sample, ref in zip(samples, reference_outputs):
        for got, want in zip(session.run(None, {name: sample}), ref):
            worst = max(worst, float(np.max(np.abs(got - want))))
    return worst


def _to_held(array):
    """NCHW -> NHWC for a 4-D output (the TFLite layout); other ranks unchanged."""
    return array.transpose(0, 2, 3, 1) if array.ndim == 4 else array


def _quantized(sample, detail):
    """A float NCHW sample as the int8 NHWC input tensor of the .tflite."""
    scale, zero_point = detail["quantization"]
    return quantize_input(_to_held(sample), scale, zero_point)


def dequantize(values, detail):
    """int8 values -> float with the tensor detail's scale and zero point."""
    scale, zero_point = detail["quantization"]
    return (values.astype(np.float32) - zero_point) * scale


class ReferenceInterpreter:
    """The .tflite on TFLite's reference kernels (BUILTIN_REF)."""

    def __init__(self, tflite_bytes):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        self.interpreter = Interpreter(model_content=tflite_bytes,
                                       experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.outputs = self.interpreter.get_output_details()

    def run_int8(self, int8_input):
        """Raw outputs for an input already in the model's input type and layout."""
        self.interpreter.set_tensor(self.input["index"], int8_input)
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(d["index"]).copy() for d in self.outputs]

    def run(self, sample):
        """Float outputs (held layout) for a float NCHW sample; int8 ends are (de)quantised
        (a model with float input/output, e.g. another converter's, is fed as it is)."""
        if self.input["dtype"] == np.int8:
            raw = self.run_int8(_quantized(sample, self.input))
        else:
            raw = self.run_int8(_to_held(sample).astype(self.input["dtype"]))
        return [dequantize(r, d) if d["dtype"] == np.int8 else r.astype(np.float32)
                for r, d in zip(raw, self.outputs)]


def int8_agreement(tflite_bytes, reference_outputs, samples, argmax=True):
    """{cosine, max_abs_diff, mean_abs_diff} of int8 vs float over the samples, and with
    `argmax` {argmax_agreement, argmax_agreement_ties}. `cosine`: the cosine similarity of the
    dequantised int8 outputs and the float ones over all samples, of the worst output.
    `_ties` counts a sample as agreeing when float's top class has the largest int8 output
    even if another class has the same int8 value (untrained models have logits closer
    together than one int8 step). A detector passes argmax=False: its channels mix box
    coordinates, objectness and classes, so their argmax means nothing (`rnnedge check`
    compares its decoded boxes by AP)."""
    interp = ReferenceInterpreter(tflite_bytes)
    agree = tied = total = 0
    worst, abs_sum, count = 0.0, 0.0, 0
    dots = squares_got = squares_want = None
    for sample, ref in zip(samples, reference_outputs):
        outputs = interp.run(sample)
        if dots is None:
            dots, squares_got, squares_want = ([0.0] * len(outputs) for _ in range(3))
        for k, (got, want) in enumerate(zip(outputs, ref)):
            want = _to_held(want)
            if got.shape != want.shape:
                raise RnnedgeError(f"int8 output shape {got.shape} differs from the float "
                                   f"model's {want.shape}")
            diff = np.abs(got - want)
            worst = max(worst, float(diff.max()))
            abs_sum += float(diff.sum())
            count += diff.size
            dots[k] += float(np.dot(got.ravel().astype(np.float64), want.ravel()))
            squares_got[k] += float(np.square(got, dtype=np.float64).sum())
            squares_want[k] += float(np.square(want, dtype=np.float64).sum())
            match = got.argmax(-1) == want.argmax(-1)
            top = np.take_along_axis(got, want.argmax(-1)[..., None], -1)[..., 0]
            agree += int(match.sum())
            tied += int((top >= got.max(-1)).sum())
            total += match.size
    cosines = [d / np.sqrt(g * w) if g * w > 0 else float(g == w)
               for d, g, w in zip(dots, squares_got, squares_want)]
    result = {"cosine": float(min(cosines)), "max_abs_diff": worst,
              "mean_abs_diff": abs_sum / count}
    if argmax:
        result.update(argmax_agreement=agree / total, argmax_agreement_ties=tied / total)
    return result


def tflm_check(tflite_path, model, sample):
    """{tflm_runs, tflm_matches_reference, tflm_max_lsb_diff, tflm_error}: TFLM on one input
    vs BUILTIN_REF (TFLM's int8 TANH differs from TFLite's by 1 LSB on some inputs); `model`
    is the file as read by rnnedge.tflite.read_model."""
    from rnnedge.tflm_probe import run_tflm, tflm_arena_size
    interp = ReferenceInterpreter(model.raw)
    if interp.input["dtype"] == np.int8:
        int8_input = _quantized(sample, interp.input)
    else:
        int8_input = _to_held(sample).astype(interp.input["dtype"])
    try:
        outputs = run_tflm(tflite_path, [int8_input], arena_size=tflm_arena_size(model))
    except RnnedgeError as exc:
        return {"tflm_runs": False, "tflm_matches_reference": False, "tflm_max_lsb_diff": None,
                "tflm_error": str(exc)}
    expected = interp.run_int8(int8_input)
    if len(outputs) != len(expected):
        return {"tflm_runs": True, "tflm_matches_reference": False, "tflm_max_lsb_diff": None,
                "tflm_error": f"TFLM gave {len(outputs)} outputs, expected {len(expected)}"}
    lsb = max(int(np.max(np.abs(np.asarray(a).reshape(b.shape).astype(np.int64) - b)))
              for a, b in zip(outputs, expected))
    return {"tflm_runs": True, "tflm_matches_reference": lsb == 0, "tflm_max_lsb_diff": lsb,
            "tflm_error": None}
