"""The scripts in examples/ as a user runs them: offline with --local, and against a Lambda named
by the environment (as against AWS), each in a subprocess. The notebook's test is in
tests/notebook/."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lambda_executor.bundle import AGENT_HANDLER, stage
from lambda_executor.cli.demo import DEMO_HANDLERS

EXAMPLES = Path(__file__).parents[1] / "examples"


def run_example(script, *arguments, **environment):
    """The script's run. `environment` adds to this process's (which the tests keep away from
    AWS), without FUNCTION_NAME or AGENT_FUNCTION unless given."""
    inherited = {name: value for name, value in os.environ.items() if name not in ("FUNCTION_NAME", "AGENT_FUNCTION")}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *arguments],
        capture_output=True,
        text=True,
        env={**inherited, **environment},
        timeout=120,
    )


def output_of(script, *arguments, **environment):
    """The script's output; it must succeed."""
    run = run_example(script, *arguments, **environment)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_seed_lab_gets_all_ten_calls_through_a_reserved_concurrency_of_two_offline():
    out = output_of("seed_lab.py", "--local")
    assert out.count("data was processed") == 10
    stats = out.rsplit("LocalLambda: ", 1)[1]
    assert "'invocations': 10" in stats and "'peak_concurrency': 2" in stats


def test_the_seed_lab_calls_the_function_and_lambda_the_environment_names(local):
    local.add_function("lab", "lab.do_something", DEMO_HANDLERS, reserved_concurrency=2)
    out = output_of("seed_lab.py", FUNCTION_NAME="lab", AWS_ENDPOINT_URL_LAMBDA=local.endpoint_url)
    assert out.count("data was processed") == 10
    assert local.stats("lab")["invocations"] == 10


@pytest.fixture
def expected_summary(monkeypatch):
    """What the pipeline must print for each station: its readings' minimum, mean and maximum,
    computed here in one pass rather than in chunks."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    pipeline = importlib.import_module("pipeline")
    temperatures = {}
    for station, temperature in pipeline.readings(pipeline.READINGS):
        temperatures.setdefault(station, []).append(temperature)
    return [
        f"{station:<10} min {min(values):5.1f}  mean {sum(values) / len(values):5.1f}  max {max(values):5.1f}  "
        f"({len(values):,} readings)"
        for station, values in sorted(temperatures.items())
    ]


def test_the_pipeline_summarises_its_chunks_in_lambda_offline(expected_summary):
    out = output_of("pipeline.py", "--local")
    assert out.splitlines() == [*expected_summary, "200,000 readings in 20 chunks, summarised by 20 invocations"]


def test_the_pipeline_calls_the_agent_and_lambda_the_environment_names(local, tmp_path, expected_summary):
    stage([EXAMPLES / "weather.py"], tmp_path)
    local.add_function("weather-agent", AGENT_HANDLER, tmp_path, timeout=30)
    out = output_of("pipeline.py", AGENT_FUNCTION="weather-agent", AWS_ENDPOINT_URL_LAMBDA=local.endpoint_url)
    assert out.splitlines()[:-1] == expected_summary
    assert local.stats("weather-agent")["invocations"] == 20


@pytest.mark.parametrize("script", ["seed_lab.py", "pipeline.py"])
def test_a_script_given_no_function_says_how_to_run_it(script):
    run = run_example(script)
    assert run.returncode == 2
    assert "or pass --local to run offline" in run.stderr
