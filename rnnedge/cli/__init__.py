"""The `rnnedge` command line.

Each sub-command lives in its own module in this package and is listed in `COMMANDS`; a
command's module is imported only when that command runs (or help lists it), so
`rnnedge arena` does not pay for importing torch. Command modules only parse arguments, call
one stage, and format its result; they hold no model logic. A stage's `RnnedgeError` becomes
a one-line `error: ...` and exit code 2; so do click's usage errors (no usage block), an
OSError the stage did not explain, and running out of memory. An interrupt is one line and
exit 130. Any other exception is a bug in rnnedge: it is reported as one `error: internal
error ...` line (exit 2) and, with RNNEDGE_TRACEBACK=1 in the environment, as its traceback.
"""

import importlib
import os
import sys

import click

from rnnedge import __version__
from rnnedge.errors import RnnedgeError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

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
    "ops": "rnnedge.cli.ops:ops",
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
        except (RnnedgeError, click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise RnnedgeError(f"{where}{exc.strerror or exc}") from None
        except MemoryError:
            raise RnnedgeError("out of memory (the input is larger than this machine can "
                               "hold)") from None
        except Exception as exc:  # a bug in rnnedge: still one line, traceback on request
            if os.environ.get("RNNEDGE_TRACEBACK") == "1":
                raise
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise RnnedgeError(f"internal error ({type(exc).__name__}: {first}); please "
                               "report it with RNNEDGE_TRACEBACK=1 output") from None

    def main(self, args=None, prog_name=None, **extra):
        """Run the command line; every failure ends in one `error:` line on stderr."""
        try:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        except RnnedgeError as exc:
            message = " ".join(str(exc).split())
            click.echo(f"error: {message}", err=True)
            sys.exit(EXIT_USAGE)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help())
            sys.exit(0)
        except click.ClickException as exc:
            click.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
            sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
        except (click.Abort, KeyboardInterrupt):
            click.echo("error: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rnnedge")
def main():
    """rnnedge: PyTorch RNN-on-image models -> int8 TFLite, arena planning, C reference kernels."""
