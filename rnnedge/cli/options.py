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
