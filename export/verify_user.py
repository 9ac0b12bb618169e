"""Verification of a user model's int8 export, for any number of inputs and outputs of any
rank: the float model (onnxruntime) and the int8 .tflite on TFLite's reference kernels
(BUILTIN_REF, the kernels TFLM is bit-exact with) on the held-apart check set, compared per
output by cosine similarity and max / mean |diff| of the dequantised values (argmax agreement
over the last axis too); TFLM runs the file on the first check sample and must give the
reference kernels' bytes.

A model holding a builtin whose BUILTIN_REF int8 kernel is wrong (REFERENCE_KERNEL_WRONG) is
run on TFLite's builtin kernels instead (no delegate); the report names the kernels used.

Inputs are quantised with rnnedge.preprocessing.quantize_input (TFLite's QUANTIZE rounding);
4-D arrays go NCHW -> NHWC as the lowering holds them.

May import: numpy, onnxruntime, ai_edge_litert, rnnedge.errors, rnnedge.preprocessing,
rnnedge.tflite, rnnedge.tflm_probe.
"""

import numpy as np

from rnnedge.errors import RnnedgeError
from rnnedge.preprocessing import quantize_input

# TFLite's reference int8 SUM (BUILTIN_REF) is off by up to 166 LSB from the float sum, while
# TFLM's SUM and TFLite's builtin SUM follow float within 1 LSB and each other within 1 LSB
# (measured: tests/test_export_user_reduce.py).
REFERENCE_KERNEL_WRONG = ("SUM",)


def _held(array):
    """NCHW -> NHWC for 4-D arrays."""
    return array.transpose(0, 2, 3, 1) if array.ndim == 4 else array


def float_outputs(model, samples):
    """onnxruntime's float outputs per sample: [[out0, out1, ...], ...]."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared cores
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return [session.run(None, dict(zip(names, s))) for s in samples]


class _Reference:
    """The .tflite on TFLite's reference kernels (builtin ones when the model holds an op of
    REFERENCE_KERNEL_WRONG), fed float samples (quantised here)."""

    def __init__(self, tflite):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        from rnnedge.tflite import read_model
        kinds = {op.opcode for op in read_model(tflite).main.operators}
        self.kernels = ("BUILTIN_WITHOUT_DEFAULT_DELEGATES" if kinds & set(REFERENCE_KERNEL_WRONG)
                        else "BUILTIN_REF")
        self.interp = Interpreter(model_content=tflite,
                                  experimental_op_resolver_type=getattr(OpResolverType,
                                                                        self.kernels))
        self.interp.allocate_tensors()
        self.inputs = self.interp.get_input_details()
        self.outputs = self.interp.get_output_details()

    def quantised(self, sample):
        """The int8 input arrays for a float sample."""
        out = []
        for a, d in zip(sample, self.inputs):
            if d["dtype"] == np.int16:   # 16x8: TFLite's QUANTIZE rounding, int16 range
                v = _held(np.asarray(a, np.float32)) / np.float32(d["quantization"][0])
                q = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
                out.append(np.clip(q, -32768, 32767).astype(np.int16))
            else:
                out.append(quantize_input(_held(np.asarray(a)), *d["quantization"]))
        return out

    def run_int8(self, arrays):
        """Raw int8 outputs."""
        for a, d in zip(arrays, self.inputs):
            self.interp.set_tensor(d["index"], a)
        self.interp.invoke()
        return [self.interp.get_tensor(d["index"]).copy() for d in self.outputs]

    def run(self, sample):
        """Dequantised outputs for a float sample."""
        raw = self.run_int8(self.quantised(sample))
        return [(r.astype(np.float32) - d["quantization"][1]) * d["quantization"][0]
                for r, d in zip(raw, self.outputs)]


def int8_vs_float(tflite, floats, samples):
    """{cosine (the worst output's), outputs: [{cosine, max_abs_diff, mean_abs_diff,
    argmax_agreement}]} of the int8 model against the float outputs over the samples."""
    ref = _Reference(tflite)
    got_all = [ref.run(s) for s in samples]
    per_output = []
    for k in range(len(ref.outputs)):
        got = np.concatenate([g[k].reshape(-1) for g in got_all])
        want = np.concatenate([_held(np.asarray(f[k])).reshape(-1) for f in floats])
        if got.size != want.size:
            raise RnnedgeError(f"int8 output {k} has {got.size} values, the float model's "
                               f"{want.size}")
        norm = float(np.linalg.norm(got) * np.linalg.norm(want))
        cosine = float(got @ want / norm) if norm > 0 else float(np.array_equal(got, want))
        shape = got_all[0][k].shape
        g = np.stack([x[k] for x in got_all]).reshape(len(samples), -1, shape[-1])
        w = np.stack([_held(np.asarray(f[k])) for f in floats]).reshape(len(samples), -1,
                                                                      shape[-1])
        per_output.append({"cosine": cosine, "max_abs_diff": float(np.abs(got - want).max()),
                           "mean_abs_diff": float(np.abs(got - want).mean()),
                           "argmax_agreement": float((g.argmax(-1) == w.argmax(-1)).mean())})
    return {"cosine": min(o["cosine"] for o in per_output), "outputs": per_output,
            "tflite_kernels": ref.kernels}


def tflm_check(path, model, sample):
    """{tflm_runs, tflm_matches_reference, tflm_max_lsb_diff, tflm_error}: TFLM on one check
    sample vs the reference kernels; `model` is the file as read by rnnedge.tflite."""
    from rnnedge.tflm_probe import run_tflm, tflm_arena_size
    ref = _Reference(model.raw)
    arrays = ref.quantised(sample)
    try:
        outputs = run_tflm(path, arrays, arena_size=tflm_arena_size(model))
    except RnnedgeError as exc:
        return {"tflm_runs": False, "tflm_matches_reference": False, "tflm_max_lsb_diff": None,
                "tflm_error": str(exc)}
    expected = ref.run_int8(arrays)
    if len(outputs) != len(expected):
        return {"tflm_runs": True, "tflm_matches_reference": False, "tflm_max_lsb_diff": None,
                "tflm_error": f"TFLM gave {len(outputs)} outputs, expected {len(expected)}"}
    lsb = max(int(np.max(np.abs(np.asarray(a).reshape(b.shape).astype(np.int64) - b)))
              for a, b in zip(outputs, expected))
    return {"tflm_runs": True, "tflm_matches_reference": lsb == 0, "tflm_max_lsb_diff": lsb,
            "tflm_error": None}
