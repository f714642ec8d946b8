"""`tune` and `executor.tune`: each memory size measured from REPORT lines and priced, the best
picked and applied, and nothing the run made left behind, whether it ends, fails, is interrupted
with Ctrl-C or killed with SIGKILL (against LocalLambda, and moto's Lambda as a third-party
control plane for the version and alias calls)."""

import json
import signal
import subprocess
import sys

import boto3
import pytest
from helpers import boto3_lambda, cli, needs_cgroups, wait_for
from lambda_executor import LambdaExecutor
from lambda_executor.stats import PRICE_PER_REQUEST, PRICES_PER_GB_SECOND


def what_tune_left(client, name):
    """The function's published versions and aliases, and $LATEST's memory."""
    versions = [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]]
    aliases = [a["Name"] for a in client.list_aliases(FunctionName=name)["Aliases"]]
    memory = client.get_function_configuration(FunctionName=name)["MemorySize"]
    return [v for v in versions if v != "$LATEST"], aliases, memory


def test_each_size_is_measured_priced_and_undone(local):
    """CPU-bound work (LocalLambda's synthetic CPU work: 100 ms at one vCPU) runs faster with more
    memory up to one vCPU (1,769 MB) and no faster after, as on Lambda."""
    local.add_synthetic("work", cpu_ms=100, memory_size=300)
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        result = executor.tune("work", memory_sizes=(256, 885, 1769, 3008), invocations=5, concurrency=2)
    assert [size.memory for size in result.sizes] == [256, 885, 1769, 3008]
    billed = {size.memory: size.billed_ms for size in result.sizes}
    price = PRICES_PER_GB_SECOND["x86_64"]
    for size in result.sizes:
        assert (size.failures, size.invocations) == (0, 5)
        assert size.cost == pytest.approx(size.billed_ms / 1000 * size.memory / 1024 * price + PRICE_PER_REQUEST)
        assert size.billed_ms <= size.billed_ms_p90
    assert billed[256] / billed[1769] > 4 and 1.5 < billed[885] / billed[1769] < 3, billed
    assert 0.8 < billed[3008] / billed[1769] < 1.25, billed
    # Speed stops at 1,769 MB; so does cost per GB-second of work: balanced picks one vCPU.
    assert result.best == 1769 and result.strategy == "balanced" and result.applied is None
    assert what_tune_left(boto3_lambda(local.endpoint_url), "work") == ([], [], 300)
    text = str(result)
    assert "best for balanced: 1769 MB" in text
    assert "<table>" in result._repr_html_() and "<svg" in result._repr_html_()


@needs_cgroups
def test_a_size_that_runs_out_of_memory_is_reported_and_the_others_still_run(local, handlers):
    assert local.cgroups in ("v1", "v2")
    local.add_function("hungry", "app.allocate", handlers, memory_size=512, timeout=30)
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        result = executor.tune("hungry", [{"mb": 300}], memory_sizes=(128, 1024), invocations=2, concurrency=1)
    small, large = result.sizes
    assert (small.failures, small.invocations) == (1, 1), "the environment died at its start: nothing more sent"
    assert small.error.startswith("Runtime.OutOfMemory: ") and small.billed_ms is None
    assert (large.failures, large.invocations) == (0, 2) and large.billed_ms > 0
    assert large.cold_starts == 1 and large.cold_start_ms > 0, "its one environment's start, counted apart"
    assert result.best == 1024
    assert what_tune_left(boto3_lambda(local.endpoint_url), "hungry") == ([], [], 512)


def test_apply_sets_latest_or_an_alias(local, capsys):
    local.add_synthetic("work", memory_size=256)
    client = boto3_lambda(local.endpoint_url)
    common = ["--endpoint-url", local.endpoint_url, "--event", json.dumps({"cpu_ms": 50})]
    common += ["--memory", "128,512", "--invocations", "3", "--concurrency", "1"]
    code, out, err = cli(capsys, "tune", "work", *common, "--strategy", "speed", "--apply")
    assert code == 0, err
    assert "best for speed: 512 MB; applied: $LATEST set to 512 MB" in out
    assert what_tune_left(client, "work") == ([], [], 512)

    code, out, err = cli(capsys, "tune", "work", *common, "--strategy", "cost", "--apply", "--alias", "live")
    assert code == 0, err
    versions, aliases, memory = what_tune_left(client, "work")
    assert aliases == ["live"] and memory == 512, "$LATEST as it was"
    live = client.get_alias(FunctionName="work", Name="live")["FunctionVersion"]
    assert versions == [live] and f"alias live points at version {live}" in out
    assert client.get_function_configuration(FunctionName="work", Qualifier="live")["MemorySize"] == 128


def test_bad_options_are_refused_before_anything_changes(local, capsys):
    local.add_synthetic("work")
    url = ["--endpoint-url", local.endpoint_url]
    assert cli(capsys, "tune", "work:1", *url)[2].endswith("not a qualified one ('work:1')\n")
    assert "memory sizes are 128 to 10240 MB" in cli(capsys, "tune", "work", *url, "--memory", "64")[2]
    assert "give --apply with it" in cli(capsys, "tune", "work", *url, "--alias", "live")[2]
    assert "--event must be JSON" in cli(capsys, "tune", "work", *url, "--event", "{")[2]
    assert "there is no function 'nothing'" in cli(capsys, "tune", "nothing", *url)[2]
    assert what_tune_left(boto3_lambda(local.endpoint_url), "work") == ([], [], 128)


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT])
def test_a_run_stopped_midway_leaves_nothing_behind(local, stop):
    """Ctrl-C: the command undoes its run; SIGKILL: its guard process does."""
    local.add_synthetic("work", memory_size=300)
    client = boto3_lambda(local.endpoint_url)
    command = [sys.executable, "-m", "lambda_executor", "tune", "work", "--endpoint-url", local.endpoint_url]
    command += ["--event", json.dumps({"sleep_ms": 300}), "--memory", "128,256,512,1024"]
    tune = subprocess.Popen([*command, "--invocations", "20", "--concurrency", "1"])
    try:
        wait_for(lambda: what_tune_left(client, "work")[1], seconds=60)  # an alias: mid-run
        tune.send_signal(stop)
        tune.wait(timeout=60)
    finally:
        tune.kill()
    assert tune.returncode != 0
    wait_for(lambda: what_tune_left(client, "work") == ([], [], 300), seconds=60)


def test_the_version_and_alias_calls_against_motos_lambda(moto_server, moto_role, tmp_path):
    """moto's Lambda runs no code here (no REPORT lines, so no size is chosen), but it answers the
    control-plane calls as a server nobody here wrote: what tune made is gone afterwards."""
    import io
    import zipfile

    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    client = boto3.client("lambda", endpoint_url=moto_server, region_name="us-east-1")
    client.create_function(
        FunctionName="work",
        Runtime="python3.12",
        Role=moto_role,
        Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
        MemorySize=300,
    )
    with LambdaExecutor(endpoint_url=moto_server) as executor:
        result = executor.tune("work", memory_sizes=(128, 512), invocations=2, concurrency=1)
    assert [size.memory for size in result.sizes] == [128, 512] and result.best is None
    assert what_tune_left(client, "work") == ([], [], 300)
