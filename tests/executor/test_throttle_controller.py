"""The throttle controller beside the benchmark's points: random throttles that say nothing of
capacity, a limit lifted mid-run, an instant function against a request-rate limit, and calls
cancelled while they wait out a throttle. Nothing here times the wall clock: the tests count
invocations and read the limits the executor learned."""

import re
import time

from lambda_executor import LambdaExecutor, LocalLambda, RetryPolicy


def wait_until(condition, seconds=30.0):
    """Polls `condition` (bounded in time); returns whether it came true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_random_throttles_leave_the_limit_near_what_runs():
    with LocalLambda(scaling_limit=None) as local:
        local.add_synthetic("f", latency_ms=100)
        local.inject_faults("f", throttle=0.1, seed=3)
        with LambdaExecutor(max_workers=50, endpoint_url=local.endpoint_url) as executor:
            events = [{"i": i} for i in range(1500)]
            assert list(executor.map("f", events)) == events
            limit = executor.concurrency_limit("f")
            stats = executor.stats()
        assert local.injected_faults("f")["throttle"] == stats.throttles > 50
        # Lambda ran 50 at once all along: a throttle at random says nothing of its concurrency.
        assert limit >= 45, limit
        assert local.stats("f")["invocations"] == 1500 and stats.failures == 0


def test_the_limit_climbs_back_when_lambda_runs_more_again():
    with LocalLambda(scaling_limit=None, rate_limit=None) as local:
        local.add_synthetic("f", latency_ms=50, reserved_concurrency=4)
        with LambdaExecutor(max_workers=40, endpoint_url=local.endpoint_url) as executor:
            assert len(list(executor.map("f", [{}] * 80))) == 80
            assert executor.concurrency_limit("f") <= 5
            local.set_reserved_concurrency("f", None)
            assert len(list(executor.map("f", [{}] * 2000))) == 2000
            # Back to max_workers, not one probe at a time.
            assert executor.concurrency_limit("f") == 40
            assert executor.stats().failures == 0
        assert local.stats("f")["peak_concurrency"] == 40


def test_the_rate_learned_for_an_instant_function_reaches_the_limits_rate():
    with LocalLambda(scaling_limit=None) as local:
        local.add_synthetic("fast", reserved_concurrency=5)  # 50 requests per second
        with LambdaExecutor(max_workers=64, endpoint_url=local.endpoint_url) as executor:
            events = [{"i": i} for i in range(300)]
            assert list(executor.map("fast", events)) == events
            binding = executor.stats().binding_limits["fast"]
        learned = float(re.fullmatch(r"request rate: (\d+)/s", binding).group(1))
        assert learned >= 45, binding
        assert local.stats("fast")["invocations"] == 300


def test_a_call_waiting_out_a_throttle_is_pending_cancellable_and_never_sent_again():
    with LocalLambda() as local:
        local.add_synthetic("busy")
        local.inject_faults("busy", throttle=1.0, retry_after=30)
        executor = LambdaExecutor(endpoint_url=local.endpoint_url)
        future = executor.submit("busy", {})
        assert wait_until(lambda: local.injected_faults("busy")["throttle"] == 1)
        # Throttled: it waits 30 s to retry, and meanwhile Lambda runs nothing of it.
        assert wait_until(lambda: not future.running())
        assert future.cancel()
        assert future.cancelled() and future.done()
        executor.shutdown(wait=True)
        assert local.injected_faults("busy")["throttle"] == 1
        assert local.stats("busy")["invocations"] == 0


def test_shutdown_cancelling_futures_sends_nothing_more_even_of_calls_then_in_flight():
    with LocalLambda(scaling_limit=None, retry_after=1) as local:
        local.add_synthetic("slow", latency_ms=500, reserved_concurrency=5)
        policy = RetryPolicy(base_delay=0.01, max_delay=0.05)
        executor = LambdaExecutor(max_workers=100, endpoint_url=local.endpoint_url, retry=policy)
        futures = [executor.submit("slow", {"i": i}) for i in range(1000)]
        # Some are in flight, most of those about to be throttled; the rest wait for room.
        assert wait_until(lambda: local.stats("slow")["throttles"] > 0)
        executor.shutdown(wait=True, cancel_futures=True)
        assert all(future.done() for future in futures)
        ran = sum(not future.cancelled() for future in futures)
        # What was running when it was asked to stop, and nothing since.
        assert ran <= 10, ran
        assert local.stats("slow")["invocations"] == ran
        assert all(future.result() == {"i": i} for i, future in enumerate(futures) if not future.cancelled())


def test_leaving_with_on_an_exception_cancels_calls_waiting_to_retry():
    with LocalLambda() as local:
        local.add_synthetic("busy")
        local.inject_faults("busy", throttle=1.0, retry_after=30)
        try:
            with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
                futures = [executor.submit("busy", {}) for _ in range(20)]
                assert wait_until(lambda: local.injected_faults("busy")["throttle"] >= 20)
                raise KeyError("the user's own error")
        except KeyError:
            pass
        assert all(future.cancelled() for future in futures)
        assert local.injected_faults("busy")["throttle"] == 20
