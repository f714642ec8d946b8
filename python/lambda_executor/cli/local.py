"""`lambda-executor local`: LocalLambda served in the foreground until Ctrl-C, with the functions
the options add."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any, Callable

from .._core import LocalLambda


def add_command(commands: argparse._SubParsersAction) -> None:
    local = commands.add_parser(
        "local",
        help="serve LocalLambda in the foreground until Ctrl-C",
        description="Serves LocalLambda, an offline AWS Lambda that runs real Python handlers, with the functions "
        "the options add, until Ctrl-C; it prints its endpoint and what to export so that the AWS CLI, boto3 and "
        "lambda-executor invoke reach it.",
    )
    local.add_argument(
        "--host", default="127.0.0.1", help="address to bind, loopback unless --allow-remote (default %(default)s)"
    )
    local.add_argument("--port", type=int, default=0, help="port to bind (default %(default)s: any free port)")
    local.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    local.add_argument(
        "--account-concurrency",
        type=int,
        default=1000,
        metavar="N",
        help="the account's concurrency limit, which every function shares (default %(default)s, Lambda's)",
    )
    local.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="seconds before an idle execution environment is ended (default %(default)s)",
    )
    local.add_argument("--tls-cert", metavar="PEM", help="serve https with this certificate chain (with --tls-key)")
    local.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    local.add_argument(
        "--rate-limit",
        type=_number_or_off(float),
        default=10.0,
        metavar="N|off",
        help="requests per second a function takes per unit of its concurrency (default %(default)s, Lambda's)",
    )
    local.add_argument(
        "--scaling-limit",
        type=_number_or_off(int),
        default=1000,
        metavar="N|off",
        help="execution environments a function may add every 10 s (default %(default)s, Lambda's)",
    )
    local.add_argument(
        "--s3-endpoint-url",
        metavar="URL",
        help="the S3 endpoint code and layers given as S3Bucket/S3Key are read from, and handlers reach as "
        "AWS_ENDPOINT_URL_S3 (default: the environment's AWS_ENDPOINT_URL_S3)",
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
        ("--reserved", "reserved concurrency of a function (default: none)"),
        ("--timeout", "timeout of a --function in seconds (default 3)"),
        ("--memory", "memory size of a --function in MB (default 128)"),
    ):
        local.add_argument(option, action="append", default=[], metavar="NAME=N", help=f"{what} (repeatable)")
    local.set_defaults(run=run)


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


def _per_function(items: list[str], option: str) -> dict[str, int]:
    """NAME=N settings of an option, by function."""
    settings = {}
    for item in items:
        name, _, count = item.partition("=")
        if not count.isdigit():
            raise ValueError(f"{option} takes NAME=N with N a whole number, not {item!r}")
        settings[name] = int(count)
    return settings


def run(args: argparse.Namespace) -> int:
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
        s3_endpoint_url=args.s3_endpoint_url,
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
        if local.s3_endpoint_url:
            print(f"  code and layers from S3 are read from {local.s3_endpoint_url}", flush=True)
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
