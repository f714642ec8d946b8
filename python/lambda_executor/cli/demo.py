"""`lambda-executor demo`: what lambda-executor does, offline, against LocalLambda: raw Invoke
calls, the concurrency lab from threads, and the same calls through LambdaExecutor."""

from __future__ import annotations

import argparse
import base64
import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path

from .._core import LocalLambda
from ..executor import LambdaExecutor

DEMO_HANDLERS = Path(__file__).parent.parent / "demo_handlers"


def add_command(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="show what lambda-executor does, offline (no AWS account)")
    demo.set_defaults(run=run)


def use_offline_credentials() -> None:
    """Placeholder credentials and region where none are configured: LocalLambda does not check
    signatures, but the SDK signs every request."""
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "offline"),
        ("AWS_SECRET_ACCESS_KEY", "offline"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)


def run(args: argparse.Namespace) -> int:
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
