"""`rnnedge zoo` and `rnnedge summary MODEL`: the model zoo and its per-layer accounting."""

import json

import click

from rnnedge import zoo as zoo_stage
from rnnedge.accounting import module_params
from rnnedge.errors import RnnedgeError
from rnnedge.summary import format_table, summarize
from rnnedge.sensor import FORMATS


@click.command("zoo")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def zoo(as_json):
    """List the zoo's models with input shape and total parameters."""
    models = []
    for name in zoo_stage.names():
        entry = zoo_stage.get(name)
        models.append({"name": name, "input_shape": list(entry.input_shape), "num_classes": entry.num_classes,
                       "params": module_params(zoo_stage.build(name)), "description": entry.description})
    if as_json:
        click.echo(json.dumps({"models": models}))
        return
    width = max(len(m["name"]) for m in models)
    click.echo(f"{'model':<{width}} {'input (CxHxW)':<14} {'params':>10}  description")
    for m in models:
        click.echo(f"{m['name']:<{width}} {'x'.join(map(str, m['input_shape'])):<14} {m['params']:>10,}  "
                   f"{m['description']}")


@click.command("summary")
@click.argument("model")
@click.option("--input-size", metavar="S|HxW", help="Detectors: count at this input size "
              "(multiples of 32); parameters stay, MACs and shapes change.")
@click.option("--det-classes", type=click.IntRange(min=1), metavar="K",
              help="Detectors: add the prediction convs (3 anchors x (5 + K)) as extra rows.")
@click.option("--input-format", type=click.Choice(FORMATS), default="rgb", show_default=True,
              help="The camera's format: gray / Bayer models read 1 channel; the first "
                   "conv's parameters are then reported apart from the paper's rows.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema in README).")
def summary(model, input_size, det_classes, input_format, as_json):
    """Per-layer table of a zoo MODEL: shapes, parameters, MACs (paper formulas) and the paper's
    parameter count per row with a match mark, then totals."""
    kwargs = {}
    if input_size is not None or det_classes is not None:
        from rnnedge.detect.train import parse_input_size
        if zoo_stage.get(model).num_classes is not None:
            raise RnnedgeError("--input-size and --det-classes apply to the detection models")
        if input_size is not None:
            kwargs["input_hw"] = parse_input_size(input_size, None)
        if det_classes is not None:
            kwargs["predict_channels"] = 3 * (5 + det_classes)
    result = summarize(model, input_format=input_format, **kwargs)
    click.echo(json.dumps(result.to_json()) if as_json else format_table(result))
