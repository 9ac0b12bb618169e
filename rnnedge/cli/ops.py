"""`rnnedge ops`: the exporter's supported-op table (rnnedge.export.support_table).

    rnnedge ops [--markdown | --json]

--markdown prints exactly the table docs/export.md holds (regenerate the doc with it).
"""

import json

import click


@click.command("ops")
@click.option("--markdown", is_flag=True, help="The Markdown table of docs/export.md.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of rows.")
def ops(markdown, as_json):
    """List the ONNX ops the int8 exporter lowers, their TFLite builtins, C kernels and Vela
    placement."""
    from rnnedge.export import support_table
    if as_json:
        click.echo(json.dumps(support_table.rows()))
    elif markdown:
        click.echo(support_table.markdown(), nl=False)
    else:
        for r in support_table.rows():
            click.echo(f"{r['onnx']:22s} -> {', '.join(r['builtins']) or '(removed/folded)'}")
