"""`rnnedge train MODEL --data DIR|synthetic`: train a zoo classifier, keep the best epoch."""

import json

import click

from rnnedge.distributed import DEVICE_CHOICES, World
from rnnedge.errors import RnnedgeError
from rnnedge.sensor import FORMATS
from rnnedge.sensor_conv import BAYER_CONVS
from rnnedge.train import AMP_DTYPES, Runtime
from rnnedge.train_recipe import DEFAULT_LR, MAX_SEED, OPTIMIZERS, SCHEDULES, TrainConfig
from rnnedge.train import train as train_stage


@click.command("train")
@click.argument("model")
@click.option("--data", default="synthetic", show_default=True,
              help="'synthetic[:classes=10,seed=0,n=N]', a CIFAR python folder or an image "
                   "folder (one sub-folder per class), optionally ':n=N' (CIFAR-100: "
                   "':labels=coarse').")
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=None,
              help="Batch size [default: 128; 8 for a detector].")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
              help=f"Peak learning rate [default: {DEFAULT_LR['adam']} for adam, "
                   f"{DEFAULT_LR['sgd']} for sgd].")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adam", show_default=True,
              help="Adam, or SGD with Nesterov momentum 0.9.")
@click.option("--schedule", type=click.Choice(SCHEDULES), default="cosine", show_default=True,
              help="Per-step learning rate: cosine with a 5% warm-up, or one-cycle.")
@click.option("--weight-decay", type=click.FloatRange(min=0), default=5e-4, show_default=True)
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seeds initialisation, shuffling and augmentation.")
@click.option("--out", type=click.Path(dir_okay=False), default="model.pt", show_default=True,
              help="Best checkpoint; the resumable state goes beside it as OUT.state.")
@click.option("--resume", is_flag=True, help="Continue from OUT.state up to --epochs.")
@click.option("--no-augment", is_flag=True, help="Train without crop/flip augmentation.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Torch threads [default: the CPUs this process may use, divided among "
                   "the processes torchrun starts here].")
@click.option("--device", default="auto", show_default=True,
              help=f"{DEVICE_CHOICES}; under torchrun each process takes cuda:LOCAL_RANK.")
@click.option("--amp", type=click.Choice(list(AMP_DTYPES)), is_flag=False, flag_value="bf16",
              default=None, help="Mixed precision: bf16 (the default of a bare --amp) or fp16 "
                                 "autocast (fp16 with a grad scaler).")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Data-loader worker processes (0: load in the training process).")
@click.option("--sync-bn/--no-sync-bn", default=True, show_default=True,
              help="Under torchrun, synchronise BatchNorm statistics across processes.")
@click.option("--input-size", metavar="S|HxW",
              help="Detectors: input size, multiples of 32 [default: the zoo model's].")
@click.option("--classes", metavar="A,B", help="Detectors: keep only these categories.")
@click.option("--anchors", metavar="auto|default|W,H,...", default="auto", show_default=True,
              help="Detectors: k-means on the training boxes, YOLOv5's scaled per stride, or "
                   "30 numbers (3 anchors per head, input pixels).")
@click.option("--input-format", type=click.Choice(FORMATS), default="rgb", show_default=True,
              help="The camera's format: the model reads gray or a Bayer mosaic (1 channel, "
                   "demosaic folded into its first conv); RGB data is converted on the fly.")
@click.option("--sensor-noise", type=click.FloatRange(0, 64), default=0.0, show_default=True,
              help="Poisson-Gaussian sensor noise added to converted data (read noise, DN).")
@click.option("--bayer-conv", type=click.Choice(BAYER_CONVS), default="demosaic",
              show_default=True,
              help="A stride-1 Bayer conv 1 (phase-split, exact): the fixed demosaic composed "
                   "with the learned RGB conv, or four free phase kernels.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def train(model, data, epochs, batch, lr, optimizer, schedule, weight_decay, seed, out, resume,
          no_augment, threads, device, amp, workers, sync_bn, input_size, classes, anchors,
          input_format, sensor_noise, bayer_conv, as_json):
    """Train zoo MODEL (its head sized to the data's classes), validating every epoch and
    saving the best epoch as an rnnedge checkpoint. A progress bar (on a terminal) and one
    line per epoch go to stderr. Runs unchanged under `torchrun --nproc-per-node N -m
    rnnedge train ...` (DDP; --batch is the global batch; rank 0 alone writes and prints)."""
    from rnnedge import zoo
    if zoo.get(model).num_classes is None:
        return _train_detector(model, data, epochs, batch or 8, lr, optimizer, schedule,
                               weight_decay, seed, out, resume, no_augment, threads,
                               input_size, classes, anchors, as_json,
                               dict(input_format=input_format, sensor_noise=sensor_noise))
    if input_size or classes:
        raise RnnedgeError("--input-size and --classes apply to the detection models")
    batch = batch or 128
    config = TrainConfig(epochs=epochs, batch=batch, lr=lr, optimizer=optimizer,
                         schedule=schedule, weight_decay=weight_decay, seed=seed,
                         augment=not no_augment)
    runtime = Runtime(device=device, amp=amp, workers=workers, sync_batchnorm=sync_bn)
    result = train_stage(model, data, out=out, config=config, runtime=runtime, resume=resume,
                         progress=True, log=lambda line: click.echo(line, err=True),
                         threads=threads, input_format=input_format, sensor_noise=sensor_noise,
                         bayer_conv=bayer_conv)
    if not World.from_environment().is_main:
        return
    if as_json:
        click.echo(json.dumps({"model": model, "data": data, **result.as_dict()}))
    else:
        click.echo(f"{model}: best {result.score_name} {result.best_score:.2f} at epoch "
                   f"{result.best_epoch} of {epochs} ({result.num_classes} classes, "
                   f"{result.parameters:,} parameters) -> {result.checkpoint}")

def _train_detector(model, data, epochs, batch, lr, optimizer, schedule, weight_decay, seed, out,
                    resume, no_augment, threads, input_size, classes, anchors, as_json, sensor):
    """`rnnedge train det-...` (rnnedge.detect.train); "synthetic" means synthetic-detect."""
    from rnnedge.detect.train import train_detector

    config = TrainConfig(epochs=epochs, batch=batch, lr=lr, optimizer=optimizer,
                         schedule=schedule, weight_decay=weight_decay, seed=seed,
                         augment=not no_augment)
    names = [c.strip() for c in classes.split(",") if c.strip()] if classes else None
    result = train_detector(model, data, out=out, config=config, input_size=input_size,
                            classes=names, anchors=anchors, resume=resume, progress=True,
                            log=lambda line: click.echo(line, err=True), threads=threads,
                            **sensor)
    if as_json:
        click.echo(json.dumps({"model": model, "data": data, **result.as_dict()}))
    else:
        size = "x".join(map(str, result.input_shape[1:]))
        click.echo(f"{model} at {size}: best val AP50 {result.best_val_ap50:.2f} at epoch "
                   f"{result.best_epoch} of {epochs} ({len(result.class_names)} classes, "
                   f"{result.parameters:,} parameters, {result.anchor_source} anchors) -> "
                   f"{result.checkpoint}")
