"""`rnnedge zoo` and `rnnedge summary MODEL`: the model zoo and its per-layer accounting."""

import json

import click

from rnnedge import zoo as zoo_stage
from rnnedge.accounting import module_params
from rnnedge.summary import format_table, summarize


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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema in README).")
def summary(model, as_json):
    """Per-layer table of a zoo MODEL: shapes, parameters, MACs (paper formulas) and the paper's
    parameter count per row with a match mark, then totals."""
    result = summarize(model)
    click.echo(json.dumps(result.to_json()) if as_json else format_table(result))
