"""Lambda's throttles beyond concurrency: LocalLambda's request-rate and scaling limits, as boto3
sees them on the wire, and the executor absorbing each (and a bare 429) without failing a call."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from helpers import ScriptedServer, boto3_lambda
from lambda_executor import LambdaExecutor, LocalLambda, RetryPolicy, ThrottledError


def throttle_of(client, function, payload=b"{}"):
    """None if the call ran, else (Reason, Retry-After) of its 429."""
    try:
        client.invoke(FunctionName=function, Payload=payload)
        return None
    except ClientError as error:
        response = error.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["Error"]["Code"] == "TooManyRequestsException"
        return response["Reason"], response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]


def test_the_request_rate_is_limited_by_default_at_ten_per_unit_of_concurrency():
    with LocalLambda(scaling_limit=None) as local:
        local.add_synthetic("reserved", reserved_concurrency=1)
        client = boto3_lambda(local.endpoint_url)
        outcomes = [throttle_of(client, "reserved") for _ in range(15)]
        # A second's worth at once (10), then one more each tenth of a second at most.
        ran = outcomes.count(None)
        assert 10 <= ran < 15, outcomes
        # (The first refusal, not the last call: on a loaded machine a token may refill between.)
        assert next(o for o in outcomes if o) == ("ReservedFunctionInvocationRateLimitExceeded", "1")
        stats = local.stats("reserved")
        assert stats["rate_throttles"] == stats["throttles"] == 15 - ran
        assert stats["concurrency_throttles"] == stats["scaling_throttles"] == 0


def test_an_unreserved_function_is_limited_by_what_the_account_leaves_it():
    with LocalLambda(account_concurrency=3, rate_limit=2.0, scaling_limit=None) as local:
        local.add_synthetic("open")
        client = boto3_lambda(local.endpoint_url)
        outcomes = [throttle_of(client, "open") for _ in range(12)]
        assert outcomes[:6] == [None] * 6  # 2 x 3 per second
        assert next(o for o in outcomes if o) == ("FunctionInvocationRateLimitExceeded", "1")


def test_a_fresh_function_scales_by_its_burst_and_warm_environments_serve_again():
    with LocalLambda(rate_limit=None, scaling_limit=3, retry_after=2) as local:
        local.add_synthetic("burst")
        client = boto3_lambda(local.endpoint_url, max_pool_connections=10)
        slow = json.dumps({"sleep_ms": 1000}).encode()
        with ThreadPoolExecutor(5) as threads:
            outcomes = list(threads.map(lambda _: throttle_of(client, "burst", slow), range(5)))
        assert outcomes.count(None) == 3
        assert sorted(o for o in outcomes if o) == [("ConcurrentInvocationLimitExceeded", "2")] * 2
        # The three environments are warm now: three at once need no more scaling.
        with ThreadPoolExecutor(3) as threads:
            assert list(threads.map(lambda _: throttle_of(client, "burst", slow), range(3))) == [None] * 3
        stats = local.stats("burst")
        assert (stats["scaling_throttles"], stats["concurrency_throttles"], stats["rate_throttles"]) == (2, 0, 0)


def test_limits_can_be_turned_off():
    with LocalLambda(rate_limit=None, scaling_limit=None) as local:
        local.add_synthetic("reserved", reserved_concurrency=1)
        client = boto3_lambda(local.endpoint_url)
        assert [throttle_of(client, "reserved") for _ in range(30)] == [None] * 30


@pytest.mark.parametrize("setting", [{"rate_limit": 0.0}, {"rate_limit": float("nan")}, {"scaling_limit": 0}])
def test_a_limit_that_cannot_be_applied_is_refused(setting):
    with pytest.raises(ValueError, match=next(iter(setting))):
        LocalLambda(**setting)


def test_the_executor_paces_requests_at_the_rate_it_learns(capsys):
    with LocalLambda(rate_limit=2.0, scaling_limit=None) as local:
        local.add_synthetic("paced", latency_ms=10, reserved_concurrency=10)  # 20 requests/s
        with LambdaExecutor(max_workers=10, endpoint_url=local.endpoint_url) as executor:
            events = [{"i": i} for i in range(100)]
            assert list(executor.map("paced", events, progress=True)) == events
            stats = executor.stats()
        assert stats.failures == 0
        assert stats.binding_limits["paced"].startswith("request rate: ")
        # Learning the rate costs some throttles; pacing at it keeps them to a fraction of the calls.
        served = local.stats("paced")
        assert served["invocations"] == 100
        assert served["rate_throttles"] == stats.throttles < 40
        assert "limit=request rate" in capsys.readouterr().err


def test_the_executor_ramps_up_as_a_fresh_function_scales():
    with LocalLambda(rate_limit=None, scaling_limit=20) as local:
        local.add_synthetic("fresh")
        with LambdaExecutor(max_workers=100, endpoint_url=local.endpoint_url) as executor:
            events = [{"i": i, "sleep_ms": 300} for i in range(120)]
            assert list(executor.map("fresh", events)) == events
            stats = executor.stats()
        served = local.stats("fresh")
        assert served["scaling_throttles"] == stats.throttles > 0
        assert served["invocations"] == 120 and stats.failures == 0
        assert stats.binding_limits["fresh"].startswith("account concurrency")


def test_a_bare_429_is_a_throttle_and_is_retried():
    server = ScriptedServer([(429, None, "")] * 2)
    try:
        with LambdaExecutor(endpoint_url=server.url, retry=RetryPolicy(base_delay=0.001, max_delay=0.01)) as executor:
            future = executor.submit("f", {})
            assert future.result(timeout=30) == {"ok": True}
        assert (future.invocation.attempts, future.invocation.throttles) == (3, 2)
    finally:
        server.close()


def test_a_bare_429_that_persists_fails_as_throttled():
    server = ScriptedServer([(429, None, "")] * 1000)
    try:
        policy = RetryPolicy(throttle_timeout=0.5, base_delay=0.001, max_delay=0.01)
        with LambdaExecutor(endpoint_url=server.url, retry=policy) as executor:
            with pytest.raises(ThrottledError, match="HTTP 429"):
                executor.submit("f", {}).result(timeout=30)
    finally:
        server.close()
