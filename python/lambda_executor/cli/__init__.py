"""Fan work out to AWS Lambda functions: demo shows the product offline, local serves LocalLambda,
deploy, update, list, delete and invoke manage and call functions, logs prints their logs from
CloudWatch Logs, tune picks a function's memory size by measurement, journal shows what a resume
journal holds, spill lists and deletes what runs left at a spill location."""

# (This docstring is the command's --help.) Each subcommand is a module of this package, which
# adds its parser (its `run` as the parser's default) and runs it.

from __future__ import annotations

import argparse
import sys

from .._core import __version__
from ..errors import LambdaError
from . import demo, deploy, invoke, journal, local, logs, spill, tune


def command_parser() -> argparse.ArgumentParser:
    """Builds the command's parser, each subcommand's `run` as its parser's default."""
    parser = argparse.ArgumentParser(prog="lambda-executor", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo.add_command(commands)
    local.add_command(commands)
    journal.add_command(commands)
    deploy.add_commands(commands)
    invoke.add_command(commands)
    logs.add_command(commands)
    spill.add_command(commands)
    tune.add_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command with `argv` (default: the command line's) and returns its exit status."""
    args = command_parser().parse_args(argv)
    try:
        return args.run(args)
    except LambdaError as error:
        # The whole message (what each credential provider said, a handler's remote traceback),
        # not a Python traceback.
        first, *rest = str(error).splitlines() or [type(error).__name__]
        print(f"lambda-executor {args.command}: {_in_cli_words(first)}", *rest, sep="\n", file=sys.stderr)
        return 1
    except (ValueError, KeyError, FileNotFoundError, ModuleNotFoundError, RuntimeError) as error:
        print(f"lambda-executor {args.command}: {error}", file=sys.stderr)
        return 2


def _in_cli_words(message: str) -> str:
    """The library's messages name its keyword arguments; on the command line, the options."""
    return message.replace("pass region=...", "pass --region").replace("pass profile=...", "pass --profile")
