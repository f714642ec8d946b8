"""The picture of a run: what `timeline()` keeps of each call and draws, inline and in files."""

import xml.etree.ElementTree as ElementTree

import pytest
from lambda_executor import FunctionError, LambdaExecutor, Timeline

SVG = "{http://www.w3.org/2000/svg}"


def test_a_throttled_run_with_a_failure_is_drawn_call_by_call(local, handlers, tmp_path):
    local.add_function("sleep", "app.sleep", handlers, reserved_concurrency=1)
    local.add_function("fail", "app.fail", handlers)
    with LambdaExecutor(max_workers=8, endpoint_url=local.endpoint_url, log_tail=True) as executor:
        futures = [executor.submit("sleep", seconds=0.1) for _ in range(5)]
        failing = executor.submit("fail", message="x")
        for future in futures:
            future.result()
        with pytest.raises(FunctionError):
            failing.result()
        timeline = executor.timeline()
        stats = executor.stats()
    calls = timeline.calls
    assert len(calls) == 6 and timeline.dropped == 0 and timeline.kept == 10_000
    sleeps = [call for call in calls if call["function"] == "sleep"]
    # Five calls against a reserved concurrency of 1: throttled attempts, each then a wait.
    throttled = [attempt for call in sleeps for attempt in call["attempts"] if attempt["throttled"]]
    assert len(throttled) == sum(future.invocation.throttles for future in futures) >= 1
    assert sum(len(call["attempts"]) for call in sleeps) == sum(future.invocation.attempts for future in futures)
    for call in calls:
        spans = call["attempts"]
        assert all(a["start"] <= a["end"] <= b["start"] for a, b in zip(spans, spans[1:]))
        assert not spans[-1]["throttled"]
    assert sum(call["cold_start"] for call in calls) == 2  # one environment per function
    assert [call["failed"] for call in calls if call["function"] == "fail"] == [True]
    assert all(1 <= call["limit"] <= 8 for call in calls)

    svg = ElementTree.fromstring(timeline.svg())
    titles = [title.text for title in svg.iter(f"{SVG}title")]
    assert len(titles) == 6, "one hover text per call"
    assert sum("cold start" in title for title in titles) == 2 and sum("failed" in title for title in titles) == 1
    labels = {text.text for text in svg.iter(f"{SVG}text")}
    assert {"sleep", "fail"} <= labels
    assert any(label.startswith("in flight (peak ") for label in labels)
    assert any(label.startswith("requests sent per second") for label in labels)
    assert timeline._repr_html_().startswith("<svg")
    assert isinstance(stats.timeline, Timeline) and len(stats.timeline.calls) == 6

    page = timeline.save(tmp_path / "run.html").read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page
    ElementTree.parse(timeline.save(tmp_path / "run.svg"))
    with pytest.raises(ValueError, match=r"saved as \.svg or \.html"):
        timeline.save(tmp_path / "run.png")


def test_it_keeps_the_last_ten_thousand_calls(local):
    local.add_synthetic("echo")
    with LambdaExecutor(max_workers=64, endpoint_url=local.endpoint_url) as executor:
        assert len(list(executor.map("echo", ({"i": i} for i in range(10_050))))) == 10_050
        timeline = executor.timeline()
    assert (len(timeline.calls), timeline.dropped) == (10_000, 50)
    ElementTree.fromstring(timeline.svg())


def test_before_any_call_it_says_so():
    with LambdaExecutor(endpoint_url="http://127.0.0.1:9") as executor:
        assert "no calls yet" in executor.timeline().svg()
