"""`lambda-executor demo`: what lambda-executor does, offline, against LocalLambda. Each step
prints the Python it runs, then runs exactly that: a batch with a progress bar; a throttled batch
through LambdaExecutor beside boto3 with threads; a handler's error caught as its own type; the
executor's stats; and a journal resuming a stopped run."""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import tempfile
import textwrap
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

DEMO_HANDLERS = Path(__file__).parent.parent / "demo_handlers"

# The snippets are both printed and run (exec'd in one namespace, in this order), so what the
# demo shows is the code it runs.
SETUP = """\
from lambda_executor import LambdaExecutor, LocalLambda

local = LocalLambda()  # Lambda's Invoke API on 127.0.0.1, running real handlers on this machine
local.add_synthetic("echo", latency_ms=50)  # answers with its event after 50 ms
local.add_function("lab", "lab.do_something", DEMO_HANDLERS, reserved_concurrency=4)  # 4 at a time
local.add_function("divide", "lab.divide", DEMO_HANDLERS)
endpoint_url = local.endpoint_url  # against AWS, leave endpoint_url out
"""

BATCH = """\
with LambdaExecutor(max_workers=100, endpoint_url=endpoint_url) as executor:
    results = list(executor.map("echo", [{"item": i} for i in range(3000)], progress=True))
print(len(results), "results, in order:", results[:2], "...")
"""

# A fan-out of 40 against a reserved concurrency of 4: 36 of the first 40 calls are throttled.
THROTTLED_BATCH = """\
events = [{"item": i, "seconds": 0.5} for i in range(40)]  # 40 calls of 0.5 s each

with LambdaExecutor(max_workers=40, endpoint_url=endpoint_url) as executor:
    results = list(executor.map("lab", events))
"""

THROTTLED_BATCH_WITH_BOTO3 = """\
import json
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def invoke_with_boto3(retries):  # run with retries=None (boto3's default mode), then {"mode": "adaptive"}
    config = Config(retries=retries, max_pool_connections=40)
    client = boto3.client("lambda", endpoint_url=endpoint_url, config=config)

    def invoke(event):
        response = client.invoke(FunctionName="lab", Payload=json.dumps(event))
        return json.loads(response["Payload"].read())

    with ThreadPoolExecutor(max_workers=40) as threads:
        return [threads.submit(invoke, event) for event in events]
"""

STATS = """\
print(executor.stats())
"""

HANDLER_ERROR = """\
with LambdaExecutor(endpoint_url=endpoint_url) as executor:
    try:
        executor.submit("divide", {"numerator": 1, "denominator": 0}).result()
    except ZeroDivisionError as error:  # the type the handler raised, as with ThreadPoolExecutor
        print("caught ZeroDivisionError:", error)
"""

STOPPED_RUN = """\
events = [{"item": i, "seconds": 0.2} for i in range(20)]

with LambdaExecutor(max_workers=4, endpoint_url=endpoint_url, journal=journal_path) as executor:
    for done, result in enumerate(executor.map("lab", events), start=1):
        if done == 8:
            break  # the run stops here, as after Ctrl-C or a crash
"""

RESUMED_RUN = """\
with LambdaExecutor(max_workers=4, endpoint_url=endpoint_url, journal=journal_path) as executor:
    results = list(executor.map("lab", events))  # the same batch, run again
    print(len(results), "results,", executor.stats().from_journal, "of them from the journal")
"""


def add_command(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="show what lambda-executor does, offline (no AWS account)",
        description="Shows what lambda-executor does, offline (no AWS account): each piece of Python it runs, "
        "then its output, against a LocalLambda it starts.",
    )
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


def bypass_proxies_for_loopback() -> None:
    """LocalLambda is on this machine: boto3 and LambdaExecutor alike reach it directly, whatever
    proxy the environment names (both read NO_PROXY)."""
    for name in ("NO_PROXY", "no_proxy"):
        rules = os.environ.get(name)
        os.environ[name] = f"{rules},127.0.0.1" if rules else "127.0.0.1"


def run(args: argparse.Namespace) -> int:
    print("lambda-executor demo: everything below runs offline, against LocalLambda.")
    use_offline_credentials()
    bypass_proxies_for_loopback()
    with tempfile.TemporaryDirectory() as scratch:
        namespace: dict[str, Any] = {
            "DEMO_HANDLERS": DEMO_HANDLERS,
            "journal_path": os.path.join(scratch, "run.journal"),
        }
        step("LocalLambda stands in for AWS Lambda:", SETUP, namespace)
        try:
            show_batch(namespace)
            show_throttled_batch(namespace)
            step("What LambdaExecutor's run of that batch came to, executor.stats():", STATS, namespace)
            step("A handler's error, with its remote traceback:", HANDLER_ERROR, namespace)
            show_resume(namespace)
        finally:
            namespace["local"].close()
    print("\nDone.")
    return 0


def step(title: str, snippet: str, namespace: dict[str, Any]) -> None:
    """Prints the snippet under its title, then runs it."""
    print(f"\n{title}\n")
    # Flushed: a progress bar writes to stderr, after what stdout already shows.
    print(textwrap.indent(snippet, "    "), flush=True)
    exec(compile(snippet, f"<demo: {title}>", "exec"), namespace)


def show_batch(namespace: dict[str, Any]) -> None:
    if importlib.util.find_spec("tqdm") is None:
        print("\n(tqdm is not installed, so the batch with a progress bar is skipped: pip install tqdm)")
        return
    step("A batch of 3,000 calls, 100 at a time, with a progress bar:", BATCH, namespace)


def show_throttled_batch(namespace: dict[str, Any]) -> None:
    """Runs the throttled batch through LambdaExecutor, then through boto3 and threads in boto3's
    default retry mode and in its adaptive one, against the same LocalLambda, and tabulates each
    run: its wall time, its calls that succeeded and failed, and the 429s LocalLambda sent it."""
    local = namespace["local"]
    rows = []
    boto3_errors: list[BaseException] = []

    def measure(label: str, run_batch: Callable[[], tuple[int, int]]) -> None:
        throttles_before = local.stats("lab")["throttles"]
        started = time.monotonic()
        succeeded, failed = run_batch()
        elapsed = time.monotonic() - started
        throttles = local.stats("lab")["throttles"] - throttles_before
        rows.append((label, f"{elapsed:.1f} s", str(succeeded), str(failed), str(throttles)))

    print("\nA throttled batch: 40 calls at once of a function that Lambda runs 4 at a time (its reserved")
    print("concurrency), so at best 40 x 0.5 s / 4 = 5 s.")

    def through_executor() -> tuple[int, int]:
        step("Through LambdaExecutor:", THROTTLED_BATCH, namespace)
        return len(namespace["results"]), namespace["executor"].stats().failures

    measure("LambdaExecutor", through_executor)
    if importlib.util.find_spec("boto3") is None:
        print("\n(boto3 is not installed, so the comparison with boto3 and threads is skipped: pip install boto3)")
    else:
        import botocore.session  # type: ignore[import-untyped]

        step(
            "Through boto3 and threads, as one writes it without lambda-executor:",
            THROTTLED_BATCH_WITH_BOTO3,
            namespace,
        )
        default_mode = botocore.session.get_session().get_config_variable("retry_mode")
        for label, retries in (
            (f"boto3 + threads, default retries ({default_mode})", None),
            ("boto3 + threads, adaptive retries", {"mode": "adaptive"}),
        ):
            measure(label, functools.partial(boto3_outcomes, namespace["invoke_with_boto3"], retries, boto3_errors))
    print()
    header = ("", "wall time", "succeeded", "failed", "throttled (429)")
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    for row in (header, *rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        print("    " + "  ".join(cells))
    if boto3_errors:
        print(f"\nboto3's failed calls raised {type(boto3_errors[0]).__name__}: {boto3_errors[0]}")


def boto3_outcomes(
    invoke_with_boto3: Callable[[Any], list[Future[Any]]], retries: Any, errors: list[BaseException]
) -> tuple[int, int]:
    """How many of the batch's calls through boto3 succeeded and failed; the failures' errors join `errors`."""
    outcomes = [future.exception() for future in invoke_with_boto3(retries)]
    failed = [error for error in outcomes if error is not None]
    errors.extend(failed)
    return len(outcomes) - len(failed), len(failed)


def show_resume(namespace: dict[str, Any]) -> None:
    """Stops a journaled run part way, then runs the same batch again: only the rest is sent."""
    local = namespace["local"]
    invocations_before = local.stats("lab")["invocations"]
    step("A run with a journal, stopped part way:", STOPPED_RUN, namespace)
    ran_first = local.stats("lab")["invocations"] - invocations_before
    print(f"LocalLambda ran {ran_first} of the 20 calls: the 8 taken, and those in flight when the run stopped.")
    step("The same run again, with the same journal:", RESUMED_RUN, namespace)
    ran_again = local.stats("lab")["invocations"] - invocations_before - ran_first
    print(f"LocalLambda ran {ran_again} calls this time: only the rest.")
