"""`lambda-executor logs FUNCTION`: a function's log lines from CloudWatch Logs (its log group
/aws/lambda/FUNCTION): the recent ones, one call's (--request-id), those of every call of it a
journal holds as failed (--failed JOURNAL), or new ones as they come (--follow)."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from .._core import Journal, LogReader
from ..errors import LogsError
from .client import client_options, client_settings
from .words import counted

if TYPE_CHECKING:
    from .._core import _LogLine

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
FOLLOW_PAUSE = 1.0
# --follow reads this far back each time: a line may reach CloudWatch Logs after lines of a later
# time (LocalLambda writes a call's START when the call ends).
FOLLOW_LOOKBACK_MS = 60_000


def add_command(commands: argparse._SubParsersAction) -> None:
    logs = commands.add_parser(
        "logs", parents=[client_options()], help="print a function's logs from CloudWatch Logs", description=__doc__
    )
    logs.add_argument(
        "function", metavar="FUNCTION", help="the function's name (its log group is /aws/lambda/FUNCTION)"
    )
    which = logs.add_mutually_exclusive_group()
    which.add_argument("--request-id", metavar="ID", help="the lines of this call, START to REPORT")
    which.add_argument(
        "--failed", metavar="JOURNAL", help="the lines of every call of FUNCTION this journal holds as failed"
    )
    logs.add_argument("--follow", action="store_true", help="then print new lines as they come, until interrupted")
    logs.add_argument(
        "--since", default="10m", help="how far back the recent lines go: 30s, 10m, 2h, 1d (default %(default)s)"
    )
    logs.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for a call's lines to reach CloudWatch Logs (default %(default)s)",
    )
    logs.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.follow and (args.request_id or args.failed):
        raise ValueError("--follow prints a function's new lines; it does not go with --request-id or --failed")
    reader = LogReader(client=client_settings(args))
    if args.request_id:
        print(*reader.call(args.function, args.request_id, timeout=args.timeout), sep="\n")
        return 0
    if args.failed:
        return _failed_calls(reader, args)
    start = int(time.time() * 1000) - _milliseconds(args.since)
    lines = reader.lines(args.function, start_time=start)
    for line in lines:
        _print_line(line)
    if args.follow:
        _follow(reader, args.function, lines, start)
    return 0


def _failed_calls(reader: LogReader, args: argparse.Namespace) -> int:
    """Prints each failed call's lines under a heading; a call whose lines cannot be read is said
    on stderr, and the others still printed."""
    if not Path(args.failed).is_file():
        raise FileNotFoundError(f"no journal at {args.failed}")
    journal = Journal(args.failed)
    try:
        failures = [f for f in journal.failures() if _function_name(f["function"]) == _function_name(args.function)]
    finally:
        journal.close()
    unread = 0
    for failure in failures:
        if failure["request_id"] is None:
            print(f"== {failure['function']}: {failure['error_type']}, never reached Lambda: it has no logs")
            continue
        print(f"== {failure['function']} request {failure['request_id']}: {failure['error_type']}")
        try:
            lines = reader.call(
                failure["function"], failure["request_id"], timeout=args.timeout, ended=failure["updated_at"]
            )
        except LogsError as error:
            print(f"lambda-executor logs: {error}", file=sys.stderr)
            unread += 1
            continue
        print(*lines, sep="\n")
    print(f"{counted(len(failures), 'failed call')} of {args.function} in {args.failed}", file=sys.stderr)
    return 1 if unread else 0


def _follow(reader: LogReader, function: str, printed: list[_LogLine], since: int) -> None:
    """Prints new lines once a second until interrupted, each once."""
    seen = {line["event_id"]: line["timestamp"] for line in printed}
    try:
        while True:
            time.sleep(FOLLOW_PAUSE)
            start = max(since, int(time.time() * 1000) - FOLLOW_LOOKBACK_MS)
            for line in reader.lines(function, start_time=start):
                if line["event_id"] not in seen:
                    seen[line["event_id"]] = line["timestamp"]
                    _print_line(line)
            # Lines older than the window are never read again.
            seen = {event_id: timestamp for event_id, timestamp in seen.items() if timestamp >= start}
    except KeyboardInterrupt:
        pass


def _print_line(line: _LogLine) -> None:
    when = datetime.fromtimestamp(line["timestamp"] / 1000, timezone.utc).isoformat(timespec="milliseconds")
    print(f"{when.replace('+00:00', 'Z')} {line['stream']} {line['message']}", flush=True)


def _milliseconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", duration.strip())
    if not match:
        raise ValueError(f"--since is a number and a unit (s, m, h or d), such as 10m, not {duration!r}")
    return int(float(match[1]) * UNITS[match[2]] * 1000)


def _function_name(reference: str) -> str:
    """The bare name of a function's name, name:qualifier or ARN."""
    return reference.split(":function:")[-1].split(":")[0]
