"""Lambda's concurrency rules: reserved and account limits, 429 throttles, queued Event invocations."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import boto3_lambda, raw_invoke, wait_for
from lambda_executor import LocalLambda


def test_seed_lab_two_succeed_and_eight_are_throttled(local, handlers):
    """shared/seeds/000: reserved concurrency 2, 10 concurrent calls of a slow handler."""
    local.add_function(
        "do_something_concurrent", "lambda_proc.do_something", handlers, timeout=15, reserved_concurrency=2
    )
    client = boto3_lambda(local.endpoint_url, max_pool_connections=10)

    def call(_):
        try:
            response = client.invoke(FunctionName="do_something_concurrent")
            return json.loads(response["Payload"].read())["message"]
        except client.exceptions.TooManyRequestsException as error:
            return error.response["Reason"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(call, range(10)))
    assert outcomes.count("data was processed") == 2
    assert outcomes.count("ReservedFunctionConcurrentInvocationLimitExceeded") == 8
    stats = local.stats("do_something_concurrent")
    assert (stats["invocations"], stats["throttles"], stats["peak_concurrency"]) == (2, 8, 2)


def test_throttle_is_a_modelled_429_with_reason_and_retry_after(handlers):
    with LocalLambda(retry_after=3) as local:
        local.add_synthetic("busy", latency_ms=500, reserved_concurrency=1)
        client = boto3_lambda(local.endpoint_url)
        with ThreadPoolExecutor(max_workers=1) as pool:
            running = pool.submit(client.invoke, FunctionName="busy")
            wait_for(lambda: local.stats("busy")["in_flight"] == 1)
            with pytest.raises(client.exceptions.TooManyRequestsException) as error:
                client.invoke(FunctionName="busy")
            status, headers, _body = raw_invoke(local.endpoint_url, "busy", b"{}", {}, timeout=10)
            assert running.result()["StatusCode"] == 200
    response = error.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert response["Type"] == "User"
    assert response["message"] == "Rate Exceeded."
    assert response["retryAfterSeconds"] == "3"
    assert status == 429 and headers["Retry-After"] == "3"
    assert headers["x-amzn-ErrorType"] == "TooManyRequestsException"


def test_reserved_concurrency_zero_disables_a_function(local):
    local.add_synthetic("off", reserved_concurrency=0)
    client = boto3_lambda(local.endpoint_url)
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.invoke(FunctionName="off")
    local.set_reserved_concurrency("off", None)
    assert client.invoke(FunctionName="off")["StatusCode"] == 200


def test_account_limit_is_shared_by_unreserved_functions():
    with LocalLambda(account_concurrency=4) as local:
        local.add_synthetic("a", latency_ms=400)
        local.add_synthetic("b", latency_ms=400)
        local.add_synthetic("reserved", latency_ms=400, reserved_concurrency=1)
        client = boto3_lambda(local.endpoint_url, max_pool_connections=20)

        def call(name):
            try:
                return client.invoke(FunctionName=name)["StatusCode"]
            except client.exceptions.TooManyRequestsException as error:
                return error.response["Reason"]

        with ThreadPoolExecutor(max_workers=12) as pool:
            outcomes = list(pool.map(call, ["a"] * 5 + ["b"] * 5 + ["reserved"] * 2))
        # 4 - 1 reserved = 3 unreserved slots shared by a and b; the reserved one runs 1 of 2.
        assert outcomes[:10].count(200) == 3
        assert outcomes[:10].count("ConcurrentInvocationLimitExceeded") == 7
        assert sorted(map(str, outcomes[10:])) == ["200", "ReservedFunctionConcurrentInvocationLimitExceeded"]
        assert local.stats("a")["peak_concurrency"] + local.stats("b")["peak_concurrency"] <= 3


def test_event_invocations_queue_and_never_exceed_the_limit(local, handlers, tmp_path):
    local.add_function("record", "app.record", handlers, reserved_concurrency=2)
    client = boto3_lambda(local.endpoint_url)
    out = tmp_path / "runs.txt"
    for n in range(6):
        response = client.invoke(
            FunctionName="record",
            InvocationType="Event",
            Payload=json.dumps({"path": str(out), "n": n, "seconds": 0.2}),
        )
        assert response["StatusCode"] == 202
    assert local.stats("record")["queued_events"] >= 2
    wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 6)
    wait_for(lambda: local.stats("record")["in_flight"] == 0)
    stats = local.stats("record")
    assert stats["invocations"] == 6
    assert stats["throttles"] == 0
    assert stats["peak_concurrency"] == 2
    assert sorted(int(line.split()[0]) for line in out.read_text().splitlines()) == list(range(6))


def test_synthetic_function_echoes_and_sleeps_under_the_same_rules(local):
    local.add_synthetic("echo", reserved_concurrency=3)
    client = boto3_lambda(local.endpoint_url, max_pool_connections=10)
    payload = {"sleep_ms": 300, "data": [1, "two", None]}

    def call(_):
        try:
            return json.loads(client.invoke(FunctionName="echo", Payload=json.dumps(payload))["Payload"].read())
        except client.exceptions.TooManyRequestsException:
            return "throttled"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(call, range(6)))
    assert outcomes.count(payload) == 3
    assert outcomes.count("throttled") == 3
    assert local.stats("echo")["peak_concurrency"] == 3
