"""The `rnnedge` command line.

Each sub-command lives in its own module in this package and is registered at the bottom of
this file. Command modules only parse arguments, call one stage, and format its result; they
hold no model logic. A stage's `RnnedgeError` becomes a one-line `error: ...` and exit code 2.
"""

import sys

import click

from rnnedge import __version__
from rnnedge.errors import RnnedgeError

EXIT_USAGE = 2


class _Group(click.Group):
    """A click group that turns `RnnedgeError` into one line on stderr and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RnnedgeError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rnnedge")
def main():
    """rnnedge: PyTorch RNN-on-image models -> int8 TFLite, arena planning, C reference kernels."""


# Sub-command registration: one import per command module.
from rnnedge.cli.zoo import summary, zoo  # noqa: E402
from rnnedge.cli.pipeline import pipeline  # noqa: E402
from rnnedge.cli.arena import arena  # noqa: E402

for _command in (zoo, summary, pipeline, arena):
    main.add_command(_command)
