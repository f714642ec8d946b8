"""What each invocation cost and what a batch came to: REPORT lines, stats(), warm(), progress bars."""

import re
import sys
import threading

import pytest
from helpers import boto3_lambda, zipped
from lambda_executor import FunctionError, LambdaExecutor, Stats


@pytest.fixture
def lab(local, handlers):
    local.add_function("sleep", "app.sleep", handlers, memory_size=256)
    local.add_function("fail", "app.fail", handlers)
    return local


def test_log_tail_carries_the_parsed_report_with_the_cold_start(lab):
    with LambdaExecutor(max_workers=4, endpoint_url=lab.endpoint_url, log_tail=True) as executor:
        cold = executor.submit("sleep", seconds=0.2)
        cold.result()
        warm = executor.submit("sleep", seconds=0.2)
        warm.result()
    cold_report, warm_report = cold.invocation.report, warm.invocation.report
    assert "REPORT RequestId: " + cold.invocation.request_id in cold.invocation.log_tail
    assert cold_report.cold_start and cold_report.init_duration_ms > 0
    assert not warm_report.cold_start and warm_report.init_duration_ms is None
    assert 200 <= warm_report.duration_ms <= warm_report.billed_duration_ms
    assert warm_report.memory_size_mb == 256 and 0 < warm_report.max_memory_used_mb <= 256
    assert warm_report.gb_seconds == pytest.approx(warm_report.billed_duration_ms / 1000 / 4)


def test_stats_add_up_invocations_failures_throttles_and_billing(lab):
    lab.set_reserved_concurrency("sleep", 1)
    with LambdaExecutor(max_workers=8, endpoint_url=lab.endpoint_url, log_tail=True) as executor:
        futures = [executor.submit("sleep", seconds=0.1) for _ in range(3)] + [executor.submit("fail", message="x")]
        for future in futures[:3]:
            future.result()
        with pytest.raises(FunctionError):
            futures[3].result()
        stats = executor.stats(price_per_gb_second=0.5, price_per_request=0.25)
    reports = [future.invocation.report for future in futures]
    assert (stats.invocations, stats.failures, stats.reported) == (4, 1, 4)
    # Three calls against a reserved concurrency of 1: the engine met and absorbed throttles.
    assert stats.throttles == sum(future.invocation.throttles for future in futures) >= 1
    assert stats.retries == sum(future.invocation.attempts - 1 for future in futures)
    assert stats.cold_starts == sum(report.cold_start for report in reports) == 2  # one per function
    assert stats.billed_ms == pytest.approx(sum(report.billed_duration_ms for report in reports))
    assert stats.gb_seconds == pytest.approx(sum(report.gb_seconds for report in reports))
    assert stats.estimated_cost == pytest.approx(stats.gb_seconds * 0.5 + 4 * 0.25)
    assert 0 < stats.latency_p50 <= stats.latency_p90 <= stats.latency_p99 <= stats.latency_max
    assert stats.latency_max >= 0.1
    # Which limit bound it, and the executor's limit for it: down to what Lambda allowed.
    assert stats.binding_limits["sleep"].startswith("reserved concurrency: ")
    assert stats.concurrency_limits["sleep"] < 8
    text, page = str(stats), stats._repr_html_()
    for label in ("invocations", "throttles absorbed", "cold starts", "estimated cost", "concurrency limit: sleep"):
        assert label in text and label in page
    assert page.startswith("<table>") and "<script" not in page


def test_without_the_log_tail_billing_is_unknown_not_zero(lab, executor):
    executor.submit("sleep", seconds=0).result()
    stats = executor.stats()
    assert (stats.invocations, stats.reported, stats.cold_starts, stats.estimated_cost) == (1, 0, 0, None)
    assert "needs log_tail=True" in str(stats)
    assert "<table>" in executor._repr_html_() and "running" in executor._repr_html_()
    assert isinstance(stats, Stats)


def test_warm_starts_environments_in_parallel_so_the_batch_meets_no_cold_start(lab):
    with LambdaExecutor(max_workers=8, endpoint_url=lab.endpoint_url, log_tail=True) as executor:
        assert executor.warm("sleep", 4) == 4
        assert lab.stats("sleep")["environments"] == 4
        batch = [executor.submit("sleep", seconds=0.3) for _ in range(4)]
        assert [future.result()["slept"] for future in batch] == [0.3] * 4
        assert not any(future.invocation.report.cold_start for future in batch)
        assert executor.warm("sleep", 4) == 0  # already warm
    assert lab.stats("sleep")["cold_starts"] == 4


def test_warm_raises_when_every_call_failed_and_refuses_a_missing_function(lab, executor):
    with pytest.raises(FunctionError, match="ValueError"):
        executor.warm("fail", 2)
    assert lab.stats("fail")["invocations"] == 2
    with pytest.raises(LookupError):
        executor.warm("no-such-function", 1)
    with pytest.raises(ValueError):
        executor.warm("fail", 0)


def test_warm_warns_of_calls_that_failed_and_counts_the_cold_starts_of_the_others(lab):
    # Half the answers are lost after the handler ran: those warm calls fail (nothing may be resent).
    lab.inject_faults("sleep", drop_after=0.5, seed=3)
    with LambdaExecutor(max_workers=8, endpoint_url=lab.endpoint_url) as executor:
        with pytest.warns(RuntimeWarning, match=r"(\d) of 8 warm calls of sleep failed") as warned:
            cold = executor.warm("sleep", 8)
    failed = int(re.search(r"(\d) of 8", str(warned[0].message)).group(1))
    assert 0 < failed < 8 and cold == 8 - failed


def test_map_progress_counts_done_and_failed(lab, executor, capsys):
    events = [{"message": "x"}] + [{"seconds": 0}] * 9
    assert [result["slept"] for result in executor.map("sleep", events[1:], progress=True)] == [0] * 9
    with pytest.raises(FunctionError):
        list(executor.map("fail", events[:1], progress=True))
    err = capsys.readouterr().err
    assert "sleep: 100%" in err and "9/9" in err
    assert "fail: " in err and "failed=1" in err


def test_progress_without_tqdm_is_a_clear_error_before_anything_is_sent(lab, executor, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="pip install"):
        executor.map("sleep", [{"seconds": 0}], progress=True)
    assert lab.stats("sleep")["invocations"] == 0


def test_stats_are_safe_to_read_while_invocations_run(lab, executor):
    futures = [executor.submit("sleep", seconds=0.05) for _ in range(20)]
    readings = []
    reader = threading.Thread(target=lambda: readings.extend(executor.stats().invocations for _ in range(50)))
    reader.start()
    for future in futures:
        future.result()
    reader.join()
    assert readings == sorted(readings) and executor.stats().invocations == 20


def test_stats_price_each_function_at_its_architectures_rate_and_say_which(lab, handlers):
    # An arm64 function, made as a deploy script makes it (LocalLambda runs it on this machine).
    source = (handlers / "app.py").read_text()
    boto3_lambda(lab.endpoint_url).create_function(
        FunctionName="graviton",
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/tests",
        Handler="app.sleep",
        Code={"ZipFile": zipped(app=source)},
        MemorySize=256,
        Architectures=["arm64"],
    )
    with LambdaExecutor(max_workers=4, endpoint_url=lab.endpoint_url, log_tail=True) as executor:
        for function in ("sleep", "graviton"):
            executor.submit(function, seconds=0.05).result()
        stats = executor.stats()
        asked = executor.stats(price_per_gb_second=1.0)
    arm, x86 = (stats.billed_by_function[name]["gb_seconds"] for name in ("graviton", "sleep"))
    assert stats.priced_at == {"graviton": ("arm64", 0.0000133334), "sleep": ("x86_64", 0.0000166667)}
    assert stats.estimated_cost == pytest.approx(arm * 0.0000133334 + x86 * 0.0000166667 + 2 * 0.0000002)
    assert "priced at: graviton" in str(stats) and "(arm64)" in str(stats)
    assert asked.estimated_cost == pytest.approx(arm + x86 + 2 * 0.0000002)


def test_a_cold_start_is_billed_its_init_as_lambda_bills_it_since_august_2025(lab):
    with LambdaExecutor(max_workers=1, endpoint_url=lab.endpoint_url, log_tail=True) as executor:
        future = executor.submit("sleep", seconds=0)
        future.result()
    cold = future.invocation.report
    assert cold.cold_start
    # Rounded up to the millisecond (from the two figures as printed, to two decimals each).
    init_and_duration = cold.duration_ms + cold.init_duration_ms
    assert init_and_duration - 0.01 <= cold.billed_duration_ms < init_and_duration + 1.01
