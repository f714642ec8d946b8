"""`lambda-executor demo` as a newcomer runs it: no AWS configuration, offline. The demo runs once
for the module's tests (it takes half a minute); its time is not asserted."""

import os
import re
import subprocess
import sys
import textwrap

import pytest
from lambda_executor.cli import demo

# Each snippet the demo runs, in the order it runs them.
SNIPPETS = [
    demo.SETUP,
    demo.BATCH,
    demo.THROTTLED_BATCH,
    demo.THROTTLED_BATCH_WITH_BOTO3,
    demo.STATS,
    demo.HANDLER_ERROR,
    demo.STOPPED_RUN,
    demo.RESUMED_RUN,
]
TABLE_ROW = r"^    {label}\s+(?P<seconds>[\d.]+) s\s+(?P<succeeded>\d+)\s+(?P<failed>\d+)\s+(?P<throttled>\d+)$"


def run_demo(tmp_path, *, without=()):
    """The demo's run (stdout, stderr), on a machine with no AWS configuration nor proxy, with the
    modules `without` missing as if not installed."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and not name.lower().endswith("_proxy")
    }
    environment.update(
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    # A module None in sys.modules is one that cannot be imported, as if not installed.
    program = f"import sys; sys.modules.update(dict.fromkeys({list(without)!r})); " + (
        "from lambda_executor.cli import main; sys.exit(main(['demo']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=environment, timeout=240
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Done.")
    return result.stdout, result.stderr


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo"))


def test_the_demo_prints_each_snippet_of_python_before_it_runs_it(demo_run):
    out, _ = demo_run
    places = [out.find(textwrap.indent(snippet, "    ")) for snippet in SNIPPETS]
    assert -1 not in places and places == sorted(places), places
    # Each snippet's output follows it.
    assert out.index("3000 results, in order: [{'item': 0}, {'item': 1}]") > places[1]
    assert out.index("caught ZeroDivisionError") > places[5]


def test_the_batch_shows_a_progress_bar(demo_run):
    _, err = demo_run
    assert "echo: 100%" in err and "3000/3000" in err


def test_the_throttled_batch_through_lambda_executor_loses_no_call_beside_boto3s_modes(demo_run):
    out, _ = demo_run
    executor = re.search(TABLE_ROW.format(label="LambdaExecutor"), out, re.MULTILINE)
    assert executor, out
    assert (executor["succeeded"], executor["failed"]) == ("40", "0")
    assert int(executor["throttled"]) >= 36  # 36 of the first 40 calls at once are over 4
    assert float(executor["seconds"]) >= 5.0  # 40 calls of 0.5 s, 4 at a time
    for label in (r"boto3 \+ threads, default retries \(\w+\)", r"boto3 \+ threads, adaptive retries"):
        boto3 = re.search(TABLE_ROW.format(label=label), out, re.MULTILINE)
        assert boto3, (label, out)
        assert int(boto3["succeeded"]) + int(boto3["failed"]) == 40
        assert int(boto3["throttled"]) > 0  # the same LocalLambda throttled them too


def test_the_executors_stats_are_printed(demo_run):
    out, _ = demo_run
    stats = out.split("print(executor.stats())", 1)[1]
    assert re.search(r"^invocations\s+40$", stats, re.MULTILINE)
    assert re.search(r"^failures\s+0$", stats, re.MULTILINE)
    assert re.search(r"^binding limit: lab\s+reserved concurrency: 4$", stats, re.MULTILINE)


def test_the_handlers_error_is_caught_as_its_builtin_type_with_the_remote_traceback(demo_run):
    out, _ = demo_run
    caught = out.split("caught ZeroDivisionError: ", 1)[1]
    assert caught.startswith("ZeroDivisionError in divide: division by zero (request ")
    assert re.search(
        r'Remote traceback \(most recent call last\):\n  File ".*lab\.py", line \d+, in divide\n'
        r'    return event\["numerator"\] / event\["denominator"\]\n',
        caught,
    ), caught


def test_the_resumed_run_sends_only_the_calls_the_stopped_one_did_not_finish(demo_run):
    out, _ = demo_run
    first = int(re.search(r"LocalLambda ran (\d+) of the 20 calls", out).group(1))
    assert 8 <= first < 20  # the 8 taken, and those in flight then (4 at a time)
    assert f"20 results, {first} of them from the journal" in out
    assert f"LocalLambda ran {20 - first} calls this time: only the rest." in out


def test_without_boto3_and_tqdm_the_demo_says_so_and_shows_the_rest(tmp_path):
    out, _ = run_demo(tmp_path, without=("boto3", "tqdm"))
    assert "boto3 is not installed, so the comparison with boto3 and threads is skipped" in out
    assert "tqdm is not installed, so the batch with a progress bar is skipped" in out
    assert re.search(TABLE_ROW.format(label="LambdaExecutor"), out, re.MULTILINE)
    assert "boto3 + threads" not in out
    assert "caught ZeroDivisionError" in out
    assert "only the rest." in out
