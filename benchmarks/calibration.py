"""Calibration choice on trained models: int8 cosine and accuracy for minmax / percentile / mse.

    python benchmarks/calibration.py [--models mlp kws_conv1d mobilenetv2 unet] [--steps 150]
                                     [--json]

Each model of tests/user_models.py named is trained briefly (single thread, Adam, fixed
seeds) on a deterministic synthetic task it can learn in seconds:

  mlp          20 normal features, 6 classes: argmax of a fixed random linear map of them
  kws_conv1d   (10, 49) "MFCC" frames, 12 keywords: a fixed (10, 9) template per keyword at a
               random time, in noise
  mobilenetv2  (3, 32, 32) images, 10 classes: a grating at one of 10 orientations, random
               phase, per-channel contrast, noise
  unet         (3, 16, 16) images, 2 classes per pixel: the sign of a smoothed channel sum

then exported with `export_module` (ONNX -> int8 TFLite) once per calibration method from the
same calibration file (500 task samples; the first 128 calibrate, the last 100 are held apart
as the check set, as `--calib` splits it). Reported per model and method: the verification's
cosine of the int8 outputs (TFLite's reference kernels) against float PyTorch on the check
set, and the int8 accuracy against the task's labels beside the float model's (the peer of
the same run). The model-mean row decides the default (export/user_model.DEFAULT_CALIBRATION).
"""

import argparse
import json
import os
import sys
import tempfile
import warnings

import numpy as np

METHODS = ("minmax", "percentile", "mse")
N_SAMPLES, CALIB, CHECK = 500, 128, 100


def _task(name, n, seed):
    """(inputs (n,) + shape, labels) of the model's synthetic task."""
    rng = np.random.default_rng(seed)
    fixed = np.random.default_rng(1234)
    if name == "mlp":
        x = rng.standard_normal((n, 20)).astype(np.float32)
        return x, (x @ fixed.standard_normal((20, 6))).argmax(1)
    if name == "kws_conv1d":
        templates = fixed.standard_normal((12, 10, 9)).astype(np.float32)
        y = rng.integers(0, 12, n)
        x = 0.7 * rng.standard_normal((n, 10, 49)).astype(np.float32)
        for i, (c, t) in enumerate(zip(y, rng.integers(0, 40, n))):
            x[i, :, t:t + 9] += templates[c]
        return x, y
    if name == "mobilenetv2":
        y = rng.integers(0, 10, n)
        yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
        angle = y * np.pi / 10
        phase = rng.uniform(0, 2 * np.pi, n)
        wave = np.sin(0.6 * (np.cos(angle)[:, None, None] * xx + np.sin(angle)[:, None, None] * yy)
                      + phase[:, None, None])
        contrast = rng.uniform(0.5, 1.5, (n, 3, 1, 1))
        x = contrast * wave[:, None] + 0.4 * rng.standard_normal((n, 3, 32, 32))
        return x.astype(np.float32), y
    if name == "unet":
        x = rng.standard_normal((n, 3, 16, 16)).astype(np.float32)
        s = x.sum(1)
        for axis in (1, 2):
            s = s + np.roll(s, 1, axis) + np.roll(s, -1, axis)
        return x, (s > 0).astype(np.int64)
    raise SystemExit(f"error: no synthetic task for model {name!r}")


def train(name, steps, seed=0):
    """The user model `name` trained on its task (returns it in eval mode)."""
    import torch
    import user_models
    torch.manual_seed(seed)
    model = user_models.MODELS[name][0]()
    x, y = _task(name, 2048, seed=10)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (32,), generator=gen)
        out = model(x[idx])
        if name == "mlp":          # the model ends in Softmax
            loss = torch.nn.functional.nll_loss(torch.log(out + 1e-9), y[idx])
        elif name == "kws_conv1d":  # log_softmax
            loss = torch.nn.functional.nll_loss(out, y[idx])
        else:
            loss = torch.nn.functional.cross_entropy(out, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def _accuracy(outputs, labels):
    """Top-1 over the class axis: axis 1 of (N, C[, H, W]) NCHW or the last of NHWC maps."""
    return float((outputs.argmax(-1) == labels).mean())


def measure(name, steps, folder):
    """{method: {cosine, int8_accuracy}, float_accuracy} for one trained model."""
    import torch
    import user_models
    from rnnedge.export import export_module
    from rnnedge.export.verify_user import _Reference
    model = train(name, steps)
    x, y = _task(name, N_SAMPLES, seed=77)
    calib = os.path.join(folder, f"{name}.calib.npy")
    np.save(calib, x)
    check_x, check_y = x[-CHECK:], y[-CHECK:]
    with torch.no_grad():
        logits = model(torch.from_numpy(check_x)).numpy()
    held = (lambda a: a.transpose(0, 2, 3, 1)) if logits.ndim == 4 else (lambda a: a)
    row = {"float_accuracy": _accuracy(held(logits), check_y)}
    for method in METHODS:
        out = os.path.join(folder, f"{name}.{method}.tflite")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = export_module(model, user_models.MODELS[name][1], out, calib=calib,
                                   calib_samples=CALIB, check_samples=CHECK,
                                   calibration_method=method, run_tflm=False)
        ref = _Reference(open(out, "rb").read())
        int8 = np.concatenate([ref.run([check_x[i:i + 1]])[0] for i in range(CHECK)])
        row[method] = {"cosine": report["verification"]["cosine"],
                       "int8_accuracy": _accuracy(int8, check_y)}
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "kws_conv1d", "mobilenetv2", "unet"])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    import torch
    from tqdm import tqdm
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        rows = {m: measure(m, args.steps, folder) for m in tqdm(args.models, desc="models")}
    mean = {m: float(np.mean([r[m]["cosine"] for r in rows.values()])) for m in METHODS}
    best = max(METHODS, key=lambda m: (round(mean[m], 5), -METHODS.index(m)))
    if args.json:
        print(json.dumps({"rows": rows, "mean_cosine": mean, "best": best}, indent=2))
        return
    print("| model | float acc. | " + " | ".join(f"{m} cosine / int8 acc." for m in METHODS) + " |")
    print("|---|---|" + "---|" * len(METHODS))
    for name, r in rows.items():
        cells = [f"{r[m]['cosine']:.5f} / {100 * r[m]['int8_accuracy']:.0f}%" for m in METHODS]
        print(f"| {name} | {100 * r['float_accuracy']:.0f}% | " + " | ".join(cells) + " |")
    print("| mean cosine | | " + " | ".join(f"{mean[m]:.5f}" for m in METHODS) + " |")
    print(f"best by mean cosine: {best}")


if __name__ == "__main__":
    main()
