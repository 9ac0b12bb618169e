"""`--int16x8` exactness, op by op: on 16x8 exports of user models, tflite-micro and TFLite's
reference kernels (both with every tensor preserved) give the same bytes for every op but
FULLY_CONNECTED and MUL, and there the gap is the two kernels' own arithmetic on the same
scales, not the exporter's choice. Recomputed here in numpy from the op's inputs and the
scales in the file:
- FULLY_CONNECTED: TFLite's output is its int32 MultiplyByQuantizedMultiplier (gemmlowp's q31
  high multiply and rounding shift, on the int64 accumulator narrowed to int32); TFLM's is
  the int64 overload (multiplier reduced to q15, one rounding shift);
- MUL: TFLite's Prepare forms the multiplier scale1 * scale2 / scale_out in float32, TFLM's in
  double; the rescale is the same.
rnnedge's C kernels (best and inplace plans) give TFLM's bytes exactly."""

import math
import warnings

import numpy as np
import pytest

import user_models
from rnnedge.export import export_module


def _quantize_multiplier(real):
    """TFLite's QuantizeMultiplier: (q31 multiplier, shift) with real = m * 2^(shift - 31)."""
    mantissa, shift = math.frexp(real)
    q = round(mantissa * (1 << 31))
    if q == 1 << 31:
        q, shift = q // 2, shift + 1
    return q, shift


def _rescale_int64(acc, m, s):
    """TFLM's MultiplyByQuantizedMultiplier(int64_t x, ...)."""
    reduced = (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF
    total = 15 - s
    return (acc * reduced + (1 << (total - 1))) >> total


def _rescale_int32(acc, m, s):
    """TFLite's MultiplyByQuantizedMultiplier(int32_t x, ...) on int32(acc)."""
    x = int(np.int32(np.int64(acc)))
    x = x << max(s, 0)
    ab = x * m
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    high = int((ab + nudge) / (1 << 31)) if ab + nudge < 0 else (ab + nudge) >> 31
    right = max(-s, 0)
    mask = (1 << right) - 1
    remainder, threshold = high & mask, (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if remainder > threshold else 0)


def _fully_connected(sg, op, x, rescale):
    w_t, b_t, o_t = sg.tensors[op.inputs[1]], sg.tensors[op.inputs[2]], sg.tensors[op.outputs[0]]
    w = np.asarray(w_t.data).astype(np.int64).reshape(w_t.shape)
    acc = w @ x.reshape(-1, w.shape[1]).astype(np.int64).T + np.asarray(b_t.data, np.int64)[:, None]
    in_scale = float(sg.tensors[op.inputs[0]].quantization.scales[0])
    scales = np.broadcast_to(np.asarray(w_t.quantization.scales, np.float64), (w.shape[0],))
    out = np.empty_like(acc)
    for c in range(w.shape[0]):
        m, s = _quantize_multiplier(in_scale * scales[c] / float(o_t.quantization.scales[0]))
        out[c] = [rescale(int(a), m, s) for a in acc[c]]
    return np.clip(out.T, -32768, 32767).reshape(-1)


def _mul(sg, op, a, b, multiplier):
    """int16 MUL (zero points 0): int32 rescale of a * b with the given real multiplier."""
    s1, s2, so = (np.float32(sg.tensors[t].quantization.scales[0])
                  for t in (op.inputs[0], op.inputs[1], op.outputs[0]))
    m, s = _quantize_multiplier(multiplier(s1, s2, so))
    prod = a.astype(np.int64) * b.astype(np.int64)
    out = np.array([_rescale_int32(int(v), m, s) for v in prod.reshape(-1)])
    return np.clip(out, -32768, 32767)


# op: (TFLite's reference arithmetic, TFLM's), recomputed from the op's inputs
KERNEL_GAPS = {
    "FULLY_CONNECTED": (lambda sg, op, x: _fully_connected(sg, op, x[0], _rescale_int32),
                        lambda sg, op, x: _fully_connected(sg, op, x[0], _rescale_int64)),
    # TFLite's Prepare forms scale1 * scale2 / scale_out in float32, TFLM's in double
    "MUL": (lambda sg, op, x: _mul(sg, op, *x, lambda a, b, o: float(np.float32(a * b) / o)),
            lambda sg, op, x: _mul(sg, op, *x, lambda a, b, o: float(a) * float(b) / float(o))),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenetv2", "two_in_two_out", "tiny_yolo"])
def test_16x8_gap_is_only_the_fully_connected_rescale_and_c_equals_tflm(name, tmp_path):
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed")
    litert = pytest.importorskip("ai_edge_litert.interpreter",
                                 reason="ai-edge-litert is not installed")
    from tflite_micro.python.tflite_micro import runtime
    from rnnedge.export.verify_user import _Reference
    from rnnedge.firmware_sim.backends import make_backend
    from rnnedge.tflite import read_model
    path = tmp_path / "m.tflite"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_module(user_models.build(name), user_models.MODELS[name][1], str(path),
                      int16x8=True, check_samples=2, run_tflm=False)
    raw = path.read_bytes()
    sg = read_model(raw).main
    backends = {p: make_backend("c", str(path), planner=p, debug=True) for p in ("best", "inplace")}
    checked, differing = {}, {}
    for seed in range(6):
        arrays = _Reference(raw).quantised([x[:1] for x in user_models.inputs(name, 1, seed)])
        ref = litert.Interpreter(model_content=raw, experimental_preserve_all_tensors=True,
                                 experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
        ref.allocate_tensors()
        micro = runtime.Interpreter.from_bytes(
            raw, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
        for k, (a, d) in enumerate(zip(arrays, ref.get_input_details())):
            ref.set_tensor(d["index"], a)
            micro.set_input(a, k)
        ref.invoke()
        micro.invoke()
        tainted = set()
        for op in sg.operators:
            if any(i in tainted for i in op.inputs):
                tainted.update(op.outputs)
                continue
            for t in op.outputs:
                want = ref.get_tensor(t).reshape(-1)
                got = np.asarray(micro.GetTensor(t, 0)["tensor_data"]).reshape(-1)
                if op.opcode in KERNEL_GAPS:
                    x = [ref.get_tensor(i) for i in op.inputs if i >= 0]
                    tflite_form, tflm_form = KERNEL_GAPS[op.opcode]
                    assert np.array_equal(tflite_form(sg, op, x).reshape(-1), want), op.opcode
                    assert np.array_equal(tflm_form(sg, op, x).reshape(-1), got), op.opcode
                    checked[op.opcode] = checked.get(op.opcode, 0) + 1
                    if not np.array_equal(got, want):
                        differing[op.opcode] = differing.get(op.opcode, 0) + 1
                        tainted.add(t)
                else:
                    assert np.array_equal(got, want), (op.opcode, t)
        outs = [np.asarray(micro.GetTensor(t, 0)["tensor_data"]) for t in sg.outputs]
        for planner, run in backends.items():
            for c, m in zip(run(*arrays), outs, strict=True):
                assert np.asarray(c).tobytes() == m.tobytes(), planner
    assert checked.get("FULLY_CONNECTED", 0) + checked.get("MUL", 0) >= 6
    print(f"{name}: outputs differing tf.lite vs TFLM {differing} of those checked {checked}")
