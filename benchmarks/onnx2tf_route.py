"""The standard route of benchmarks/export.py's side-by-side part: onnx2tf 1.29.24 (in its own
venv, ~/.cache/rnnedge-bench/onnx2tf-venv, created on first use: onnx2tf pins tensorflow 2.19
and numpy 1.26) converting the torch.onnx export of a model's reference form to a
full-integer .tflite, and that .tflite measured in the main environment (graph_stats, int8
agreement with TFLite's reference kernels, TFLM, Vela), with /work/shared/baseline.md's
figures (BASELINE) for when onnx2tf cannot run here.

Why its own module: it is the peer of the comparison, independent of rnnedge's exporter, and
the part of the benchmark that needs another Python environment. Imports numpy and, inside
functions, rnnedge (the export's calibration images, graph_stats, verify, vela_check,
tflite); benchmarks/export.py imports it.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

VENV = os.path.expanduser("~/.cache/rnnedge-bench/onnx2tf-venv")
VENV_PINS = ["onnx2tf==1.29.24", "tensorflow-cpu==2.19.0", "tf-keras==2.19.0", "onnx==1.19.1",
             "onnxruntime==1.23.0", "numpy==1.26.4", "onnx_graphsurgeon", "sng4onnx", "psutil",
             "ai-edge-litert", "flatbuffers", "h5py"]
BASELINE = {  # /work/shared/baseline.md, for when onnx2tf cannot run here
    "A": {"onnx_nodes": 202, "ops": 189, "convert_s": 27.6, "peak_rss_mb": 900,
          "tflm_runs": "yes", "vela_cpu_ops": 16, "duplication_factor": "1.0 (buffers shared)",
          "agreement": "max |diff| 0.011"},
    "B": {"onnx_nodes": 1405, "ops": 1404, "convert_s": 152.7, "peak_rss_mb": 2200,
          "tflm_runs": "no (CONCATENATION of 80 inputs)", "vela_cpu_ops": 140,
          "duplication_factor": "1.0 (buffers shared)", "agreement": "99.4% per-pixel argmax"},
}


def case_key(case):
    """baseline.md column of a case: "A" (CIFAR CRNN) or "B" (head)."""
    return "B" if case == "head" else "A"


def run_child(argv, cwd=None, env=None):
    """Run a child process; returns (exit code, stdout, stderr, wall s)."""
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, cwd=cwd, env=env, text=True)
    return proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start


def ensure_venv():
    """The onnx2tf venv's python, creating the venv on first use; None when impossible."""
    python = os.path.join(VENV, "bin", "python")
    onnx2tf = os.path.join(VENV, "bin", "onnx2tf")
    if os.path.exists(onnx2tf):
        return python
    try:
        os.makedirs(os.path.dirname(VENV), exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True, capture_output=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *VENV_PINS], check=True,
                       capture_output=True, timeout=1800)
    except (OSError, subprocess.SubprocessError):
        return None
    return python if os.path.exists(onnx2tf) else None


# onnx2tf's command-line entry point, followed by the process's own peak RSS.
_ONNX2TF_MAIN = """
import resource, sys
from onnx2tf.onnx2tf import main
sys.argv = ["onnx2tf"] + sys.argv[1:]
try:
    main()
except SystemExit:
    pass
print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_onnx2tf(python, case, out_dir, channels):
    """onnx2tf on a copy of the ONNX (it overwrites its input) in a scratch folder; returns
    (tflite path or None, wall s, peak RSS MB, last error line). `channels`: the model's
    input channels (the calibration mean/std are per channel)."""
    work = os.path.join(out_dir, f"{case}_onnx2tf")
    os.makedirs(work, exist_ok=True)
    onnx_copy = os.path.join(work, "model.onnx")
    shutil.copy(os.path.join(out_dir, f"{case}_standard.onnx"), onnx_copy)
    calib = os.path.join(out_dir, f"{case}_calib_nhwc.npy")
    mean = json.dumps([[[[0.0] * channels]]])
    std = json.dumps([[[[1.0] * channels]]])
    # onnx2tf downloads a sample calibration file for 3-channel inputs unless this file is in
    # its working directory; give it our own synthetic images instead.
    from rnnedge.export.calibration import synthetic_images
    np.save(os.path.join(work, "calibration_image_sample_data_20x128x128x3_float32.npy"),
            synthetic_images(20, (3, 128, 128), seed=11).transpose(0, 2, 3, 1))
    env = dict(os.environ, PATH=os.path.dirname(python) + os.pathsep + os.environ.get("PATH", ""))
    argv = [python, "-c", _ONNX2TF_MAIN, "-i", onnx_copy, "-o", os.path.join(work, "out"),
            "-oiqt", "-cind", "input", calib, mean, std]
    rc, out, err, wall = run_child(argv, cwd=work, env=env)
    peak = None
    for line in out.splitlines():
        if line.startswith("PEAK_RSS_KB"):
            peak = int(line.split()[1]) / 1024.0
    found = [os.path.join(work, "out", f) for f in sorted(os.listdir(os.path.join(work, "out")))
             if f.endswith("_full_integer_quant.tflite")] if os.path.isdir(os.path.join(work, "out")) else []
    last = (err.strip().splitlines() or out.strip().splitlines() or ["(no output)"])[-1]
    return (found[0] if found else None), wall, peak, last


def _agreement_any_layout(data, reference, samples):
    """verify.int8_agreement for a model whose map outputs may have been left NCHW (onnx2tf
    keeps some outputs NCHW): such outputs are compared after moving channels last."""
    from rnnedge.export import verify
    interp = verify.ReferenceInterpreter(data)
    agree = tied = total = 0
    worst = abs_sum = count = 0.0
    for sample, ref in zip(samples, reference):
        for got, want in zip(interp.run(sample), ref):
            if got.ndim == 4 and got.shape == want.shape:      # NCHW output
                got = got.transpose(0, 2, 3, 1)
            if want.ndim == 4:
                want = want.transpose(0, 2, 3, 1)
            diff = np.abs(got - want)
            worst = max(worst, float(diff.max()))
            abs_sum, count = abs_sum + float(diff.sum()), count + diff.size
            top = np.take_along_axis(got, want.argmax(-1)[..., None], -1)[..., 0]
            agree += int((got.argmax(-1) == want.argmax(-1)).sum())
            tied += int((top >= got.max(-1)).sum())
            total += top.size
    return {"argmax_agreement": agree / total, "argmax_agreement_ties": tied / total,
            "max_abs_diff": worst, "mean_abs_diff": abs_sum / count}


def measure_standard(case, out_dir, tflite_path):
    """Stats, agreement, TFLM and Vela for the standard route's .tflite (main environment)."""
    from rnnedge.errors import RnnedgeError
    from rnnedge.export import graph_stats, verify
    from rnnedge.export.vela_check import vela_summary
    from rnnedge.tflite import read_model
    data = open(tflite_path, "rb").read()
    with np.load(os.path.join(out_dir, f"{case}_check.npz")) as npz:
        inputs = npz["inputs"]
        refs = [npz[k] for k in sorted(k for k in npz.files if k.startswith("ref_"))]
    samples = [inputs[i:i + 1] for i in range(len(inputs))]
    reference = [[r[i:i + 1] for r in refs] for i in range(len(inputs))]
    result = {"stats": graph_stats.graph_stats(read_model(data))}
    try:
        result["agreement"] = _agreement_any_layout(data, reference, samples)
    except (RnnedgeError, RuntimeError, ValueError) as exc:
        result["agreement"] = {"error": str(exc).splitlines()[0]}
    float_path = tflite_path.replace("_full_integer_quant.tflite", "_float32.tflite")
    if os.path.exists(float_path):   # tells conversion errors apart from quantisation errors
        result["float_agreement"] = _agreement_any_layout(open(float_path, "rb").read(),
                                                          reference, samples)
    result["tflm"] = verify.tflm_check(tflite_path, data, samples[0])
    try:
        result["vela"] = vela_summary(tflite_path)
    except RnnedgeError as exc:
        result["vela"] = {"error": str(exc)}
    return result
