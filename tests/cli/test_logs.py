"""`lambda-executor logs FUNCTION` against LocalLambda: recent lines, one call's (--request-id),
every failed call's of a journal (--failed), and new lines as they come (--follow)."""

import queue
import subprocess
import sys
import threading
import time

import pytest
from lambda_executor import LambdaExecutor
from lambda_executor.cli import main

COMMAND = [sys.executable, "-m", "lambda_executor"]
TALK = """\
def handler(event, context):
    print(f"printed {event['n']}")
    if event.get("fail"):
        raise ValueError("failed on purpose")
    return event["n"]
"""


@pytest.fixture
def talk(local, tmp_path):
    (tmp_path / "talk.py").write_text(TALK)
    local.add_function("talk", "talk.handler", tmp_path)
    return "talk"


def test_request_id_prints_that_calls_lines(local, talk, capsys):
    with LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url) as executor:
        futures = [executor.submit("talk", {"n": n}) for n in range(2)]
        [future.result() for future in futures]
    request_id = futures[1].invocation.request_id
    assert main(["logs", "talk", "--endpoint-url", local.endpoint_url, "--request-id", request_id]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == futures[1].invocation.logs()
    assert printed[1] == "printed 1" and "printed 0" not in printed

    assert main(["logs", "talk", "--endpoint-url", local.endpoint_url]) == 0
    recent = capsys.readouterr().out
    assert "printed 0" in recent and "printed 1" in recent and recent.count("REPORT RequestId: ") == 2


def test_a_since_that_is_not_a_duration_is_refused(local, talk, capsys):
    assert main(["logs", "talk", "--endpoint-url", local.endpoint_url, "--since", "ten minutes"]) == 2
    assert "--since is a number and a unit (s, m, h or d), such as 10m, not 'ten minutes'" in capsys.readouterr().err


def test_failed_prints_the_lines_of_every_failed_call_of_a_journal(local, talk, tmp_path, capsys):
    journal = tmp_path / "run.journal"
    with LambdaExecutor(max_workers=4, endpoint_url=local.endpoint_url, journal=journal) as executor:
        futures = [executor.submit("talk", {"n": n, "fail": n % 2 == 1}) for n in range(6)]
        failed = [future for future in futures if future.exception() is not None]
    assert len(failed) == 3

    code = main(["logs", "talk", "--endpoint-url", local.endpoint_url, "--failed", str(journal)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    for future in failed:
        request_id = future.invocation.request_id
        assert f"== talk request {request_id}: ValueError" in captured.out
        lines = future.invocation.logs()
        assert "\n".join(lines) in captured.out
    for n in (0, 2, 4):  # the calls that succeeded
        assert f"printed {n}\n" not in captured.out
    assert "3 failed calls of talk" in captured.err


def test_follow_prints_new_lines_until_stopped(local, talk):
    with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
        executor.submit("talk", {"n": 1}).result()
        process = subprocess.Popen(
            [*COMMAND, "logs", "talk", "--endpoint-url", local.endpoint_url, "--follow", "--since", "1m"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()

        def next_line_with(text, seconds=30.0):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=deadline - time.monotonic())
                except queue.Empty:
                    break
                if text in line:
                    return line
            raise AssertionError(
                f"no line with {text!r} in {seconds} s: {process.stderr.read() if process.poll() else ''}"
            )

        try:
            next_line_with("printed 1")
            executor.submit("talk", {"n": 2}).result()
            next_line_with("printed 2")
            third = executor.submit("talk", {"n": 3})
            third.result()
            next_line_with(f"REPORT RequestId: {third.invocation.request_id}")
        finally:
            process.kill()
            process.wait(timeout=10)
