"""`rnnedge train MODEL --data DIR|synthetic`: train a zoo classifier, keep the best epoch."""

import json

import click

from rnnedge.train import DEFAULT_LR, OPTIMIZERS, SCHEDULES, TrainConfig
from rnnedge.train import train as train_stage


@click.command("train")
@click.argument("model")
@click.option("--data", default="synthetic", show_default=True,
              help="'synthetic[:classes=10,seed=0,n=N]', a CIFAR python folder or an image "
                   "folder (one sub-folder per class), optionally ':n=N' (CIFAR-100: "
                   "':labels=coarse').")
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=128, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
              help=f"Peak learning rate [default: {DEFAULT_LR['adam']} for adam, "
                   f"{DEFAULT_LR['sgd']} for sgd].")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adam", show_default=True,
              help="Adam, or SGD with Nesterov momentum 0.9.")
@click.option("--schedule", type=click.Choice(SCHEDULES), default="cosine", show_default=True,
              help="Per-step learning rate: cosine with a 5% warm-up, or one-cycle.")
@click.option("--weight-decay", type=click.FloatRange(min=0), default=5e-4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds initialisation, shuffling and augmentation.")
@click.option("--out", type=click.Path(dir_okay=False), default="model.pt", show_default=True,
              help="Best checkpoint; the resumable state goes beside it as OUT.state.")
@click.option("--resume", is_flag=True, help="Continue from OUT.state up to --epochs.")
@click.option("--no-augment", is_flag=True, help="Train without crop/flip augmentation.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Torch threads [default: the CPUs this process may use].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def train(model, data, epochs, batch, lr, optimizer, schedule, weight_decay, seed, out, resume,
          no_augment, threads, as_json):
    """Train zoo MODEL (its head sized to the data's classes), validating every epoch and
    saving the best epoch as an rnnedge checkpoint. A progress bar goes to stderr."""
    config = TrainConfig(epochs=epochs, batch=batch, lr=lr, optimizer=optimizer,
                         schedule=schedule, weight_decay=weight_decay, seed=seed,
                         augment=not no_augment)
    result = train_stage(model, data, out=out, config=config, resume=resume, progress=True,
                         log=lambda line: click.echo(line, err=True), threads=threads)
    if as_json:
        click.echo(json.dumps({"model": model, "data": data, **result.as_dict()}))
    else:
        click.echo(f"{model}: best {result.score_name} {result.best_score:.2f} at epoch "
                   f"{result.best_epoch} of {epochs} ({result.num_classes} classes, "
                   f"{result.parameters:,} parameters) -> {result.checkpoint}")
