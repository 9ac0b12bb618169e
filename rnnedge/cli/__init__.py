"""The `rnnedge` command line.

Each sub-command lives in its own module in this package and is listed in `COMMANDS`; a
command's module is imported only when that command runs (or help lists it), so
`rnnedge arena` does not pay for importing torch. Command modules only parse arguments, call
one stage, and format its result; they hold no model logic. A stage's `RnnedgeError` becomes
a one-line `error: ...` and exit code 2.
"""

import importlib
import sys

import click

from rnnedge import __version__
from rnnedge.errors import RnnedgeError

EXIT_USAGE = 2

#: command name -> "module:attribute" of its click command, in the order help lists them.
COMMANDS = {
    "pipeline": "rnnedge.cli.pipeline:pipeline",
    "zoo": "rnnedge.cli.zoo:zoo",
    "summary": "rnnedge.cli.zoo:summary",
    "train": "rnnedge.cli.train:train",
    "export": "rnnedge.cli.export:export",
    "arena": "rnnedge.cli.arena:arena",
    "report": "rnnedge.cli.report:report",
    "check": "rnnedge.cli.check:check",
    "run": "rnnedge.cli.run:run",
    "firmware": "rnnedge.cli.firmware:firmware",
}


class _Group(click.Group):
    """A click group with lazily imported commands that turns `RnnedgeError` into one line
    on stderr and exit code 2."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)

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
