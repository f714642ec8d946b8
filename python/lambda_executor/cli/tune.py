"""`lambda-executor tune`: a function run at each memory size, reported per size, the best chosen
(and applied if asked); what the run made is undone afterwards, even if it is killed."""

from __future__ import annotations

import argparse
import json

from ..executor import LambdaExecutor
from ..tune import DEFAULT_MEMORY_SIZES, STRATEGIES
from .client import client_options, client_settings


def add_command(commands: argparse._SubParsersAction) -> None:
    tune = commands.add_parser(
        "tune",
        parents=[client_options()],
        help="measure a function at each memory size and pick the best",
        description="Runs a function at each memory size and reports per size its billed duration, its cost per "
        "invocation and its cold starts, then the best size for the strategy (set with --apply). What the run "
        "changes (memory, versions, aliases) is undone afterwards, even if the run is killed.",
    )
    tune.add_argument("name", metavar="FUNCTION", help="the function's name")
    tune.add_argument(
        "--event",
        action="append",
        metavar="JSON",
        help="an event as JSON, or @FILE holding it (repeatable: used in turn; default {})",
    )
    default_sizes = ",".join(map(str, DEFAULT_MEMORY_SIZES))
    tune.add_argument(
        "--memory", default=default_sizes, metavar="MB,MB,...", help="memory sizes to try (default %(default)s)"
    )
    tune.add_argument("--invocations", type=int, default=10, help="measured calls per size (default %(default)s)")
    tune.add_argument("--concurrency", type=int, default=5, help="calls at a time (default %(default)s)")
    tune.add_argument(
        "--strategy", choices=STRATEGIES, default="balanced", help="what 'best' means (default %(default)s)"
    )
    tune.add_argument("--apply", action="store_true", help="set the best size on $LATEST (or on --alias)")
    tune.add_argument("--alias", help="with --apply: point this alias at a version with the best size instead")
    tune.add_argument(
        "--include-cold", action="store_true", help="measure cold starts with the rest (default: counted apart)"
    )
    tune.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    events = [_event(text) for text in args.event or ["{}"]]
    try:
        sizes = tuple(int(size) for size in args.memory.split(","))
    except ValueError:
        raise ValueError(f"--memory takes sizes in MB separated by commas, not {args.memory!r}") from None
    if args.alias and not args.apply:
        raise ValueError("--alias says where --apply sets the best size: give --apply with it")
    with LambdaExecutor(max_workers=1, **client_settings(args)) as executor:
        result = executor.tune(
            args.name,
            events,
            memory_sizes=sizes,
            invocations=args.invocations,
            concurrency=args.concurrency,
            strategy=args.strategy,
            apply=args.apply,
            alias=args.alias,
            include_cold=args.include_cold,
        )
    print(result)
    return 0


def _event(text: str) -> object:
    source = text
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as file:
            source = file.read()
    try:
        return json.loads(source)
    except json.JSONDecodeError as error:
        raise ValueError(f"--event must be JSON or @FILE of JSON: {error}") from None
