"""The resume journal with real SQLite files, LocalLambda and real processes killed with SIGKILL:
what a rerun returns without sending, what it sends again, and the journals it refuses."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from helpers import wait_for
from lambda_executor import ConnectionLostError, FunctionError, JournalError, LambdaExecutor
from lambda_executor.cli import main


def test_a_rerun_returns_what_succeeded_from_the_journal_without_sending_it(local, tmp_path):
    local.add_synthetic("echo")
    journal = tmp_path / "run.db"
    # The same payload more than once is that many invocations: results stay positional.
    events = [{"n": n % 7} for n in range(40)]
    with LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal) as executor:
        first = list(executor.map("echo", events))
    assert first == events
    assert local.stats("echo")["invocations"] == 40
    with LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal) as executor:
        futures = [executor.submit("echo", event) for event in [*events, {"n": 0}]]
        assert [future.result(timeout=30) for future in futures] == [*events, {"n": 0}]
        assert all(future.invocation.from_journal for future in futures[:40])
        assert not futures[40].invocation.from_journal, "an 8th {'n': 0} was never sent before"
        stats = executor.stats()
    assert local.stats("echo")["invocations"] == 41, "only the new call was sent"
    assert (stats.from_journal, stats.invocations, stats.resent_in_flight) == (40, 1, 0)


def test_a_journal_deleted_while_in_use_stops_the_sending_with_an_error_that_says_so(local, tmp_path):
    local.add_synthetic("echo")
    journal = tmp_path / "run.db"
    executor = LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal)
    # The second call's, and the first's too if the file went before its outcome was written.
    with pytest.warns(RuntimeWarning, match=r"the outcomes of [12] calls could not be written .*deleted"), executor:
        assert executor.submit("echo", {"n": 1}).result(timeout=30) == {"n": 1}
        os.remove(journal)
        # Another process may now open a new file at the path: this run must not go on as if
        # its calls were recorded there.
        with pytest.raises(JournalError, match=r"echo was not called: the journal .*run\.db was deleted or replaced"):
            executor.submit("echo", {"n": 2}).result(timeout=30)
    assert local.stats("echo")["invocations"] == 1, "nothing was sent once the journal was gone"


FULL_DISK_RUN = """
import json, os, resource, signal, sys, warnings
from lambda_executor import JournalError, LambdaExecutor, LocalLambda

journal = sys.argv[1]
with LocalLambda() as local:
    local.add_synthetic("echo", latency_ms=20)
    with LambdaExecutor(max_workers=32, endpoint_url=local.endpoint_url, journal=journal) as executor:
        executor.submit("echo", {"n": -1}).result()
        # The disk fills: no file of this process may grow past a few hundred KB more.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        used = max(os.path.getsize(name) for name in (journal, journal + "-wal") if os.path.exists(name))
        resource.setrlimit(resource.RLIMIT_FSIZE, (used + 300_000, resource.RLIM_INFINITY))
        futures = [executor.submit("echo", {"n": n, "pad": "x" * 2000}) for n in range(400)]
        outcomes = [type(future.exception()).__name__ if future.exception() else "ok" for future in futures]
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            executor.shutdown()
        unrecorded = executor.stats().journal_unrecorded
print(json.dumps({"outcomes": outcomes, "unrecorded": unrecorded, "warnings": [str(w.message) for w in warned]}))
"""


def test_outcomes_a_full_disk_keeps_from_the_journal_are_counted_and_warned_of(tmp_path):
    journal = tmp_path / "run.db"
    run = subprocess.run(
        [sys.executable, "-c", FULL_DISK_RUN, str(journal)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    outcomes = report["outcomes"]
    # Calls the journal could not mark as sent were not sent; the others ran.
    assert set(outcomes) <= {"ok", "JournalError"}, set(outcomes)
    assert "JournalError" in outcomes, "the disk never filled"
    # Some ran whose outcome could not be written: counted, and warned of, not silently lost.
    assert report["unrecorded"] > 0
    said = f"the outcomes of {report['unrecorded']} calls could not be written"
    assert any(said in warning for warning in report["warnings"]), report["warnings"]


def test_map_and_amap_take_a_journal_of_their_own(local, tmp_path):
    import asyncio

    local.add_synthetic("echo")
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        assert list(executor.map("echo", range(10), journal=tmp_path / "map.db")) == list(range(10))
        assert list(executor.map("echo", range(10), journal=tmp_path / "map.db")) == list(range(10))
        assert local.stats("echo")["invocations"] == 10

        async def collect():
            return [result async for result in executor.amap("echo", range(5), journal=tmp_path / "amap.db")]

        assert asyncio.run(collect()) == list(range(5))
        assert asyncio.run(collect()) == list(range(5))
    assert local.stats("echo")["invocations"] == 15


def test_a_failure_is_sent_again_by_default_or_returned_as_stored(local, handlers, tmp_path):
    local.add_function("fail", "app.fail", handlers)
    journal = tmp_path / "run.db"
    with LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal) as executor:
        first = executor.submit("fail", {"message": "bad input"}).exception(timeout=30)
    assert isinstance(first, FunctionError)
    with LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal, retry_failed=False) as executor:
        future = executor.submit("fail", {"message": "bad input"})
        stored = future.exception(timeout=30)
    assert future.invocation.from_journal
    assert type(stored) is type(first) and isinstance(stored, FunctionError)
    assert (stored.error_type, str(stored)) == (first.error_type, str(first)), "the remote traceback too"
    assert local.stats("fail")["invocations"] == 1
    with LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal) as executor:
        assert isinstance(executor.submit("fail", {"message": "bad input"}).exception(timeout=30), FunctionError)
    assert local.stats("fail")["invocations"] == 2, "retry_failed=True (the default) sends it again"


def test_bad_journals_are_refused_at_creation_naming_the_file_and_nothing_is_sent(local, tmp_path):
    local.add_synthetic("echo")
    text = tmp_path / "notes.txt"
    text.write_text("not a journal\n" * 200)
    with pytest.raises(JournalError, match=f"the journal {text} is not a lambda-executor journal"):
        LambdaExecutor(endpoint_url=local.endpoint_url, journal=text)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    connection.close()
    with pytest.raises(JournalError, match="is an SQLite database, but not a lambda-executor journal"):
        LambdaExecutor(endpoint_url=local.endpoint_url, journal=other)
    newer = tmp_path / "newer.db"
    LambdaExecutor(endpoint_url=local.endpoint_url, journal=newer).shutdown()
    with sqlite3.connect(newer) as connection:
        connection.execute("PRAGMA user_version = 7")
    connection.close()
    with pytest.raises(JournalError, match=r"newer lambda-executor \(schema 7"):
        LambdaExecutor(endpoint_url=local.endpoint_url, journal=newer)
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        with pytest.raises(JournalError, match="not a lambda-executor journal"):
            executor.map("echo", [1, 2], journal=text)
    assert local.stats("echo")["invocations"] == 0


def test_a_journal_in_use_by_another_process_is_a_clear_error(local, tmp_path):
    journal = tmp_path / "run.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom lambda_executor import LambdaExecutor\n"
            f"executor = LambdaExecutor(endpoint_url={local.endpoint_url!r}, journal={str(journal)!r})\n"
            "print('holding', flush=True)\ntime.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(JournalError, match="is in use by another process"):
            LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal)
    finally:
        holder.kill()
        holder.wait()
    LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal).shutdown()  # free once it is gone


RUN_MAP = """
import json, sys
from lambda_executor import LambdaExecutor
with LambdaExecutor(max_workers=16, endpoint_url=sys.argv[1], journal=sys.argv[2]) as executor:
    results = list(executor.map("slow", [{{"n": n % 50}} for n in range({calls})]))
    stats = executor.stats()
print(json.dumps({{"results": results, "from_journal": stats.from_journal,
                  "resent_in_flight": stats.resent_in_flight, "sent": stats.invocations}}))
"""


def test_a_map_killed_with_sigkill_resumes_and_sends_again_only_what_was_in_flight(local, tmp_path):
    local.add_synthetic("slow", latency_ms=20)
    calls = 2000
    journal, script = tmp_path / "run.db", tmp_path / "run_map.py"
    script.write_text(RUN_MAP.format(calls=calls))
    command = [sys.executable, str(script), local.endpoint_url, str(journal)]
    killed = subprocess.Popen(command, stdout=subprocess.PIPE)
    wait_for(lambda: local.stats("slow")["invocations"] >= calls // 3, seconds=60)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    sent_before = local.stats("slow")["invocations"]
    assert sent_before < calls, "killed partway"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    outcome = json.loads(rerun.stdout)
    assert outcome["results"] == [{"n": n % 50} for n in range(calls)]
    sent_in_all = local.stats("slow")["invocations"]
    # Nothing that had succeeded (and was recorded) was sent again: only what was in flight at
    # the kill (and outcomes not yet committed), and those are counted.
    assert 0 < outcome["resent_in_flight"] <= 16 + 64, outcome["resent_in_flight"]
    assert calls <= sent_in_all <= calls + outcome["resent_in_flight"]
    assert outcome["from_journal"] + outcome["sent"] == calls
    assert outcome["from_journal"] >= sent_before - outcome["resent_in_flight"]


def test_what_was_in_flight_at_a_kill_is_refused_with_resume_in_flight_false(local, tmp_path):
    local.add_synthetic("slow", latency_ms=3000)
    journal, script = tmp_path / "run.db", tmp_path / "run_map.py"
    script.write_text(RUN_MAP.format(calls=8))
    killed = subprocess.Popen([sys.executable, str(script), local.endpoint_url, str(journal)])
    wait_for(lambda: local.stats("slow")["invocations"] == 8, seconds=30)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    with LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal, resume_in_flight=False) as executor:
        errors = [executor.submit("slow", {"n": n}).exception(timeout=30) for n in range(8)]
        stats = executor.stats()
    assert all(isinstance(error, ConnectionLostError) for error in errors), errors
    assert "in flight when an earlier run using the journal" in str(errors[0]) and str(journal) in str(errors[0])
    assert local.stats("slow")["invocations"] == 8, "nothing was sent again"
    assert (stats.invocations, stats.resent_in_flight) == (0, 0)


def test_the_journal_command_shows_counts_failures_and_exports_results(local, handlers, tmp_path, capsys):
    local.add_synthetic("echo")
    local.add_function("fail", "app.fail", handlers)
    journal = tmp_path / "run.db"
    with LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal) as executor:
        assert list(executor.map("echo", range(12))) == list(range(12))
        executor.submit("fail", {"message": "bad input"}).exception(timeout=30)
    assert main(["journal", str(journal)]) == 0
    shown = capsys.readouterr().out
    assert f"{journal}: 13 invocations of 2 functions" in shown
    assert [line.split()[:5] for line in shown.splitlines() if line.startswith(("echo", "fail"))][:2] == [
        ["echo", "12", "0", "0", "0"],
        ["fail", "0", "1", "0", "0"],
    ]
    assert "first failures" in shown and "bad input" in shown
    assert main(["journal", str(journal), "--failed"]) == 0
    failed = capsys.readouterr().out.splitlines()
    assert len(failed) == 1 and failed[0].startswith("fail payload ") and "bad input" in failed[0]
    out = tmp_path / "results.jsonl"
    assert main(["journal", str(journal), "--export", str(out)]) == 0
    assert "wrote 12 results" in capsys.readouterr().out
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["result"] for line in lines) == list(range(12))
    assert {line["function"] for line in lines} == {"echo"}
    assert main(["journal", str(tmp_path / "missing.db")]) == 2
    assert "no journal at" in capsys.readouterr().err


def test_a_kill_never_leaves_a_journal_that_cannot_be_opened(local, tmp_path):
    """SIGKILL at moments spread over a run: each time the file opens clean and resumes."""
    local.add_synthetic("echo")
    journal, script = tmp_path / "run.db", tmp_path / "run_map.py"
    script.write_text(RUN_MAP.format(calls=3000).replace('"slow"', '"echo"'))
    command = [sys.executable, str(script), local.endpoint_url, str(journal)]
    for delay in (0.3, 0.6, 0.9, 1.2):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        LambdaExecutor(endpoint_url=local.endpoint_url, journal=journal).shutdown()
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(rerun.stdout)["results"] == [{"n": n % 50} for n in range(3000)]
