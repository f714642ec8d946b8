"""`lambda-executor invoke`: one invocation of a function, its result printed as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from ..executor import LambdaExecutor
from .client import client_options, client_settings


def add_command(commands: argparse._SubParsersAction) -> None:
    invoke = commands.add_parser(
        "invoke",
        parents=[client_options()],
        help="invoke a function and print its result",
        description="Invokes a deployed function once with EVENT and prints its result as JSON; a failure is "
        "printed with the handler's traceback, and the command exits with status 1.",
    )
    invoke.add_argument("name", metavar="NAME", help="the function's name, ARN or NAME:QUALIFIER")
    invoke.add_argument(
        "event", metavar="EVENT", nargs="?", default="{}", help="the event as JSON (default %(default)s)"
    )
    invoke.add_argument("--logs", action="store_true", help="print the log tail to stderr")
    invoke.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        event = json.loads(args.event)
    except json.JSONDecodeError as error:
        raise ValueError(f"EVENT must be JSON: {error}") from None
    with LambdaExecutor(max_workers=1, log_tail=args.logs, **client_settings(args)) as executor:
        future = executor.submit(args.name, event)
        failure = future.exception()
        if args.logs and future.invocation is not None and future.invocation.log_tail:
            print(future.invocation.log_tail, file=sys.stderr, end="")
        if failure is not None:
            raise failure
        print(json.dumps(future.result(), indent=2))
    return 0
