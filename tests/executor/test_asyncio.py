"""The asyncio API (pyo3-async-runtimes): ainvoke, amap, amap_unordered, against LocalLambda."""

import asyncio
import subprocess
import sys
import textwrap

import pytest
from lambda_executor import FunctionError, FunctionNotFoundError, LambdaExecutor


@pytest.fixture
def sleepy(local, handlers):
    local.add_function("sleep", "app.sleep", handlers)
    local.add_synthetic("echo")
    return local


def test_ainvoke_returns_the_result_and_raises_handler_errors(local, handlers, executor):
    local.add_function("echo", "app.echo", handlers)
    local.add_function("fail", "app.fail", handlers)

    async def main():
        result = await executor.ainvoke("echo", {"n": 1})
        with pytest.raises(FunctionError) as failed:
            await executor.ainvoke("fail", message="bad input")
        with pytest.raises(FunctionNotFoundError):
            await executor.ainvoke("no-such-function", {})
        with pytest.raises(TypeError, match=r"not JSON serializable|NaN|JSON"):
            await executor.ainvoke("echo", {"x": {1, 2}})
        return result, failed.value

    result, failed = asyncio.run(main())
    assert result["event"] == {"n": 1}
    assert (failed.error_type, failed.error_message) == ("ValueError", "bad input")
    assert local.stats("echo")["invocations"] == 1  # the bad payload was never sent


def test_awaiting_does_not_block_the_event_loop(sleepy, executor):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.ensure_future(ticker())
        result = await executor.ainvoke("sleep", seconds=0.5)
        ticking.cancel()
        return result, ticks

    result, ticks = asyncio.run(main())
    assert result["slept"] == 0.5
    assert ticks >= 10  # the loop kept running other tasks while the invocation ran


def test_amap_keeps_order_and_amap_unordered_yields_as_results_arrive(sleepy, executor):
    events = [{"seconds": seconds} for seconds in (0.6, 0.3, 0.0)]

    async def main():
        ordered = [result["slept"] async for result in executor.amap("sleep", events)]
        unordered = [result["slept"] async for result in executor.amap_unordered("sleep", events)]
        return ordered, unordered

    ordered, unordered = asyncio.run(main())
    assert ordered == [0.6, 0.3, 0.0]
    assert unordered == [0.0, 0.3, 0.6]


def test_amap_takes_an_async_iterable_and_bounds_what_runs_ahead(sleepy, local):
    async def events():
        for i in range(30):
            yield {"i": i}

    async def main():
        with LambdaExecutor(max_workers=5, endpoint_url=local.endpoint_url) as executor:
            return [result async for result in executor.amap("echo", events(), buffersize=4)]

    assert asyncio.run(main()) == [{"i": i} for i in range(30)]


def test_cancelling_the_task_cancels_the_invocation_not_yet_sent(sleepy, local):
    async def main(executor):
        busy = asyncio.ensure_future(executor.ainvoke("sleep", seconds=0.5))
        await asyncio.sleep(0.2)  # the only worker is taken
        queued = asyncio.ensure_future(executor.ainvoke("echo", {"never": "sent"}))
        await asyncio.sleep(0.05)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        return await busy

    with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
        assert asyncio.run(main(executor))["slept"] == 0.5
        executor.submit("sleep", seconds=0.0).result()  # anything queued has had its chance
    assert local.stats("echo")["invocations"] == 0


def test_leaving_amap_early_cancels_what_was_not_sent(sleepy, local):
    async def main(executor):
        async for result in executor.amap("sleep", [{"seconds": 0.3}] * 20, buffersize=10):
            return result

    with LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url) as executor:
        assert asyncio.run(main(executor))["slept"] == 0.3
    # Two ran at a time: the first result came after the first pair; the rest of the buffer
    # was cancelled unsent.
    assert local.stats("sleep")["invocations"] <= 4


def test_the_first_error_in_amap_is_raised_and_the_rest_cancelled(local, handlers):
    local.add_function("fail", "app.fail", handlers)

    async def main(executor):
        return [
            result async for result in executor.amap("fail", [{"message": f"m{i}"} for i in range(50)], buffersize=50)
        ]

    with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
        with pytest.raises(FunctionError, match="m0"):
            asyncio.run(main(executor))
    assert local.stats("fail")["invocations"] < 50


@pytest.mark.parametrize("bad", [float("nan"), {1, 2}])
@pytest.mark.parametrize("ordered", [True, False])
def test_a_bad_event_stops_amap_after_delivering_what_was_sent_before_it(sleepy, local, bad, ordered):
    events = [{"i": i} for i in range(4)] + [{"bad": bad}] + [{"i": i} for i in range(5, 10)]

    async def main(executor):
        results = []
        amap = executor.amap if ordered else executor.amap_unordered
        with pytest.raises(TypeError, match="event 4 of the map"):
            async for result in amap("echo", events):
                results.append(result)
        return results

    with LambdaExecutor(max_workers=8, endpoint_url=local.endpoint_url) as executor:
        results = asyncio.run(main(executor))
    # The four sent before it were paid for: they are delivered; nothing after it was sent.
    assert sorted(result["i"] for result in results) == [0, 1, 2, 3]
    assert local.stats("echo")["invocations"] == 4


def test_an_executor_shut_down_refuses_async_work(sleepy, local):
    executor = LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url)
    executor.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        asyncio.run(executor.ainvoke("echo", {}))


def test_invocations_go_out_in_the_order_they_were_awaited(local):
    local.add_synthetic("slow-echo", latency_ms=50)
    finished = []

    async def one(executor, i):
        await executor.ainvoke("slow-echo", {"i": i})
        finished.append(i)

    async def main(executor):
        await asyncio.gather(*(one(executor, i) for i in range(12)))

    with LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url) as executor:
        for _ in range(5):
            finished.clear()
            asyncio.run(main(executor))
            # Two at a time, in order: each call ends in its own round of two, give or take one.
            assert all(abs(finished.index(i) - i) <= 1 for i in range(12)), finished


def test_a_script_exits_cleanly_right_after_its_async_work(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent("""
        import asyncio
        from lambda_executor import LambdaExecutor, LocalLambda
        local = LocalLambda()
        local.add_synthetic("echo")
        executor = LambdaExecutor(max_workers=64, endpoint_url=local.endpoint_url)
        async def main():
            return await asyncio.gather(*(executor.ainvoke("echo", {"i": i}) for i in range(2000)))
        assert len(asyncio.run(main())) == 2000
    """)
    )
    for _ in range(4):
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
