"""The `lambda-executor` command as a newcomer runs it."""

import json
import os
import signal
import subprocess
import sys

from helpers import boto3_lambda, local_command

COMMAND = [sys.executable, "-m", "lambda_executor"]


def test_console_script_is_installed():
    script = os.path.join(os.path.dirname(sys.executable), "lambda-executor")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "demo" in result.stdout and "local" in result.stdout


def test_local_serves_until_interrupted(handlers):
    arguments = ["--synthetic", "echo", "--function", "hello", "app.echo", str(handlers), "--reserved", "echo=3"]
    with local_command(*arguments, "--timeout", "hello=7", "--memory", "hello=256") as (process, endpoint_url):
        client = boto3_lambda(endpoint_url)
        assert client.invoke(FunctionName="echo", Payload=b'{"x": 1}')["Payload"].read() == b'{"x": 1}'
        assert client.invoke(FunctionName="hello", Payload=b"{}")["StatusCode"] == 200
        configuration = client.get_function_configuration(FunctionName="hello")
        assert (configuration["Timeout"], configuration["MemorySize"]) == (7, 256)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "LocalLambda stopped." in out


def test_local_prints_what_to_export_and_a_newcomer_can_invoke_with_it():
    """Every Lambda client signs and needs a region: the lines `local` prints are enough, on a
    machine with no AWS configuration at all."""
    process = subprocess.Popen(
        [*COMMAND, "local", "--synthetic", "echo", "--rate-limit", "off", "--scaling-limit", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        exports = {}
        for _ in range(20):
            line = process.stdout.readline().strip()
            if line.startswith("Press Ctrl-C"):
                break
            for assignment in line.removeprefix("export ").split() if line.startswith("export ") else ():
                name, _, value = assignment.partition("=")
                exports[name] = value
        assert set(exports) == {
            "AWS_ENDPOINT_URL_LAMBDA",
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        }, exports
        bare = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        result = subprocess.run(
            [*COMMAND, "invoke", "echo", '{"x": 1}'],
            env={**bare, **exports},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"x": 1}
    finally:
        process.kill()
        process.communicate()


def test_local_refuses_a_limit_that_is_not_a_number():
    result = subprocess.run([*COMMAND, "local", "--rate-limit", "fast"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "--rate-limit: takes a positive number or 'off', not 'fast'" in result.stderr


def test_local_reports_bad_arguments_in_one_line():
    result = subprocess.run([*COMMAND, "local", "--reserved", "ghost=2"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "ghost" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_says_its_version():
    from lambda_executor import __version__

    out = subprocess.run(
        [sys.executable, "-m", "lambda_executor", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout.strip() == f"lambda-executor {__version__}"
