"""LambdaPool: multiprocessing.pool.ThreadPool's API over the agent, against LocalLambda."""

import multiprocessing

import pytest
from helpers import AGENT_CODE
from lambda_executor import FunctionError, LambdaPool
from lambda_executor.bundle import AGENT_HANDLER, stage


@pytest.fixture
def pool_of(local, tmp_path):
    stage([AGENT_CODE / "mathwork.py"], tmp_path)
    local.add_function("agent", AGENT_HANDLER, tmp_path)
    pools = []

    def make(processes):
        pools.append(LambdaPool(processes, function="agent", endpoint_url=local.endpoint_url))
        return pools[-1]

    yield make
    for pool in pools:
        pool.terminate()


def test_the_thread_pool_api_calls_functions_in_lambda(pool_of, mathwork):
    with pool_of(4) as pool:
        assert pool.apply(mathwork.add, (1, 2)) == 3
        assert pool.apply(mathwork.describe, (1,), {"k": "v"}) == {"args": [1], "kwargs": {"k": "v"}}
        assert pool.map(mathwork.add, range(10)) == list(range(10))
        assert pool.starmap(mathwork.add, [(1, 2), (3, 4)]) == [3, 7]
        assert list(pool.imap(mathwork.add, range(5))) == [0, 1, 2, 3, 4]
        assert sorted(pool.imap_unordered(mathwork.add, range(5))) == [0, 1, 2, 3, 4]
        assert pool.starmap_async(mathwork.add, [(1, 1)]).get(timeout=30) == [2]


def test_async_results_behave_as_multiprocessing_ones(pool_of, mathwork):
    pool = pool_of(2)
    seen = []
    slow = pool.apply_async(mathwork.slow, (0.5,), callback=seen.append)
    with pytest.raises(ValueError, match="not ready"):
        slow.successful()
    with pytest.raises(multiprocessing.TimeoutError):
        slow.get(timeout=0.05)
    assert not slow.ready()
    slow.wait()
    assert slow.ready() and slow.successful() and slow.get() == 0.5 and seen == [0.5]

    errors = []
    failing = pool.map_async(mathwork.fail, ["a"], error_callback=errors.append)
    failing.wait(timeout=30)
    assert failing.ready() and not failing.successful()
    with pytest.raises(FunctionError) as raised:
        failing.get()
    assert raised.value.error_type == "WorkError" and errors == [raised.value]

    results = []
    pool.map_async(mathwork.add, [1, 2, 3], callback=results.append).wait(timeout=30)
    assert results == [[1, 2, 3]]


def test_close_then_join_waits_for_the_work_and_refuses_more(pool_of, mathwork):
    pool = pool_of(2)
    pending = pool.map_async(mathwork.slow, [0.2] * 4)
    with pytest.raises(ValueError, match="still running"):
        pool.join()
    pool.close()
    with pytest.raises(ValueError, match="not running"):
        pool.apply_async(mathwork.add, (1,))
    pool.join()
    assert pending.ready() and pending.get() == [0.2] * 4


def test_terminate_cancels_what_was_not_sent(pool_of, local, mathwork):
    pool = pool_of(1)
    pending = pool.map_async(mathwork.slow, [0.3] * 20)
    pool.terminate()
    pool.join()
    assert pending.ready() and not pending.successful()
    assert local.stats("agent")["invocations"] <= 2


def test_a_pool_needs_its_agent_function_and_a_process():
    with pytest.raises(TypeError, match="function="):
        LambdaPool(4)
    with pytest.raises(ValueError, match="at least 1"):
        LambdaPool(0, function="agent")


def test_every_map_returns_the_same_whatever_the_chunksize(pool_of, local, mathwork):
    numbers = list(range(50))
    with pool_of(3) as pool:
        for chunksize in (1, 7, 50, 60):
            assert pool.map(mathwork.add, numbers, chunksize) == numbers
            assert pool.map_async(mathwork.add, numbers, chunksize).get(timeout=30) == numbers
            assert pool.starmap(mathwork.add, zip(numbers, numbers), chunksize) == [2 * n for n in numbers]
            assert pool.starmap_async(mathwork.add, [(n, 1) for n in numbers], chunksize).get(timeout=30) == [
                n + 1 for n in numbers
            ]
            assert list(pool.imap(mathwork.add, numbers, chunksize)) == numbers
            assert sorted(pool.imap_unordered(mathwork.add, numbers, chunksize)) == numbers
        sent = local.stats("agent")["invocations"]
        assert sent == 6 * (50 + 8 + 1 + 1)


def test_map_chooses_the_chunksize_as_multiprocessing_does(pool_of, local, mathwork):
    with pool_of(2) as pool:
        # 100 calls, 2 processes: 100 / (4 x 2) = 12.5, so chunks of 13, 8 invocations.
        assert pool.map(mathwork.add, range(100)) == list(range(100))
        assert local.stats("agent")["invocations"] == 8
        assert pool.map(mathwork.add, []) == []
        assert pool.map(mathwork.add, [5]) == [5]
        stats = pool.stats()
        assert (stats.invocations, stats.chunks, stats.chunked_calls) == (9, 8, 100), "a single call is not a chunk"
        with pytest.raises(ValueError, match="chunksize"):
            pool.map(mathwork.add, [1], chunksize=0)


@pytest.mark.parametrize("chunksize", [1, 4])
def test_imap_raises_each_failed_call_in_its_turn_and_goes_on(pool_of, mathwork, chunksize):
    numbers = [0, 1, 2, 4, 0, 5, 8, 10, 20, 0]  # failures first, in the middle and last
    expected = ["failed" if n == 0 else 1 / n for n in numbers]

    def outcomes(results, count):
        seen = []
        for _ in range(count):
            try:
                seen.append(next(results))
            except ZeroDivisionError as error:
                assert isinstance(error, FunctionError) and any("reciprocal" in line for line in error.stack_trace)
                seen.append("failed")
        with pytest.raises(StopIteration):
            next(results)
        return seen

    with pool_of(2) as pool:
        assert outcomes(pool.imap(mathwork.reciprocal, numbers, chunksize), len(numbers)) == expected
        unordered = outcomes(pool.imap_unordered(mathwork.reciprocal, numbers, chunksize), len(numbers))
        assert sorted(unordered, key=str) == sorted(expected, key=str)
        # map raises a failed call's error, as multiprocessing does.
        with pytest.raises(ZeroDivisionError):
            pool.map(mathwork.reciprocal, numbers, chunksize)
        errors = []
        failing = pool.map_async(mathwork.reciprocal, numbers, chunksize, error_callback=errors.append)
        failing.wait(timeout=30)
        assert not failing.successful() and isinstance(errors[0], ZeroDivisionError)
