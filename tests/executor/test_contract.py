"""The Executor contract where users meet its edges: forked children, cancelled futures and the
waiters that count them, what `map` sends when an event is bad, future states, and the messages
of the errors users see."""

import multiprocessing
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import FIRST_COMPLETED, as_completed, wait

import pytest
from helpers import ScriptedServer, free_port
from lambda_executor import (
    ConfigurationError,
    InvocationError,
    LambdaError,
    LambdaExecutor,
    PayloadTooLargeError,
    RetryPolicy,
)


def _child_map(endpoint, first):
    """A forked child's own work: a small map with its own executor, then a normal exit (which
    runs the library's exit hook, as multiprocessing's children do)."""
    with LambdaExecutor(endpoint_url=endpoint) as mine:
        ok = list(mine.map("echo", range(first, first + 5))) == list(range(first, first + 5))
    sys.exit(0 if ok else 3)


def test_children_forked_while_a_batch_is_in_flight_run_their_own_work_and_exit(local):
    local.add_synthetic("echo")
    local.add_synthetic("slow", latency_ms=150)
    fork = multiprocessing.get_context("fork")
    with LambdaExecutor(max_workers=40, endpoint_url=local.endpoint_url) as parent:
        batch = [parent.submit("slow", i) for i in range(400)]  # about 1.5 s, completing all along
        children = []
        for n in range(16):
            child = fork.Process(target=_child_map, args=(local.endpoint_url, 10 * n))
            child.start()
            children.append(child)
            time.sleep(0.05)
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
                child.join()
        assert [child.exitcode for child in children] == [0] * len(children)
        assert [future.result(timeout=60) for future in batch] == list(range(400))


def test_a_cancelled_future_counts_as_done_for_wait_and_as_completed(local):
    local.add_synthetic("slow", latency_ms=300)
    with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
        running = executor.submit("slow", 1)
        queued = executor.submit("slow", 2)
        assert queued.cancel()
        done, _ = wait([queued, running], timeout=10, return_when=FIRST_COMPLETED)
        assert queued in done
        assert list(as_completed([queued], timeout=10)) == [queued]
        assert running.result(timeout=10) == 1
        assert set(as_completed([queued, running], timeout=10)) == {queued, running}


def test_futures_cancelled_by_shutdown_count_as_done(local):
    local.add_synthetic("slow", latency_ms=300)
    executor = LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url)
    futures = [executor.submit("slow", i) for i in range(5)]
    deadline = time.monotonic() + 5
    while not futures[0].running() and time.monotonic() < deadline:
        time.sleep(0.01)
    executor.shutdown(wait=False, cancel_futures=True)
    finished = list(as_completed(futures, timeout=10))
    assert len(finished) == 5
    assert sum(future.cancelled() for future in futures) == 4
    executor.shutdown()


def test_a_sent_invocation_is_running_in_its_state_and_repr(local):
    local.add_synthetic("slow", latency_ms=500)
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        future = executor.submit("slow", 1)
        deadline = time.monotonic() + 5
        while not future.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert future.running()
        assert "state=running" in repr(future)
        assert not future.cancel()
        assert future.result(timeout=10) == 1
        assert "state=finished" in repr(future)


def test_a_bad_event_anywhere_in_map_raises_before_anything_is_sent(local):
    local.add_synthetic("echo")
    good = [{"i": i} for i in range(999)]

    def raising_generator():
        yield from good
        raise OSError("the source failed")

    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        with pytest.raises(TypeError, match=r"event 999 .*\['bad'\]\[1\]: .*set"):
            executor.map("echo", [*good, {"bad": [1, {2}]}])
        with pytest.raises(PayloadTooLargeError, match="event 999 "):
            executor.map("echo", [*good, {"blob": "x" * 7_000_000}])
        with pytest.raises(OSError, match="the source failed"):
            executor.map("echo", raising_generator())
    assert local.stats("echo")["invocations"] == 0


def test_with_buffersize_map_yields_what_was_sent_before_a_bad_event_raises(local):
    local.add_synthetic("echo")
    events = [{"i": i} for i in range(50)] + [{"bad": {1}}] + [{"i": i} for i in range(50, 60)]
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        results = executor.map("echo", events, buffersize=8)
        received = []
        with pytest.raises(TypeError, match=r"event 50 .*\['bad'\]"):
            for result in results:
                received.append(result)
    assert received == events[:50]
    assert local.stats("echo")["invocations"] == 50, "nothing after the bad event was sent"


def test_events_nested_deeper_than_can_be_read_back_are_refused_before_sending(local):
    local.add_synthetic("echo")

    def nested(depth):
        event = []
        for _ in range(depth - 1):
            event = [event]
        return event

    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        assert executor.submit("echo", nested(127)).result(timeout=10) == nested(127)
        with pytest.raises(TypeError, match="nests deeper than 127"):
            executor.submit("echo", nested(128))
        with pytest.raises(TypeError, match="nests deeper than 127"):
            executor.submit("echo", nested(200))
    assert local.stats("echo")["invocations"] == 1


def test_a_response_that_is_not_json_is_a_failure_naming_function_and_request_everywhere(tmp_path):
    server = ScriptedServer([(200, None, "<html>proxy says hi</html>")] * 3)
    journal = tmp_path / "run.journal"
    try:
        with LambdaExecutor(endpoint_url=server.url, journal=journal, retry_failed=False) as executor:
            error = executor.submit("my-function", {}).exception(timeout=10)
            assert executor.stats().failures == 1
        assert isinstance(error, InvocationError) and isinstance(error, LambdaError)
        assert error.error_code == "UnreadableResult"
        assert "my-function" in str(error) and "scripted-1" in str(error)
        assert error.request_id == "scripted-1"
        # The journal keeps it as failed: a rerun replays it unsent only as retry_failed=False says ...
        with LambdaExecutor(endpoint_url=server.url, journal=journal, retry_failed=False) as executor:
            replayed = executor.submit("my-function", {}).exception(timeout=10)
        assert isinstance(replayed, InvocationError) and replayed.error_code == "UnreadableResult"
        assert server.requests == 1
        # ... and by default sends it again.
        with LambdaExecutor(endpoint_url=server.url, journal=journal) as executor:
            assert executor.submit("my-function", {}).exception(timeout=10).error_code == "UnreadableResult"
        assert server.requests == 2
    finally:
        server.close()


def test_a_profile_that_does_not_exist_is_named_with_the_profiles_found(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\n[profile dev]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    says = r"the AWS profile 'nosuch' does not exist .*\(profiles found: default, dev\)"
    with pytest.raises(ConfigurationError, match=says):
        LambdaExecutor(endpoint_url="http://127.0.0.1:9")
    monkeypatch.delenv("AWS_PROFILE")
    with pytest.raises(ConfigurationError, match=says.replace("nosuch", "other")):
        LambdaExecutor(endpoint_url="http://127.0.0.1:9", profile="other")
    # A profile that exists is taken, as before.
    with LambdaExecutor(endpoint_url="http://127.0.0.1:9", profile="dev"):
        pass


def test_the_cli_prints_the_whole_of_a_configuration_error(monkeypatch, capsys):
    from lambda_executor.cli import main

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert main(["invoke", "f", "--endpoint-url", "http://127.0.0.1:9"]) == 1
    first, *providers = capsys.readouterr().err.splitlines()
    assert first.startswith("lambda-executor invoke: no AWS credentials found")
    assert any(line.startswith("  - Environment:") for line in providers), providers


def test_configuration_and_connection_errors_are_sentences_not_debug_dumps(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ConfigurationError) as missing:
        LambdaExecutor(endpoint_url="http://127.0.0.1:9")
    first, *providers = str(missing.value).splitlines()
    assert first.startswith("no AWS credentials found: set AWS_ACCESS_KEY_ID")
    assert 1 <= len(providers) <= 10 and all(line.startswith("  - ") for line in providers)
    assert any(line.startswith("  - Environment:") for line in providers)
    assert "CredentialsNotLoaded" not in str(missing.value) and "{" not in str(missing.value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    refused = f"http://127.0.0.1:{free_port()}"
    with LambdaExecutor(endpoint_url=refused, retry=RetryPolicy(max_retries=0)) as executor:
        error = executor.submit("f", {}).exception(timeout=30)
    assert isinstance(error, InvocationError)
    text = str(error)
    assert "refused" in text.lower()
    assert "ConnectorError" not in text and "Os {" not in text and "{" not in text


def test_the_cli_names_its_own_options_in_configuration_errors(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    out = subprocess.run([sys.executable, "-m", "lambda_executor", "list"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "--region" in out.stderr and "region=" not in out.stderr


def test_a_throttle_met_on_the_only_attempt_reads_as_english(local):
    local.add_synthetic("busy")
    local.inject_faults("busy", throttle=1.0)
    with LambdaExecutor(endpoint_url=local.endpoint_url, retry=RetryPolicy(throttle_timeout=0)) as executor:
        error = executor.submit("busy", {}).exception(timeout=10)
    assert "on its only attempt" in str(error) and "every one of 1" not in str(error)


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"max_workers": True}, TypeError, "max_workers must be an int"),
        ({"max_workers": 10**30}, ValueError, "max_workers must be 1 to 100000"),
        ({"max_workers": 0}, ValueError, "max_workers must be 1 to 100000"),
    ],
)
def test_bad_max_workers_say_what_is_allowed(arguments, error, words):
    with pytest.raises(error, match=words):
        LambdaExecutor(**arguments)


def test_bad_retry_counts_say_what_is_allowed():
    with pytest.raises(ValueError, match="max_retries must be 0 to 1000, not -1"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="max_retries must be 0 to 1000"):
        RetryPolicy(max_retries=10**30)


SCRIPT = """
import sys, time
from lambda_executor import LambdaExecutor
try:
    with LambdaExecutor(endpoint_url=sys.argv[1]) as executor:
        futures = [executor.submit("slow", i) for i in range(3)]
        while not all(future.running() for future in futures):
            time.sleep(0.01)
        print("leaving", flush=True)
        raise ValueError("leave the block while calls are in flight")
except ValueError:
    pass
"""


def test_one_interrupt_stops_waiting_for_calls_in_flight_and_says_what_was_abandoned(local):
    local.add_synthetic("slow", latency_ms=30_000)
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), local.endpoint_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "leaving"
        time.sleep(0.3)  # in __exit__, waiting for the three calls
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=15)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "KeyboardInterrupt" in stderr
    assert "3 invocations" in stderr and "may have run" in stderr


def test_map_holds_back_large_payloads_past_its_budget_and_still_runs_them_all(local, monkeypatch):
    import lambda_executor.mapping

    monkeypatch.setattr(lambda_executor.mapping, "MAP_CONVERTED_BYTES", 1_000_000)
    local.add_synthetic("echo", latency_ms=20)
    events = [{"i": i, "blob": "x" * 200_000} for i in range(30)]  # 6 MB: most held back at first
    with LambdaExecutor(max_workers=4, endpoint_url=local.endpoint_url) as executor:
        results = executor.map("echo", events)
        assert local.stats("echo")["invocations"] < 30
        assert [result["i"] for result in results] == list(range(30))
        held = executor.map("echo", events)  # left unread: the with block still waits for them all
    del held
    assert local.stats("echo")["invocations"] == 60


def test_leaving_a_map_early_cancels_what_it_held_back(local, monkeypatch):
    import lambda_executor.mapping

    monkeypatch.setattr(lambda_executor.mapping, "MAP_CONVERTED_BYTES", 1_000_000)
    local.add_synthetic("echo", latency_ms=100)
    events = [{"i": i, "blob": "x" * 200_000} for i in range(30)]
    with LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url) as executor:
        results = executor.map("echo", events)
        assert next(results)["i"] == 0
        results.close()
    assert local.stats("echo")["invocations"] < 30
