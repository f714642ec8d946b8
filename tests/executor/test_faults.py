"""Reliability under injected faults (LocalLambda.inject_faults): every future resolves exactly
once, no result is lost or crossed, nothing that may have run is sent again unless the policy
says so, and the executor's figures say what was retried."""

import collections

import pytest
from lambda_executor import ConnectionLostError, LambdaExecutor, RetryPolicy

CALLS = 2000


def run_batch(executor, calls=CALLS):
    """Submits `calls` echo invocations; returns (results by index, errors by index, resolutions)."""
    resolutions = collections.Counter()
    futures = [executor.submit("echo", {"i": i}) for i in range(calls)]
    for i, future in enumerate(futures):
        future.add_done_callback(lambda _, i=i: resolutions.update([i]))
    results, errors = {}, {}
    for i, future in enumerate(futures):
        error = future.exception(timeout=120)
        if error is None:
            results[i] = future.result()
        else:
            errors[i] = error
    executor.shutdown(wait=True)
    assert set(resolutions) == set(range(calls)) and set(resolutions.values()) == {1}  # each exactly once
    assert all(result == {"i": i} for i, result in results.items())  # none lost, crossed or duplicated
    return results, errors


@pytest.fixture
def echo(local):
    local.add_synthetic("echo")
    return local


def test_retryable_faults_are_absorbed_and_counted(echo):
    echo.inject_faults("echo", service_error=0.1, not_ready=0.1, throttle=0.1, seed=1)
    policy = RetryPolicy(max_retries=12, base_delay=0.001, max_delay=0.01)
    executor = LambdaExecutor(max_workers=50, endpoint_url=echo.endpoint_url, retry=policy)
    results, errors = run_batch(executor)
    injected = echo.injected_faults("echo")
    assert (len(results), errors) == (CALLS, {})
    assert injected["service_error"] > 100 and injected["not_ready"] > 100 and injected["throttle"] > 100
    assert echo.stats("echo")["invocations"] == CALLS  # the faulted attempts never ran
    stats = executor.stats()
    assert stats.throttles == injected["throttle"]
    assert stats.retries == injected["service_error"] + injected["not_ready"] + injected["throttle"]


def test_a_dropped_connection_is_not_sent_again_unless_asked(echo):
    echo.inject_faults("echo", drop_before=0.05, drop_after=0.05, seed=2)
    executor = LambdaExecutor(max_workers=50, endpoint_url=echo.endpoint_url)
    results, errors = run_batch(executor)
    injected = echo.injected_faults("echo")
    assert all(isinstance(error, ConnectionLostError) for error in errors.values())
    assert len(errors) == injected["drop_before"] + injected["drop_after"] > 100
    assert len(results) == CALLS - len(errors)
    # What ran: every success, plus each call dropped after it ran; none ran twice.
    assert echo.stats("echo")["invocations"] == len(results) + injected["drop_after"]
    assert executor.stats().retries == 0


def test_with_retry_after_sent_every_call_succeeds_at_least_once(echo):
    echo.inject_faults("echo", drop_before=0.05, drop_after=0.05, seed=3)
    policy = RetryPolicy(retry_after_sent=True, max_retries=12, base_delay=0.001, max_delay=0.01)
    executor = LambdaExecutor(max_workers=50, endpoint_url=echo.endpoint_url, retry=policy)
    results, errors = run_batch(executor)
    injected = echo.injected_faults("echo")
    assert (len(results), errors) == (CALLS, {})
    # At least once, as asked: the calls dropped after running ran again.
    assert echo.stats("echo")["invocations"] == CALLS + injected["drop_after"]
    assert executor.stats().retries == injected["drop_before"] + injected["drop_after"]


def test_slow_answers_lose_nothing(echo):
    echo.inject_faults("echo", slow=0.2, slow_ms=300, seed=4)
    executor = LambdaExecutor(max_workers=100, endpoint_url=echo.endpoint_url)
    results, errors = run_batch(executor, calls=500)
    assert (len(results), errors) == (500, {})
    assert echo.injected_faults("echo")["slow"] > 50
    assert executor.stats().latency_max >= 0.3


def test_fault_shares_are_checked_and_can_be_turned_off(echo, executor):
    with pytest.raises(ValueError, match="from 0 to 1"):
        echo.inject_faults("echo", throttle=1.5)
    with pytest.raises(ValueError, match="more than 1"):
        echo.inject_faults("echo", throttle=0.6, drop_after=0.6)
    with pytest.raises(KeyError):
        echo.inject_faults("missing", throttle=0.1)
    echo.inject_faults("echo", service_error=1.0)
    echo.inject_faults("echo")  # all zero: off
    assert executor.submit("echo", {"x": 1}).result() == {"x": 1}
