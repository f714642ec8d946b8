"""`lambda-executor journal`: what a resume journal holds, by function, its failures, or its
stored results exported as JSON lines."""

from __future__ import annotations

import argparse
import json
import tempfile
import zlib
from pathlib import Path

from .._core import Journal
from ..agent import COMPRESSED, TAGGED, AgentError, is_packed, is_tagged, unpack
from .words import counted


def add_command(commands: argparse._SubParsersAction) -> None:
    journal = commands.add_parser(
        "journal",
        help="show what a resume journal holds",
        description="Shows what a resume journal holds: its invocations by function and outcome, and its first "
        "failures; or every failure (--failed), or its stored results as JSON lines (--export).",
    )
    journal.add_argument("path", metavar="PATH", help="the journal file (LambdaExecutor(journal=...))")
    journal.add_argument("--failed", action="store_true", help="list every failed invocation")
    journal.add_argument("--export", metavar="JSONL", help="write the stored results to this file, a JSON line each")
    journal.add_argument(
        "--calls",
        action="store_true",
        help="also count the calls that chunks of Python function calls carried (reads every stored result)",
    )
    journal.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not Path(args.path).is_file():
        raise FileNotFoundError(f"no journal at {args.path}")
    journal = Journal(args.path)
    try:
        if args.export:
            print(f"wrote {counted(journal.export(args.export), 'result')} to {args.export}")
            return 0
        if args.failed:
            for failure in journal.failures():
                print(_failure_line(failure))
            return 0
        counts = journal.counts()
        header = ("function", "succeeded", "failed", "throttled", "unknown", "result bytes")
        rows = [
            (c["function"], *(f"{c[key]:,}" for key in ("succeeded", "failed", "throttled", "unknown", "bytes")))
            for c in counts
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        total = sum(c["succeeded"] + c["failed"] + c["throttled"] + c["unknown"] for c in counts)
        print(f"{args.path}: {counted(total, 'invocation')} of {counted(len(counts), 'function')}")
        for row in [header, *rows]:
            print(
                "  ".join(
                    cell.ljust(width) if i == 0 else cell.rjust(width)
                    for i, (cell, width) in enumerate(zip(row, widths))
                )
            )
        unknown = sum(c["unknown"] for c in counts)
        if unknown:
            print(
                f"unknown: {unknown:,} were in flight when a run stopped; a rerun sends them again (they may have run)"
            )
        if args.calls:
            chunks, calls, failed = _chunked_calls(journal)
            print(
                f"calls in chunks: {calls:,} in {counted(chunks, 'succeeded invocation')}, {failed:,} of them failed "
                f"(a chunk whose invocation failed counts as one failed invocation above)"
            )
        first = journal.failures(limit=5)
        if first:
            print("first failures (all with --failed):")
            for failure in first:
                print("  " + _failure_line(failure))
        return 0
    finally:
        journal.close()


def _chunked_calls(journal: Journal) -> tuple[int, int, int]:
    """(chunks, calls, failed calls) among the stored results: the journal keeps invocations, and
    an agent's answer to a chunk says how many calls it carried."""
    chunks = calls = failed = 0
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder, "results.jsonl")
        journal.export(results)
        with results.open() as lines:
            for line in lines:
                try:
                    answer = json.loads(line)["result"]
                    answer = unpack(answer[COMPRESSED]) if is_packed(answer) else answer
                except (AgentError, ValueError, zlib.error):  # not an agent's compressed answer
                    continue
                # Its entries are counted, not read (a tagged answer's arrays would need NumPy).
                answer = answer[TAGGED] if is_tagged(answer) else answer
                entries = answer.get("chunk") if isinstance(answer, dict) else None
                if isinstance(entries, list):
                    chunks += 1
                    calls += len(entries)
                    failed += sum(isinstance(entry, dict) and "error" in entry for entry in entries)
    return chunks, calls, failed


def _failure_line(failure: dict) -> str:
    function = f"{failure['function']}:{failure['qualifier']}" if failure["qualifier"] else failure["function"]
    where = f"{function} payload {failure['payload_digest'][:12]}#{failure['occurrence']}"
    return f"{where}: {failure['error_type']}: {failure['message']}"
