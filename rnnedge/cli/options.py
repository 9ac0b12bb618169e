"""Click options shared by several commands (defined once so their help and parsing agree).

May import: click, rnnedge.budget, rnnedge.errors.
"""

import click

from rnnedge.budget import default_max_arena, parse_bytes
from rnnedge.errors import RnnedgeError


def _max_arena(ctx, param, value):
    """click callback: "64M" -> bytes (default: rnnedge.budget.default_max_arena())."""
    if value is None:
        return default_max_arena()
    try:
        return parse_bytes(value)
    except RnnedgeError as exc:
        raise click.BadParameter(str(exc)) from None


max_arena_option = click.option(
    "--max-arena", callback=_max_arena, metavar="BYTES",
    help="Refuse models whose arena exceeds this many bytes (e.g. 64M; default: a quarter of "
         "this machine's memory, at most 512M).")


def recompute_fraction(text) -> float:
    """`--max-recompute` ("10%" or "10": percent of the model's MACs) as a fraction."""
    value = str(text).strip().removesuffix("%")
    try:
        percent = float(value)
    except ValueError:
        raise RnnedgeError(f"--max-recompute {text!r}: give a percentage such as 10%") from None
    if not 0 <= percent <= 100:
        raise RnnedgeError(f"--max-recompute {text!r}: must be between 0% and 100%")
    return percent / 100


def _max_recompute(ctx, param, value):
    """click callback: "10%" -> 0.1."""
    try:
        return recompute_fraction(value)
    except RnnedgeError as exc:
        raise click.BadParameter(str(exc)) from None


max_recompute_option = click.option(
    "--max-recompute", callback=_max_recompute, default="0%", show_default=True,
    metavar="PERCENT",
    help="--planner fused: the MACs its column tiles may compute again (their horizontal "
         "halos), in percent of the model's MACs, e.g. 10%; 0%: every value computed once.")
