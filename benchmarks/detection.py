"""CNN vs CRNN detectors (Tables 1, 3, 4) at the same training budget, at two input sizes.

    python benchmarks/detection.py [--data synthetic-detect|COCO_DIR|YOLO_DIR] [--epochs N]
                                   [--sizes 256,128] [--models det-cnn-256,det-crnn-256]
                                   [--workdir DIR] [--backend c|tflite|tflm] [--threads N]
                                   [--check-samples N] [--json]
    python benchmarks/detection.py --step-time [--sizes 128] [--threads N] [--json]
    python benchmarks/detection.py --write-coco DIR [--train-images 2000] [--val-images 300]
                                   [--image-size 144x176] [--noise 14] [--clutter 6]

`--write-coco` writes synthetic-detect scenes as a COCO-layout folder (JPEG images,
`annotations/instances_{train,val}.json`, one category `person`): the "harder COCO-layout
set" docs/detection.md trains on, reproducible, and a way to try the COCO loader, letterbox
and JPEG decoding on data of a known truth.

`--step-time` only times training: seconds per 1,000 training images (batch 8, box
augmentation, loss, backward and Adam step; 2 warm-up steps, then 10 timed) for each model and
size, as wall time and as this process's CPU time (which a loaded machine inflates less), so
a dataset size can be matched to a time budget.

For every input size and model, the detector is trained with the same settings on the same
data, exported to int8, checked on the host and planned exactly as `rnnedge pipeline --task
detect` does (`rnnedge.detect.pipeline.measure_detector`). Printed as a markdown table:
parameters, graph MACs, tensor arena (inplace, and TFLM's greedy plan: the peer, planned
the way TFLM plans it), total memory, float and int8 F1 / AP50 (pycocotools), training time
per epoch, and the CRNN/CNN ratios per input size. The synthetic set's AP is not COCO's:
compare CNN with CRNN, and int8 with float. Each finished row is printed to stderr and
written to `WORKDIR/rows.json` at once, so a long run's rows survive an interruption.
"""

import argparse
import json
import os
import sys

from rnnedge.detect.pipeline import DetectPipelineSettings, measure_detector
from rnnedge.files import atomic_write


def _row(m):
    return (f"| {m['model']} | {'x'.join(map(str, m['input_shape'][1:]))} | {m['params']:,} | "
            f"{m['macs']:,} | {m['arena']['inplace']:,} | {m['arena']['tflm']:,} | "
            f"{m['total_memory']:,} | {m['float']['f1']:.1f} | {m['int8']['f1']:.1f} | "
            f"{m['float']['ap50']:.1f} | {m['int8']['ap50']:.1f} | {m['train_s_per_epoch']:.1f} |")


def step_time(name, size, threads, steps=10, batch=8):
    """{"wall_s", "cpu_s"} per 1,000 training images of detector `name` at input `size`."""
    import time

    import torch

    from rnnedge.data.detection_spec import open_detection_dataset
    from rnnedge.data.torch_adapter import Normalization
    from rnnedge.detect.anchors import fit_anchors, head_strides
    from rnnedge.detect.augment import collate
    from rnnedge.detect.task import DetectionTask
    from rnnedge.detect.train import build_detector, parse_input_size
    from rnnedge.train import TrainConfig, make_optimizer

    if threads:
        torch.set_num_threads(threads)
    hw = parse_input_size(size, (256, 256))
    data = open_detection_dataset(f"synthetic-detect:n={batch * (steps + 2)}", "train", (3, *hw))
    torch.manual_seed(0)
    model, _ = build_detector(name, 1)
    strides = head_strides(model, 3)
    task = DetectionTask(fit_anchors(data, strides)[0], strides, data.class_names, hw)
    train = task.torch_dataset(data, Normalization.of_images(data.images), data.augmentation)
    optimizer = make_optimizer(model, TrainConfig(batch=batch))
    model.train()
    wall = cpu = 0.0
    for step in range(steps + 2):
        start, start_cpu = time.perf_counter(), time.process_time()
        images, targets = collate([train[i] for i in range(step * batch, (step + 1) * batch)])
        loss = task.loss(model(images), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= 2:
            wall += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
    per = 1000 / (steps * batch)
    return {"model": name, "input": size, "threads": torch.get_num_threads(),
            "wall_s": wall * per, "cpu_s": cpu * per}


def write_coco(folder, train_images, val_images, image_size, noise, clutter, seed=0):
    """synthetic-detect (one class, `seed`) at `image_size` (H, W) written as a COCO folder."""
    from PIL import Image

    from rnnedge.data.synthetic_detect import SyntheticDetectConfig, generate
    from rnnedge.files import atomic_directory

    with atomic_directory(folder) as tmp:
        os.makedirs(os.path.join(tmp, "annotations"))
        for split, n in (("train", train_images), ("val", val_images)):
            data = generate(SyntheticDetectConfig(classes=1, seed=seed, n=n, noise=noise,
                                                  clutter=clutter), split, image_size)
            os.makedirs(os.path.join(tmp, "images", split))
            images, annotations = [], []
            for i, (image, boxes) in enumerate(zip(data.images, data.boxes)):
                name = f"{i:06d}.jpg"
                Image.fromarray(image).save(os.path.join(tmp, "images", split, name), quality=92)
                images.append({"id": i + 1, "file_name": name, "height": image_size[0],
                               "width": image_size[1]})
                for x1, y1, x2, y2 in boxes.tolist():
                    annotations.append({"id": len(annotations) + 1, "image_id": i + 1,
                                        "category_id": 1, "bbox": [x1, y1, x2 - x1, y2 - y1],
                                        "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
            atomic_write(os.path.join(tmp, "annotations", f"instances_{split}.json"), json.dumps(
                {"images": images, "annotations": annotations,
                 "categories": [{"id": 1, "name": "person"}]}))
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="synthetic-detect:n=400")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--sizes", default="256,128")
    parser.add_argument("--models", default="det-cnn-256,det-crnn-256")
    parser.add_argument("--workdir", default="benchmarks/results/detection")
    parser.add_argument("--backend", default="c", choices=["c", "tflite", "tflm"])
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for training (default: the usable CPUs)")
    parser.add_argument("--check-samples", type=int, default=None,
                        help="check on the first N evaluation images (default: all)")
    parser.add_argument("--step-time", action="store_true",
                        help="only time training steps (s per 1,000 images)")
    parser.add_argument("--write-coco", metavar="DIR",
                        help="write synthetic-detect as a COCO-layout folder and stop")
    parser.add_argument("--train-images", type=int, default=2000)
    parser.add_argument("--val-images", type=int, default=300)
    parser.add_argument("--image-size", default="144x176", help="HxW of the written images")
    parser.add_argument("--noise", type=float, default=14.0)
    parser.add_argument("--clutter", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.write_coco:
        size = tuple(int(v) for v in args.image_size.split("x"))
        print(write_coco(args.write_coco, args.train_images, args.val_images, size, args.noise,
                         args.clutter))
        return
    if args.step_time:
        rows = [step_time(name, size, args.threads) for size in args.sizes.split(",")
                for name in args.models.split(",")]
        if args.json:
            print(json.dumps({"rows": rows}))
            return
        print("| model | input | threads | s / 1,000 train images (wall) | (CPU) |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['model']} | {r['input']} | {r['threads']} | {r['wall_s']:.1f} | "
                  f"{r['cpu_s']:.1f} |")
        return
    rows = []
    for size in args.sizes.split(","):
        for name in args.models.split(","):
            settings = DetectPipelineSettings(
                workdir=os.path.join(args.workdir, size), models=(name,), data=args.data,
                input_size=size, epochs=args.epochs, backend=args.backend,
                threads=args.threads, check_samples=args.check_samples, full_size_arena=False, progress=sys.stderr.isatty(),
                log=lambda message: print(message, file=sys.stderr))
            os.makedirs(settings.workdir, exist_ok=True)
            rows.append(measure_detector(name, settings))
            print(_row(rows[-1]), file=sys.stderr, flush=True)
            atomic_write(os.path.join(args.workdir, "rows.json"), json.dumps({"rows": rows}))
    if args.json:
        print(json.dumps({"rows": rows}))
        return
    print("| model | input | params | MACs | arena inplace | arena tflm | total mem | F1 float "
          "| F1 int8 | AP50 float | AP50 int8 | train s/epoch |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(_row(row))
    print()
    for size in args.sizes.split(","):
        pair = [r for r in rows if str(r["input_shape"][1]) == size.split("x")[0]]
        if len(pair) == 2 and pair[0]["float"]["ap50"]:
            cnn, crnn = pair
            print(f"input {size}: CRNN/CNN params {crnn['params'] / cnn['params']:.3f}, MACs "
                  f"{crnn['macs'] / cnn['macs']:.3f}, inplace arena "
                  f"{crnn['arena']['inplace'] / cnn['arena']['inplace']:.3f}, AP50 float "
                  f"{crnn['float']['ap50'] - cnn['float']['ap50']:+.1f} pp, time/epoch "
                  f"{crnn['train_s_per_epoch'] / cnn['train_s_per_epoch']:.2f}x")


if __name__ == "__main__":
    main()
