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
