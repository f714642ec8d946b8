"""Execution environments: cold and warm starts, idle reaping, timeouts, crashes, import errors,
and no process outliving the emulator."""

import base64
import json
import subprocess
import sys
import textwrap
import time

from helpers import boto3_lambda, pid_alive, wait_for
from lambda_executor import LambdaExecutor, LocalLambda


def call(client, name, event):
    response = client.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
    return response, json.loads(response["Payload"].read())


def test_warm_environment_keeps_module_state_and_a_cold_one_starts_fresh(local, client, handlers):
    local.add_function("echo", "app.echo", handlers)
    _, first = call(client, "echo", {})
    _, second = call(client, "echo", {})
    assert second["pid"] == first["pid"]
    assert (first["invocations"], second["invocations"]) == (1, 2)
    assert local.stats("echo")["cold_starts"] == 1


def test_idle_environments_are_reaped(handlers):
    with LocalLambda(idle_timeout=0.3) as local:
        local.add_function("echo", "app.echo", handlers)
        client = boto3_lambda(local.endpoint_url)
        _, first = call(client, "echo", {})
        wait_for(lambda: local.stats("echo")["environments"] == 0, seconds=5)
        wait_for(lambda: not pid_alive(first["pid"]), seconds=5)
        _, second = call(client, "echo", {})
        assert second["pid"] != first["pid"]
        assert second["invocations"] == 1
        assert local.stats("echo")["cold_starts"] == 2


def test_concurrent_invocations_each_get_their_own_environment(local, handlers):
    local.add_function("sleep", "app.sleep", handlers)
    client = boto3_lambda(local.endpoint_url, max_pool_connections=4)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: call(client, "sleep", {"seconds": 0.5})[1], range(4)))
    assert len({result["pid"] for result in results}) == 4
    stats = local.stats("sleep")
    assert (stats["cold_starts"], stats["peak_concurrency"], stats["environments"]) == (4, 4, 4)


def test_timeout_kills_the_environment_and_the_next_call_is_cold(local, client, handlers, tmp_path):
    local.add_function("hang", "app.spawn_and_hang", handlers, timeout=1)
    pid_file = tmp_path / "pids"
    started = time.monotonic()
    response, document = call(client, "hang", {"pid_file": str(pid_file)})
    elapsed = time.monotonic() - started
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert document == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }
    assert 1.0 <= elapsed < 10
    assert "Status: timeout" in base64.b64decode(response["LogResult"]).decode()
    runtime_pid, grandchild_pid = map(int, pid_file.read_text().split())
    # The whole process group goes: the runtime and what the handler started.
    wait_for(lambda: not pid_alive(runtime_pid) and not pid_alive(grandchild_pid), seconds=5)
    stats = local.stats("hang")
    assert (stats["timeouts"], stats["environments"]) == (1, 0)
    call(client, "hang", {"pid_file": str(pid_file)})
    assert local.stats("hang")["cold_starts"] == 2


def test_crash_is_runtime_exit_error_and_the_next_call_cold_starts(local, client, handlers):
    local.add_function("crash", "app.crash", handlers)
    response, document = call(client, "crash", {})
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert document == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 3",
    }
    log = base64.b64decode(response["LogResult"]).decode()
    assert "crashing now" in log
    assert "Status: error\tError Type: Runtime.ExitError" in log
    call(client, "crash", {})
    assert local.stats("crash")["cold_starts"] == 2


def test_import_failure_is_runtime_import_module_error(local, client, handlers):
    local.add_function("broken", "broken_import.handler", handlers)
    response, document = call(client, "broken", {})
    assert response["FunctionError"] == "Unhandled"
    assert document["errorType"] == "Runtime.ImportModuleError"
    assert "lambda_executor_no_such_module" in document["errorMessage"]
    assert local.stats("broken")["environments"] == 0


def test_missing_handler_function_is_reported_by_the_runtime(local, client, handlers):
    local.add_function("missing", "app.no_such_function", handlers)
    response, document = call(client, "missing", {})
    assert response["FunctionError"] == "Unhandled"
    assert document["errorType"] == "Runtime.HandlerNotFound"


def test_response_over_6_mb_is_function_response_size_too_large(local, client, handlers):
    local.add_function("huge", "app.huge_response", handlers)
    response, document = call(client, "huge", {})
    assert response["FunctionError"] == "Unhandled"
    assert document["errorType"] == "Function.ResponseSizeTooLarge"


def test_closing_the_emulator_ends_every_environment(handlers):
    local = LocalLambda()
    local.add_function("echo", "app.echo", handlers)
    client = boto3_lambda(local.endpoint_url)
    _, result = call(client, "echo", {})
    assert pid_alive(result["pid"])
    local.close()
    wait_for(lambda: not pid_alive(result["pid"]), seconds=5)


def test_no_environment_outlives_a_killed_python_process(handlers, tmp_path):
    """SIGKILL gives the emulator no chance to clean up: each environment sees its lifeline to
    the emulator close, and ends with what its handler started."""
    pid_file = tmp_path / "pids"
    script = textwrap.dedent(f"""
        import json, sys, time
        sys.path.insert(0, {str(handlers.parent)!r})
        from helpers import boto3_lambda
        from lambda_executor import LocalLambda
        local = LocalLambda()
        local.add_function("echo", "app.echo", {str(handlers)!r})
        local.add_function("hang", "app.spawn_and_hang", {str(handlers)!r}, timeout=120)
        client = boto3_lambda(local.endpoint_url)
        result = json.loads(client.invoke(FunctionName="echo", Payload=b"{{}}")["Payload"].read())
        hang = json.dumps({{"pid_file": {str(pid_file)!r}}})
        client.invoke(FunctionName="hang", InvocationType="Event", Payload=hang)
        print(result["pid"], flush=True)
        time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        echo_pid = int(process.stdout.readline())
        wait_for(lambda: pid_file.exists() and len(pid_file.read_text().split()) == 2, seconds=30)
        hang_pid, grandchild_pid = map(int, pid_file.read_text().split())
        assert all(map(pid_alive, (echo_pid, hang_pid, grandchild_pid)))
    finally:
        process.kill()
        process.wait()
    wait_for(lambda: not any(map(pid_alive, (echo_pid, hang_pid, grandchild_pid))), seconds=5)


def test_a_burst_of_cold_starts_past_the_machine_meets_no_timeout_lambda_would_not_give(local, handlers):
    # 120 calls of a 0.2 s handler with a 1 s timeout at once, on a machine of a few cores: Lambda
    # would start 120 environments, each on CPU of its own, and time none out.
    local.add_function("sleep", "app.sleep", handlers, timeout=1)
    with LambdaExecutor(max_workers=120, endpoint_url=local.endpoint_url, log_tail=True) as executor:
        futures = [executor.submit("sleep", seconds=0.2) for _ in range(120)]
        results = [future.result(timeout=120) for future in futures]
    assert results == [{"slept": 0.2, "pid": result["pid"]} for result in results]
    stats = local.stats("sleep")
    assert stats["timeouts"] == 0 and stats["errors"] == 0
    # The calls that waited for their turn to start an environment took one that became idle
    # meanwhile, and their wait is counted as init.
    assert stats["cold_starts"] < 120
    cold = [future.invocation.report for future in futures if future.invocation.report.cold_start]
    assert len(cold) == stats["cold_starts"]
