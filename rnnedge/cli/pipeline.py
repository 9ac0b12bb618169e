"""`rnnedge pipeline`: the main job end to end on the embedded default.

Today it reproduces the paper's parameter tables: every zoo model is built, counted row by row
and compared with Tables 1, 2, 5 and 6, and the command exits 1 if any row disagrees.
"""

import json

import click

from rnnedge import zoo
from rnnedge.summary import format_table, summarize


@click.command("pipeline")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--verbose", "-v", is_flag=True, help="Also print every model's per-layer table.")
def pipeline(as_json, verbose):
    """Run the main job on the embedded default (the zoo report against the paper's tables)."""
    results = []
    for name in zoo.names():
        summary = summarize(name)
        checked = [r for r in summary.rows if r.paper_params is not None]
        stated, where = zoo.get(name).stated_total
        results.append({"model": name, "params": summary.total_params, "macs": summary.total_macs,
                        "rows_checked": len(checked), "rows_matching": sum(r.match for r in checked),
                        "paper_rows_total": zoo.get(name).paper_rows_total, "paper_stated_total": stated,
                        "paper_table": where})
        if verbose and not as_json:
            click.echo(format_table(summary) + "\n")
    ok = all(r["rows_matching"] == r["rows_checked"] for r in results)
    if as_json:
        click.echo(json.dumps({"models": results, "ok": ok}))
    else:
        click.echo(f"{'model':<22} {'params':>9} {'paper rows':>10} {'stated':>7} {'rows ok':>8} {'MACs':>15}")
        for r in results:
            click.echo(f"{r['model']:<22} {r['params']:>9,} {r['paper_rows_total']:>10,} "
                       f"{r['paper_stated_total']:>7} {r['rows_matching']:>3}/{r['rows_checked']:<4} {r['macs']:>15,}")
        click.echo("all table rows reproduced" if ok else "MISMATCH against the paper's tables")
    raise SystemExit(0 if ok else 1)
