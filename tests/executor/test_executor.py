"""LambdaExecutor as a user relies on it: the Executor contract, payload rules, errors, retries."""

import concurrent.futures
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import wait_for
from lambda_executor import (
    FunctionError,
    FunctionNotFoundError,
    LambdaExecutor,
    LambdaFunction,
    LambdaFuture,
    PayloadTooLargeError,
    RetryPolicy,
    ThrottledError,
)


def test_submit_returns_the_decoded_result_and_what_happened(local, executor):
    local.add_synthetic("echo")
    future = executor.submit("echo", {"a": [1, 2.5, None, True, "é"], "b": {"c": -3}})
    assert isinstance(future, LambdaFuture) and isinstance(future, concurrent.futures.Future)
    assert future.result(timeout=10) == {"a": [1, 2.5, None, True, "é"], "b": {"c": -3}}
    info = future.invocation
    assert info.function == "echo"
    assert info.attempts == 1 and info.throttles == 0
    assert info.executed_version == "$LATEST"
    assert info.status_code == 200
    assert len(info.request_id) == 36
    assert info.log_tail is None


@pytest.mark.parametrize(
    "args,kwargs,event",
    [
        (({"k": 1},), {}, {"k": 1}),
        ((1, "two", [3]), {}, [1, "two", [3]]),
        ((), {"x": 1, "y": [2]}, {"x": 1, "y": [2]}),
        ((), {}, {}),
        ((("t", 1),), {}, ["t", 1]),
        ((None,), {}, None),
    ],
)
def test_payload_rule(local, executor, args, kwargs, event):
    local.add_synthetic("echo")
    assert executor.submit("echo", *args, **kwargs).result(timeout=10) == event


def test_positional_and_keyword_arguments_together_is_a_type_error(local, executor):
    local.add_synthetic("echo")
    with pytest.raises(TypeError, match="not both"):
        executor.submit("echo", 1, x=2)


def test_a_plain_python_callable_is_a_type_error_that_says_what_to_pass(executor):
    with pytest.raises(TypeError, match=r"pass the function's name, ARN or a LambdaFunction"):
        executor.submit(len, [1, 2])


@pytest.mark.parametrize("bad", ["", "has space", "arn:aws:s3:::bucket", "f:q:extra:x:y"])
def test_a_malformed_function_name_is_a_value_error(executor, bad):
    with pytest.raises(ValueError, match="is not a Lambda function name"):
        executor.submit(bad, {})


@pytest.mark.parametrize(
    "payload,message",
    [
        (math.nan, "NaN and Infinity are not allowed"),
        ({"x": math.inf}, "NaN and Infinity are not allowed"),
        (b"bytes", "Object of type bytes is not JSON serializable"),
        ({1, 2}, "Object of type set is not JSON serializable"),
        ({1: "int key"}, "dict keys must be str"),
        (object(), "Object of type object is not JSON serializable"),
        (2**70, "does not fit in 64 bits"),
    ],
)
def test_a_payload_json_cannot_carry_is_a_type_error_and_nothing_is_sent(local, executor, payload, message):
    local.add_synthetic("echo")
    with pytest.raises(TypeError, match=message):
        executor.submit("echo", payload)
    assert local.stats("echo")["invocations"] == 0


def test_a_reference_cycle_is_refused(local, executor):
    local.add_synthetic("echo")
    cycle = []
    cycle.append(cycle)
    with pytest.raises(TypeError, match="reference cycle"):
        executor.submit("echo", cycle)


def test_a_payload_over_6_mb_is_payload_too_large_and_nothing_is_sent(local, executor):
    local.add_synthetic("echo")
    with pytest.raises(PayloadTooLargeError, match="over Lambda's 6291456-byte limit") as error:
        executor.submit("echo", "x" * (6 * 1024 * 1024))
    assert isinstance(error.value, ValueError)
    assert local.stats("echo")["invocations"] == 0
    exactly = "y" * (6 * 1024 * 1024 - 2)  # with its quotes, exactly the limit
    assert executor.submit("echo", exactly).result(timeout=30) == exactly


def test_event_invocations_have_a_1_mb_limit_and_resolve_to_none(local, handlers, tmp_path):
    local.add_function("record", "app.record", handlers)
    with LambdaExecutor(endpoint_url=local.endpoint_url, invocation_type="Event") as executor:
        with pytest.raises(PayloadTooLargeError, match="1048576-byte limit for Event"):
            executor.submit("record", "x" * (1024 * 1024))
        out = tmp_path / "out.txt"
        future = executor.submit("record", path=str(out), n=7)
        assert future.result(timeout=10) is None
        assert future.invocation.status_code == 202
    wait_for(lambda: out.exists() and out.read_text().startswith("7 "))


def test_an_unknown_function_is_function_not_found(local, executor):
    with pytest.raises(FunctionNotFoundError, match="ResourceNotFoundException: Function not found"):
        executor.submit("nope", {}).result(timeout=10)


def test_a_handler_exception_is_a_function_error_with_the_remote_traceback(local, executor, handlers):
    local.add_function("fail", "app.fail", handlers)
    future = executor.submit("fail", message="bad row 17")
    with pytest.raises(FunctionError) as caught:
        future.result(timeout=10)
    error = caught.value
    assert error.error_type == "ValueError"
    assert error.error_message == "bad row 17"
    assert error.request_id == future.invocation.request_id
    assert any("in fail" in frame for frame in error.stack_trace)
    text = str(error)
    assert text.startswith("ValueError in fail: bad row 17")
    assert "Remote traceback (most recent call last):" in text
    assert 'raise ValueError(event.get("message", "boom"))' in text


def test_a_timeout_in_the_function_is_a_function_error_sandbox_timedout(local, executor, handlers):
    local.add_function("slow", "app.sleep", handlers, timeout=1)
    with pytest.raises(FunctionError) as caught:
        executor.submit("slow", seconds=5).result(timeout=20)
    assert caught.value.error_type == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in caught.value.error_message


def test_log_tail_is_carried_by_the_future(local, handlers):
    local.add_function("echo", "app.echo", handlers)
    with LambdaExecutor(endpoint_url=local.endpoint_url, log_tail=True) as executor:
        future = executor.submit("echo", {})
        future.result(timeout=10)
    assert "echo invocation 1" in future.invocation.log_tail
    assert "REPORT RequestId: " + future.invocation.request_id in future.invocation.log_tail


def test_map_returns_results_in_order(local, executor):
    local.add_synthetic("echo")
    events = [{"i": i, "sleep_ms": (7 * i) % 50} for i in range(200)]
    assert list(executor.map("echo", events)) == events


def test_map_zips_several_iterables_into_array_events(local, executor):
    local.add_synthetic("echo")
    assert list(executor.map("echo", [1, 2, 3], "abc")) == [[1, "a"], [2, "b"], [3, "c"]]


def test_map_timeout_counts_from_the_call(local, executor):
    local.add_synthetic("echo")
    results = executor.map("echo", [{"sleep_ms": 0}, {"sleep_ms": 3000}], timeout=0.5)
    assert next(results) == {"sleep_ms": 0}
    with pytest.raises(concurrent.futures.TimeoutError):
        next(results)


def test_map_raises_the_first_error_when_it_is_reached(local, executor, handlers):
    local.add_function("fail", "app.fail", handlers)
    local.add_synthetic("echo")
    results = executor.map("fail", [{"message": "first"}, {"message": "second"}])
    with pytest.raises(FunctionError, match="first"):
        next(results)


def test_map_buffersize_bounds_what_is_in_flight(local, executor):
    local.add_synthetic("echo")
    consumed = []
    for result in executor.map("echo", ({"i": i, "sleep_ms": 20} for i in range(30)), buffersize=3):
        consumed.append(result["i"])
    assert consumed == list(range(30))
    # As in Python 3.14, the next item is submitted before waiting for the oldest one.
    assert local.stats("echo")["peak_concurrency"] <= 4
    with pytest.raises(ValueError, match="buffersize"):
        executor.map("echo", [1], buffersize=0)


def test_as_completed_and_wait_work_with_lambda_futures(local, executor):
    local.add_synthetic("echo")
    futures = [executor.submit("echo", {"sleep_ms": ms}) for ms in (300, 10, 150)]
    order = [f.result()["sleep_ms"] for f in concurrent.futures.as_completed(futures, timeout=10)]
    assert order == [10, 150, 300]
    done, not_done = concurrent.futures.wait(futures, timeout=10)
    assert len(done) == 3 and not not_done


def test_a_queued_invocation_can_be_cancelled_and_is_never_sent(local):
    local.add_synthetic("echo")
    with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
        running = executor.submit("echo", {"sleep_ms": 500})
        queued = executor.submit("echo", {"n": 2})
        assert queued.cancel()
        assert queued.cancelled()
        assert running.result(timeout=10) == {"sleep_ms": 500}
        assert not running.cancel()
    assert local.stats("echo")["invocations"] == 1


def test_an_invocation_already_sent_cannot_be_cancelled(local, executor):
    local.add_synthetic("echo")
    future = executor.submit("echo", {"sleep_ms": 400})
    wait_for(lambda: local.stats("echo")["in_flight"] == 1)
    assert future.running()
    assert not future.cancel()
    assert future.result(timeout=10) == {"sleep_ms": 400}


def test_shutdown_waits_and_refuses_new_work(local):
    local.add_synthetic("echo")
    executor = LambdaExecutor(endpoint_url=local.endpoint_url)
    futures = [executor.submit("echo", {"sleep_ms": 200}) for _ in range(5)]
    executor.shutdown(wait=True)
    assert all(f.done() and not f.cancelled() for f in futures)
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        executor.submit("echo", {})


def test_shutdown_cancel_futures_cancels_what_was_not_sent(local):
    local.add_synthetic("echo")
    executor = LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url)
    futures = [executor.submit("echo", {"sleep_ms": 300}) for _ in range(10)]
    wait_for(lambda: local.stats("echo")["in_flight"] == 2)
    executor.shutdown(wait=True, cancel_futures=True)
    assert sum(f.cancelled() for f in futures) == 8
    assert local.stats("echo")["invocations"] == 2


def test_an_exception_in_the_with_block_cancels_queued_invocations(local):
    local.add_synthetic("echo")
    with pytest.raises(KeyboardInterrupt):
        with LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url) as executor:
            futures = [executor.submit("echo", {"sleep_ms": 300}) for _ in range(10)]
            wait_for(lambda: local.stats("echo")["in_flight"] == 2)
            raise KeyboardInterrupt
    assert sum(f.cancelled() for f in futures) == 8
    assert local.stats("echo")["invocations"] == 2


def test_seed_lab_all_ten_succeed_through_lambda_executor(local, handlers):
    """shared/seeds/000 again: reserved concurrency 2, 10 concurrent calls, none lost to throttling."""
    local.add_function(
        "do_something_concurrent", "lambda_proc.do_something", handlers, timeout=15, reserved_concurrency=2
    )
    with LambdaExecutor(max_workers=10, endpoint_url=local.endpoint_url) as executor:
        futures = [executor.submit("do_something_concurrent") for _ in range(10)]
        results = [f.result(timeout=60) for f in futures]
        assert executor.concurrency_limit("do_something_concurrent") <= 3
    assert results == [{"created_by": "your name", "message": "data was processed"}] * 10
    assert sum(f.invocation.throttles for f in futures) == local.stats("do_something_concurrent")["throttles"]
    assert local.stats("do_something_concurrent")["invocations"] == 10


def test_the_limit_adapts_to_the_reserved_concurrency(local):
    local.add_synthetic("busy", latency_ms=100, reserved_concurrency=4)
    with LambdaExecutor(max_workers=40, endpoint_url=local.endpoint_url) as executor:
        assert executor.concurrency_limit("busy") == 40
        results = list(executor.map("busy", range(80)))
        limit = executor.concurrency_limit("busy")
    assert results == list(range(80))
    assert 3 <= limit <= 5
    stats = local.stats("busy")
    assert stats["invocations"] == 80
    assert stats["throttles"] < 80, "the limit should stop most throttles after the first burst"


def test_a_function_throttled_past_the_deadline_is_a_throttled_error(local):
    local.add_synthetic("off", reserved_concurrency=0)
    policy = RetryPolicy(throttle_timeout=0.5, base_delay=0.01, max_delay=0.05)
    with LambdaExecutor(endpoint_url=local.endpoint_url, retry=policy) as executor:
        future = executor.submit("off", {})
        with pytest.raises(ThrottledError, match="ReservedFunctionConcurrentInvocationLimitExceeded") as caught:
            future.result(timeout=10)
    assert caught.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert caught.value.attempts >= 1
    assert future.invocation.throttles == caught.value.attempts


def test_lambda_function_handle_works_with_thread_pool_and_lambda_executor(local):
    local.add_synthetic("echo")
    fn = LambdaFunction("echo", endpoint_url=local.endpoint_url)
    events = [{"i": i} for i in range(20)]
    with ThreadPoolExecutor(4) as threads:
        assert list(threads.map(fn, events)) == events
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        assert list(executor.map(fn, events)) == events
    assert fn({"direct": True}) == {"direct": True}
    assert LambdaFunction("echo", qualifier="live").reference == "echo:live"


def test_a_qualifier_runs_that_version(local, client, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return ['first', context.invoked_function_arn]\n")
    local.add_function("echo", "app.handler", code)
    client.publish_version(FunctionName="echo")
    client.create_alias(FunctionName="echo", Name="live", FunctionVersion="1")
    # Version 1 keeps the code it was published with.
    (code / "app.py").write_text("def handler(event, context):\n    return ['second', context.invoked_function_arn]\n")
    with LambdaExecutor(endpoint_url=local.endpoint_url, qualifier="1") as executor:
        future = executor.submit("echo", {})
        assert future.result(timeout=10) == ["first", "arn:aws:lambda:us-east-1:123456789012:function:echo:1"]
        assert future.invocation.executed_version == "1"
        assert executor.submit("echo:live", {}).result(timeout=10)[1].endswith(":function:echo:live")
        assert executor.submit("echo:$LATEST", {}).result(timeout=10)[0] == "second"
        with pytest.raises(FunctionNotFoundError, match=r"function:echo:3"):
            executor.submit("echo:3", {}).result(timeout=10)


def test_thousands_of_submissions_from_several_threads_all_resolve_once(local, executor):
    local.add_synthetic("echo")
    results = {}

    def submit_many(offset):
        futures = {i: executor.submit("echo", i) for i in range(offset, offset + 500)}
        for i, future in futures.items():
            results[i] = future.result(timeout=60)

    threads = [threading.Thread(target=submit_many, args=(k * 500,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: i for i in range(2000)}
    assert local.stats("echo")["invocations"] == 2000


def test_a_throttled_invocation_waiting_to_retry_can_still_be_cancelled(local):
    local.add_synthetic("off", reserved_concurrency=0)
    policy = RetryPolicy(base_delay=0.2, max_delay=0.2)
    with LambdaExecutor(endpoint_url=local.endpoint_url, retry=policy) as executor:
        future = executor.submit("off", {})
        wait_for(lambda: local.stats("off")["throttles"] >= 1)
        # Lambda never ran it: between attempts it is queued again, so cancel() succeeds.
        wait_for(lambda: future.cancel(), seconds=5)
        assert future.cancelled()
    throttles = local.stats("off")["throttles"]
    time.sleep(0.5)
    assert local.stats("off")["throttles"] == throttles, "a cancelled invocation was sent again"


def test_waiting_inside_a_done_callback_is_refused_not_a_deadlock(local, executor):
    local.add_synthetic("echo")
    outcome = []
    follow_up = executor.submit("echo", {"sleep_ms": 300})

    def callback(done):
        try:
            follow_up.result()
        except RuntimeError as error:
            outcome.append(str(error))

    executor.submit("echo", 1).add_done_callback(callback)
    wait_for(lambda: outcome)
    assert "inside a done-callback" in outcome[0]
    assert follow_up.result(timeout=10) == {"sleep_ms": 300}


def test_retry_policy_durations_are_bounded():
    with pytest.raises(ValueError, match="throttle_timeout must be 0 to 86400 seconds"):
        RetryPolicy(throttle_timeout=1e20)


def test_invocations_go_out_in_the_order_they_were_submitted(local):
    local.add_synthetic("slow-echo", latency_ms=50)
    finished = []
    with LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url) as executor:
        futures = [executor.submit("slow-echo", {"i": i}) for i in range(12)]
        for i, future in enumerate(futures):
            future.add_done_callback(lambda _, i=i: finished.append(i))
    # Two at a time, in order: each call ends in its own round of two, give or take one.
    assert all(abs(finished.index(i) - i) <= 1 for i in range(12)), finished


def test_a_bad_event_stops_map_and_what_it_queued_is_not_sent(local, handlers):
    local.add_function("sleep", "app.sleep", handlers)
    with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
        with pytest.raises(TypeError):
            executor.map("sleep", [{"seconds": 0.3}] * 5 + [{"bad": {1, 2}}])
    assert local.stats("sleep")["invocations"] <= 1  # only the one already sent when the error came
