"""LambdaExecutor(max_cost=...): once what the calls that ran cost reaches the cap, nothing more is
sent; calls waiting fail with BudgetExceeded, calls in flight finish, and nothing is lost."""

import re

import pytest
from lambda_executor import BudgetExceeded, LambdaExecutor
from lambda_executor.stats import PRICE_PER_GB_SECOND, PRICE_PER_REQUEST

# A call of the synthetic function below: 100 ms billed at 1024 MB, and the request.
COST_OF_ONE = 0.1 * PRICE_PER_GB_SECOND + PRICE_PER_REQUEST
WORKERS = 2


@pytest.fixture
def priced(local):
    local.add_synthetic("priced", latency_ms=100, memory_size=1024)
    return local


def outcomes(futures):
    """(results, BudgetExceeded errors), after every future resolved."""
    results, refused = [], []
    for future in futures:
        error = future.exception(timeout=60)
        if error is None:
            results.append(future.result())
        else:
            assert isinstance(error, BudgetExceeded), error
            refused.append(error)
    return results, refused


def test_nothing_more_is_sent_once_the_cap_is_reached(priced):
    cap = 10 * COST_OF_ONE
    with LambdaExecutor(max_workers=WORKERS, endpoint_url=priced.endpoint_url, max_cost=cap) as executor:
        futures = [executor.submit("priced", {"i": i}) for i in range(40)]
        results, refused = outcomes(futures)
        stats = executor.stats()
    # The cap is reached after 10 calls; the calls in flight then finish.
    assert 10 <= len(results) <= 10 + WORKERS
    assert len(results) + len(refused) == 40
    assert priced.stats("priced")["invocations"] == len(results), "a refused call reached Lambda"
    # Every call asked for its log tail, without log_tail=True: that is how it was costed.
    assert all(future.invocation.report is not None for future in futures if not future.exception())
    first = refused[0]
    assert first.max_cost == cap and first.spent >= cap
    assert first.waiting == 40 - len(results)
    assert f"the {first.waiting} calls waiting then were not sent" in str(first)
    assert stats.max_cost == cap and stats.spent >= cap
    assert stats.not_sent_over_cap == len(refused)
    # The cap as it was set, however small (a cap of a few calls is a fraction of a cent).
    shown = re.search(r"spend cap +\$[\d.,]+ of \$([\d.,]+)", str(stats))
    assert shown and float(shown[1]) == pytest.approx(cap, rel=1e-3), str(stats)


def test_calls_the_cap_kept_back_are_sent_by_a_rerun_with_a_journal(priced, tmp_path):
    journal = tmp_path / "run.db"
    events = [{"i": i} for i in range(30)]
    with LambdaExecutor(
        max_workers=WORKERS, endpoint_url=priced.endpoint_url, max_cost=5 * COST_OF_ONE, journal=journal
    ) as executor:
        first_results, refused = outcomes([executor.submit("priced", event) for event in events])
    assert refused
    with LambdaExecutor(max_workers=WORKERS, endpoint_url=priced.endpoint_url, journal=journal) as executor:
        assert list(executor.map("priced", events)) == events
        assert executor.stats().from_journal == len(first_results)
    assert priced.stats("priced")["invocations"] == 30, "each call ran exactly once"


@pytest.mark.parametrize(
    "settings,why",
    [
        ({"max_cost": 0}, "max_cost must be a positive number"),
        ({"max_cost": float("inf")}, "max_cost must be a positive number"),
        ({"max_cost": 1.0, "invocation_type": "Event"}, "max_cost needs synchronous invocations"),
    ],
)
def test_a_cap_that_cannot_be_kept_is_refused_at_once(settings, why):
    with pytest.raises(ValueError, match=why):
        LambdaExecutor(endpoint_url="http://127.0.0.1:9", **settings)
