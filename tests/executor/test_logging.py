"""What reaches Python's logging, against LocalLambda: the loggers under lambda_executor, each at
the level a user expects (DEBUG per call, INFO a limit changed, WARNING work lost), levels set
after import obeyed, nothing when the loggers are off, and never a payload, a credential or a
signature, at DEBUG with the SDK's own events."""

import logging
import re

import pytest
from helpers import wait_for
from lambda_executor import BudgetExceeded, LambdaExecutor, LocalLambda, RetryPolicy
from lambda_executor.stats import PRICE_PER_GB_SECOND, PRICE_PER_REQUEST

REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"


def records(caplog, logger, level=None):
    """The messages `logger` (lambda_executor.<logger>) received, at `level` if given."""
    name = f"lambda_executor.{logger}"
    return [r.getMessage() for r in caplog.records if r.name == name and (level is None or r.levelno == level)]


@pytest.fixture
def limited():
    """A function that runs 3 calls at once and throttles the rest, answering in 100 ms."""
    with LocalLambda(scaling_limit=None) as local:
        local.add_synthetic("limited", latency_ms=100, reserved_concurrency=3)
        yield local


def throttled_run(local, calls=30):
    """A map of `calls` over `limited` with room for 12 at once: Lambda refuses the calls past 3."""
    with LambdaExecutor(max_workers=12, endpoint_url=local.endpoint_url) as executor:
        events = [{"i": i} for i in range(calls)]
        assert list(executor.map("limited", events)) == events
        return executor.stats()


def test_a_throttled_run_logs_each_throttle_with_the_limit_that_follows_and_each_retry(limited, caplog):
    caplog.set_level(logging.DEBUG, logger="lambda_executor")
    stats = throttled_run(limited)
    assert stats.throttles > 0
    throttles = records(caplog, "throttle", logging.DEBUG)
    assert len(throttles) == stats.throttles
    follows = [re.fullmatch(rf"limited: throttled \({REASON}\); reserved concurrency: (\d+)", t) for t in throttles]
    assert all(follows), throttles
    # The limit the executor keeps to after each throttle, never above where it started.
    assert all(1 <= int(match.group(1)) <= 12 for match in follows if match)
    retries = records(caplog, "retry", logging.DEBUG)
    assert len(retries) == stats.throttles, "each throttle is retried, and says after how long"
    assert all(
        re.fullmatch(rf"limited: retrying in \d+\.\d{{3}} s after attempt \d+: throttled \({REASON}\)", r)
        for r in retries
    ), retries
    lowered = records(caplog, "limits", logging.INFO)
    assert lowered and all(
        re.fullmatch(r"limited: concurrency limit lowered from \d+ to \d+ after a throttle", m) for m in lowered
    )
    ended = records(caplog, "call", logging.DEBUG)
    assert len(ended) == 30 and all(
        re.fullmatch(r"limited: succeeded \(\d+ attempts?, \d+\.\d{3} s\)", m) for m in ended
    )
    assert not [r for r in caplog.records if r.name.startswith("lambda_executor") and r.levelno >= logging.WARNING]


def test_logging_off_means_no_records(limited, caplog):
    caplog.set_level(logging.DEBUG)  # the root takes everything; lambda_executor is off
    logging.getLogger("lambda_executor").setLevel(logging.CRITICAL + 1)
    try:
        assert throttled_run(limited).throttles > 0
    finally:
        logging.getLogger("lambda_executor").setLevel(logging.NOTSET)
    assert not [r for r in caplog.records if r.name.startswith("lambda_executor")]


def test_a_level_set_after_an_executor_logged_holds_for_the_next_executor(limited, caplog):
    caplog.set_level(logging.WARNING, logger="lambda_executor")
    throttled_run(limited, calls=10)
    assert not records(caplog, "call"), "DEBUG records while the logger took WARNING"
    caplog.set_level(logging.DEBUG, logger="lambda_executor")
    throttled_run(limited, calls=10)
    assert len(records(caplog, "call", logging.DEBUG)) == 10


def test_a_call_given_up_is_a_warning(local, caplog):
    caplog.set_level(logging.WARNING, logger="lambda_executor")
    local.add_synthetic("failing")
    local.inject_faults("failing", service_error=1.0)
    policy = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01)
    with LambdaExecutor(max_workers=4, endpoint_url=local.endpoint_url, retry=policy) as executor:
        assert executor.submit("failing", {}).exception(timeout=30) is not None
    assert records(caplog, "retry", logging.WARNING) == [
        "failing: gave up after 3 attempts: ServiceException (HTTP 500)"
    ]
    assert not records(caplog, "retry", logging.DEBUG), "the retries themselves are DEBUG"


def test_calls_abandoned_at_shutdown_are_a_warning(local, caplog):
    caplog.set_level(logging.WARNING, logger="lambda_executor")
    local.add_synthetic("slow", latency_ms=1000)
    executor = LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url)
    futures = [executor.submit("slow", {"i": i}) for i in range(6)]
    wait_for(lambda: sum(future.running() for future in futures) == 2)
    executor.shutdown(wait=True, cancel_futures=True)
    assert records(caplog, "shutdown", logging.WARNING) == [
        "shutdown cancelled 4 calls not sent, and abandoned 2 in flight: nothing more is sent for them, and their "
        "results arrive only if Lambda ran them"
    ]
    # Lambda ran the two in flight: their results arrived all the same.
    assert [future.result() for future in futures[:2]] == [{"i": 0}, {"i": 1}]


def test_a_resumed_journal_logs_how_many_calls_it_answered_and_how_many_were_sent_again(local, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="lambda_executor")
    local.add_synthetic("echo")
    journal = tmp_path / "run.db"
    events = [{"i": i} for i in range(15)]
    no_retry = RetryPolicy(max_retries=0)
    with LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal, retry=no_retry) as executor:
        assert list(executor.map("echo", events[:10])) == events[:10]
        local.inject_faults("echo", service_error=1.0)
        assert all(executor.submit("echo", event).exception(timeout=30) for event in events[10:])
    assert not records(caplog, "journal"), "a first run resumes nothing"
    local.inject_faults("echo")
    with LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal) as executor:
        assert list(executor.map("echo", events)) == events
    assert records(caplog, "journal", logging.INFO) == [
        f"journal {journal}: 10 calls answered from it (not sent), 5 sent again (0 of them were in flight when an "
        f"earlier run stopped)"
    ]


def test_the_spend_cap_reached_is_a_warning_once(local, caplog):
    caplog.set_level(logging.WARNING, logger="lambda_executor")
    local.add_synthetic("priced", latency_ms=100, memory_size=1024)
    cap = 3 * (0.1 * PRICE_PER_GB_SECOND + PRICE_PER_REQUEST)
    with LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url, max_cost=cap) as executor:
        futures = [executor.submit("priced", {"i": i}) for i in range(12)]
        refused = [future for future in futures if isinstance(future.exception(timeout=60), BudgetExceeded)]
    assert refused
    reached = records(caplog, "spend", logging.WARNING)
    assert len(reached) == 1 and reached[0].startswith("the spend cap is reached: $"), reached
    assert f"max_cost ${cap:.6f}" in reached[0]


def test_debug_records_hold_no_payload_credential_or_signature(limited, caplog, monkeypatch):
    key_id, secret, token = "AKIDLOGGINGTEST0042", "secret-logging-test-0042", "session-logging-test-0042"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    caplog.set_level(logging.DEBUG, logger="lambda_executor")
    marker = "payload-marker-0042"
    with LambdaExecutor(max_workers=12, endpoint_url=limited.endpoint_url) as executor:
        events = [{"i": i, "marker": marker} for i in range(20)]
        assert list(executor.map("limited", events)) == events
    assert records(caplog, "call", logging.DEBUG) and records(caplog, "throttle", logging.DEBUG)
    assert [r for r in caplog.records if r.name == "lambda_executor.sdk" and r.levelno == logging.DEBUG]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("lambda_executor"))
    for secret_thing in (marker, key_id, secret, token, "Signature=", "authorization"):
        assert secret_thing.lower() not in logged.lower(), secret_thing


def test_the_sdk_events_stay_out_while_their_logger_does_not_take_debug(limited, caplog):
    caplog.set_level(logging.DEBUG, logger="lambda_executor")
    sdk = logging.getLogger("lambda_executor.sdk")
    sdk.setLevel(logging.INFO)
    try:
        throttled_run(limited, calls=10)
    finally:
        sdk.setLevel(logging.NOTSET)
    assert len(records(caplog, "call", logging.DEBUG)) == 10
    assert not records(caplog, "sdk")
