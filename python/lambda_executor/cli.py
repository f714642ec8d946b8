"""The `lambda-executor` command: `demo` shows the product offline, `local` serves LocalLambda,
`deploy`, `update`, `list`, `delete` and `invoke` manage and call functions."""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path
from typing import Any, Callable

from . import deploy
from ._core import Journal, LocalLambda, __version__
from .agent import AgentError
from .errors import LambdaError
from .executor import LambdaExecutor
from .remote import decode_result

DEMO_HANDLERS = Path(__file__).parent / "demo_handlers"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lambda-executor", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="show what lambda-executor does, offline (no AWS account)")
    demo.set_defaults(run=run_demo)

    local = commands.add_parser("local", help="serve LocalLambda in the foreground until Ctrl-C")
    local.add_argument("--host", default="127.0.0.1", help="address to bind (loopback unless --allow-remote)")
    local.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    local.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    local.add_argument("--account-concurrency", type=int, default=1000)
    local.add_argument("--idle-timeout", type=float, default=300.0, help="seconds before an idle environment is ended")
    local.add_argument("--tls-cert", metavar="PEM", help="serve https with this certificate chain (with --tls-key)")
    local.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    local.add_argument(
        "--rate-limit",
        type=_number_or_off(float),
        default=10.0,
        metavar="N|off",
        help="requests per second a function takes per unit of its concurrency (Lambda: 10, the default)",
    )
    local.add_argument(
        "--scaling-limit",
        type=_number_or_off(int),
        default=1000,
        metavar="N|off",
        help="execution environments a function may add every 10 s (Lambda: 1000, the default)",
    )
    local.add_argument(
        "--function",
        nargs=3,
        action="append",
        default=[],
        metavar=("NAME", "HANDLER", "CODE_DIR"),
        help="a Python function, e.g. --function resize app.handler ./src (repeatable)",
    )
    local.add_argument(
        "--synthetic",
        action="append",
        default=[],
        metavar="NAME",
        help="a synthetic echo function answered in Rust (repeatable)",
    )
    for option, what in (
        ("--reserved", "reserved concurrency of a function"),
        ("--timeout", "timeout of a --function in seconds (default 3)"),
        ("--memory", "memory size of a --function in MB (default 128)"),
    ):
        local.add_argument(option, action="append", default=[], metavar="NAME=N", help=f"{what} (repeatable)")
    local.set_defaults(run=run_local)

    journal = commands.add_parser("journal", help="show what a resume journal holds")
    journal.add_argument("path", help="the journal file (LambdaExecutor(journal=...))")
    journal.add_argument("--failed", action="store_true", help="list every failed invocation")
    journal.add_argument("--export", metavar="JSONL", help="write the stored results to this file, a JSON line each")
    journal.add_argument(
        "--calls",
        action="store_true",
        help="also count the calls that chunks of Python function calls carried (reads every stored result)",
    )
    journal.set_defaults(run=run_journal)

    deploy.add_commands(commands)

    args = parser.parse_args(argv)
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


def _number_or_off(kind: type) -> Callable[[str], Any]:
    """An argparse type: a positive number of `kind`, or `off` (None)."""

    def parse(text: str) -> Any:
        if text == "off":
            return None
        try:
            number = kind(text)
        except ValueError:
            number = 0
        if not number > 0:
            raise argparse.ArgumentTypeError(f"takes a positive number or 'off', not {text!r}")
        return number

    return parse


def _in_cli_words(message: str) -> str:
    """The library's messages name its keyword arguments; on the command line, the options."""
    return message.replace("pass region=...", "pass --region").replace("pass profile=...", "pass --profile")


def _per_function(items: list[str], option: str) -> dict[str, int]:
    """NAME=N settings of an option, by function."""
    settings = {}
    for item in items:
        name, _, count = item.partition("=")
        if not count.isdigit():
            raise ValueError(f"{option} takes NAME=N with N a whole number, not {item!r}")
        settings[name] = int(count)
    return settings


def run_local(args: argparse.Namespace) -> int:
    reserved = _per_function(args.reserved, "--reserved")
    timeouts = _per_function(args.timeout, "--timeout")
    memory = _per_function(args.memory, "--memory")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with LocalLambda(
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        account_concurrency=args.account_concurrency,
        idle_timeout=args.idle_timeout,
        tls=(args.tls_cert, args.tls_key) if args.tls_cert else None,
        rate_limit=args.rate_limit,
        scaling_limit=args.scaling_limit,
    ) as local:
        for name, handler, code_dir in args.function:
            local.add_function(
                name,
                handler,
                code_dir,
                timeout=timeouts.pop(name, 3),
                memory_size=memory.pop(name, 128),
                reserved_concurrency=reserved.pop(name, None),
            )
        for name in args.synthetic:
            local.add_synthetic(name, reserved_concurrency=reserved.pop(name, None))
        for option, left in (("--reserved", reserved), ("--timeout", timeouts), ("--memory", memory)):
            if left:
                raise KeyError(f"{option} names functions that were not added: {', '.join(sorted(left))}")
        print(f"LocalLambda serving at {local.endpoint_url}", flush=True)
        for name in local.functions():
            print(f"  function {name}", flush=True)
        # Every Lambda client signs its calls and needs a region: LocalLambda checks no signature,
        # but without these a first `invoke` fails with "no AWS credentials found".
        print("To call it from a shell (the AWS CLI, boto3, lambda-executor invoke), export:", flush=True)
        print(f"  export AWS_ENDPOINT_URL_LAMBDA={local.endpoint_url}", flush=True)
        print(f"  export AWS_DEFAULT_REGION={local.region}", flush=True)
        print("  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local", flush=True)
        if args.tls_cert:
            print("  export AWS_CA_BUNDLE=<the PEM of the CA that signed --tls-cert>", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not stop.wait(0.2):
            pass
    print("LocalLambda stopped.", flush=True)
    return 0


def use_offline_credentials() -> None:
    """Placeholder credentials and region where none are configured: LocalLambda does not check
    signatures, but the SDK signs every request."""
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "offline"),
        ("AWS_SECRET_ACCESS_KEY", "offline"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)


def run_journal(args: argparse.Namespace) -> int:
    if not Path(args.path).is_file():
        raise FileNotFoundError(f"no journal at {args.path}")
    journal = Journal(args.path)
    try:
        if args.export:
            print(f"wrote {journal.export(args.export):,} results to {args.export}")
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
        print(f"{args.path}: {total:,} invocations of {len(counts)} functions")
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
                f"calls in chunks: {calls:,} in {chunks:,} succeeded invocations, {failed:,} of them failed (a chunk "
                f"whose invocation failed counts as one failed invocation above)"
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
                    answer = decode_result(json.loads(line)["result"])
                except (AgentError, ValueError, zlib.error):  # not an agent's compressed answer
                    continue
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


def run_demo(args: argparse.Namespace) -> int:
    print("lambda-executor demo: everything below runs offline, against LocalLambda.\n")
    use_offline_credentials()
    with LocalLambda() as local:
        print(f"LocalLambda is serving the Lambda Invoke API at {local.endpoint_url}")
        local.add_function("hello", "lab.hello", DEMO_HANDLERS)
        for attempt in ("cold", "warm"):
            status, headers, body = raw_invoke(
                local.endpoint_url, "hello", json.dumps({"name": "demo"}).encode(), {"X-Amz-Log-Type": "Tail"}
            )
            report = base64.b64decode(headers["X-Amz-Log-Result"]).decode().strip().splitlines()[-1]
            print(f"  {attempt} invoke -> {status} {body.decode()}")
            print(f"    {report.strip()}")

        print("\nThe concurrency lab: a 1 s function with reserved concurrency 2, called 10 times at once")
        local.add_function("lab", "lab.do_something", DEMO_HANDLERS, timeout=15, reserved_concurrency=2)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=10) as pool:
            outcomes = list(
                pool.map(
                    lambda item: raw_invoke(local.endpoint_url, "lab", json.dumps({"item": item}).encode(), {}),
                    range(10),
                )
            )
        elapsed = time.monotonic() - started
        succeeded = sum(1 for status, _, _ in outcomes if status == 200)
        throttled = [json.loads(body)["Reason"] for status, _, body in outcomes if status == 429]
        print(f"  plain HTTP calls from threads: {succeeded} succeeded, {len(throttled)} throttled in {elapsed:.1f} s")
        if throttled:
            print(f"    429 TooManyRequestsException, Reason {throttled[0]}")
        stats = local.stats("lab")
        print(
            f"  LocalLambda saw: {stats['invocations']} invocations, {stats['throttles']} throttles, "
            f"peak concurrency {stats['peak_concurrency']}"
        )

        print("\nThe same 10 calls through LambdaExecutor")
        # Straight to the emulator in this process, whatever proxy the environment names.
        with LambdaExecutor(max_workers=10, endpoint_url=local.endpoint_url, proxies={}) as executor:
            started = time.monotonic()
            results = list(executor.map("lab", [{"item": item} for item in range(10)]))
            elapsed = time.monotonic() - started
            limit = executor.concurrency_limit("lab")
        absorbed = local.stats("lab")["throttles"] - stats["throttles"]
        print(
            f"  {len(results)} of 10 succeeded in {elapsed:.1f} s (the floor is 5 x 1 s), "
            f"{absorbed} throttles absorbed, concurrency limit adapted to {limit}"
        )
    print("\nDone.")
    return 0


def raw_invoke(
    endpoint_url: str, name: str, body: bytes, headers: dict[str, str], *, timeout: float = 30.0
) -> tuple[int, Message, bytes]:
    """One raw Invoke API call (POST /2015-03-31/functions/NAME/invocations), as any HTTP client
    would make it: unsigned (LocalLambda does not check), never through a proxy. Returns (status,
    headers, body), for an HTTP error status too."""
    request = urllib.request.Request(
        f"{endpoint_url}/2015-03-31/functions/{name}/invocations",
        data=body,
        headers=headers,
        method="POST",
    )
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # LocalLambda is local
    try:
        with direct.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
