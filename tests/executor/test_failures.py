"""Retry rules at the connection level, configuration errors, fork."""

import socket
import subprocess
import sys
import threading
import time

import pytest
from helpers import DroppingServer, ScriptedServer, free_port, in_forked_child, read_request
from lambda_executor import (
    ConfigurationError,
    ConnectionLostError,
    FunctionNotFoundError,
    InvocationError,
    LambdaExecutor,
    PayloadTooLargeError,
    RetryPolicy,
)

FAST = dict(base_delay=0.001, max_delay=0.01)


@pytest.mark.parametrize(
    "status,error_type",
    [
        (500, "ServiceException"),
        (502, "ResourceNotReadyException"),
        (409, "ResourceConflictException"),
        (502, "ENILimitReachedException"),
    ],
)
def test_lambda_being_unavailable_is_retried_a_few_times(status, error_type):
    server = ScriptedServer([(status, error_type)] * 2)
    try:
        with LambdaExecutor(endpoint_url=server.url, retry=RetryPolicy(max_retries=3, **FAST)) as executor:
            future = executor.submit("f", {})
            assert future.result(timeout=30) == {"ok": True}
        assert future.invocation.attempts == 3
    finally:
        server.close()


def test_lambda_staying_unavailable_is_an_invocation_error_after_max_retries():
    server = ScriptedServer([(500, "ServiceException")] * 10)
    try:
        with LambdaExecutor(endpoint_url=server.url, retry=RetryPolicy(max_retries=2, **FAST)) as executor:
            with pytest.raises(InvocationError, match=r"ServiceException.*still failing after 3 attempts") as caught:
                executor.submit("f", {}).result(timeout=30)
        assert caught.value.status_code == 500
        assert server.requests == 3
    finally:
        server.close()


@pytest.mark.parametrize(
    "status,error_type,expected,message",
    [
        (400, "InvalidParameterValueException", InvocationError, "InvalidParameterValueException"),
        (403, "AccessDeniedException", InvocationError, "AccessDeniedException"),
        (413, "RequestTooLargeException", PayloadTooLargeError, "RequestTooLargeException"),
        (404, "ResourceNotFoundException", FunctionNotFoundError, "ResourceNotFoundException"),
        # A modelled 5xx that retrying cannot mend.
        (502, "KMSAccessDeniedException", InvocationError, "KMSAccessDeniedException"),
        # A 5xx that is not Lambda's (a proxy's, say) does not prove the function did not run.
        (504, None, ConnectionLostError, "HTTP 504 without a Lambda error type"),
    ],
)
def test_answers_that_retrying_cannot_mend_fail_at_once(status, error_type, expected, message):
    server = ScriptedServer([(status, error_type)])
    try:
        with LambdaExecutor(endpoint_url=server.url, retry=RetryPolicy(max_retries=3, **FAST)) as executor:
            with pytest.raises(expected, match=message):
                executor.submit("f", {}).result(timeout=30)
        assert server.requests == 1
    finally:
        server.close()


@pytest.mark.parametrize("status", [404, 403, 501])
def test_an_endpoint_that_is_not_lambda_says_so_naming_function_endpoint_and_status(status):
    server = ScriptedServer([(status, None, "<html>not here</html>")], request_id=False)
    try:
        with LambdaExecutor(endpoint_url=server.url, retry=RetryPolicy(max_retries=3, **FAST)) as executor:
            error = executor.submit("my-function", {}).exception(timeout=30)
        # Not "the function does not exist": the endpoint is what is wrong.
        assert type(error) is InvocationError, repr(error)
        assert (error.error_code, error.status_code) == ("NotLambda", status)
        for said in ("my-function", server.url, f"HTTP {status}", "does not look like Lambda"):
            assert said in str(error), str(error)
        assert server.requests == 1
    finally:
        server.close()


def test_a_refused_connection_names_the_function_and_the_endpoint():
    url = f"http://127.0.0.1:{free_port()}"
    with LambdaExecutor(endpoint_url=url, retry=RetryPolicy(max_retries=1, **FAST)) as executor:
        error = executor.submit("my-function", {}).exception(timeout=30)
    assert isinstance(error, InvocationError) and f"my-function at {url}" in str(error), str(error)


def test_a_refused_connection_was_never_sent_and_is_retried():
    url = f"http://127.0.0.1:{free_port()}"
    with LambdaExecutor(endpoint_url=url, retry=RetryPolicy(max_retries=3, **FAST)) as executor:
        future = executor.submit("f", {})
        with pytest.raises(InvocationError, match="could not reach Lambda after 4 attempts") as caught:
            future.result(timeout=30)
    assert not isinstance(caught.value, ConnectionLostError)
    assert future.invocation.attempts == 4


def test_a_connection_lost_after_sending_is_not_retried_unless_opted_in():
    server = DroppingServer()
    try:
        with LambdaExecutor(endpoint_url=server.url, retry=RetryPolicy(max_retries=3, **FAST)) as executor:
            future = executor.submit("f", {"charge": 100})
            with pytest.raises(ConnectionLostError, match="may have run"):
                future.result(timeout=30)
        assert future.invocation.attempts == 1
        assert server.requests == 1
        opted_in = RetryPolicy(max_retries=2, retry_after_sent=True, **FAST)
        with LambdaExecutor(endpoint_url=server.url, retry=opted_in) as executor:
            future = executor.submit("f", {})
            with pytest.raises(ConnectionLostError):
                future.result(timeout=30)
        assert future.invocation.attempts == 3
        assert server.requests == 4
    finally:
        server.close()


def test_missing_region_is_a_configuration_error_at_once(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ConfigurationError, match="no AWS region configured"):
        LambdaExecutor(endpoint_url="http://127.0.0.1:9")


def test_missing_credentials_is_a_configuration_error_without_secrets(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value-that-must-not-leak")
    started = time.monotonic()
    with pytest.raises(ConfigurationError, match="no AWS credentials found") as caught:
        LambdaExecutor(endpoint_url="http://127.0.0.1:9")
    assert time.monotonic() - started < 20
    assert "s3cr3t" not in str(caught.value)


def test_a_bad_endpoint_and_bad_options_are_refused():
    with pytest.raises(ConfigurationError, match="endpoint_url must be an http"):
        LambdaExecutor(endpoint_url="ftp://127.0.0.1")
    with pytest.raises(ValueError, match="max_workers must be 1 to 100000"):
        LambdaExecutor(max_workers=0, endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="invocation_type must be"):
        LambdaExecutor(invocation_type="DryRun", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="base_delay must not exceed max_delay"):
        RetryPolicy(base_delay=2, max_delay=1)


def test_endpoint_from_aws_endpoint_url_lambda(local, monkeypatch):
    local.add_synthetic("echo")
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", local.endpoint_url)
    with LambdaExecutor() as executor:
        assert executor.submit("echo", [1]).result(timeout=10) == [1]


def test_a_bad_endpoint_in_aws_endpoint_url_lambda_is_refused_at_creation(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://")
    with pytest.raises(ConfigurationError, match="endpoint_url must be an http:// or https:// URL with a host"):
        LambdaExecutor()


def test_executor_in_a_forked_child(local):
    local.add_synthetic("echo")
    executor = LambdaExecutor(endpoint_url=local.endpoint_url)
    assert executor.submit("echo", 1).result(timeout=10) == 1

    def child(report):
        try:
            executor.submit("echo", 2)
        except RuntimeError as error:
            report["inherited"] = str(error)
        with LambdaExecutor(endpoint_url=local.endpoint_url) as fresh:
            report["result"] = fresh.submit("echo", {"child": True}).result(timeout=10)

    report = in_forked_child(child)
    assert "error" not in report, report
    assert "cannot be used after fork" in report["inherited"]
    assert report["result"] == {"child": True}
    assert executor.submit("echo", 3).result(timeout=10) == 3
    executor.shutdown()


def test_work_submitted_before_the_interpreter_exits_is_finished(local, handlers, tmp_path):
    """As with ThreadPoolExecutor, a script may end right after submit: the call still happens."""
    local.add_function("record", "app.record", handlers)
    out = tmp_path / "ran.txt"
    script = (
        "from lambda_executor import LambdaExecutor\n"
        f"executor = LambdaExecutor(endpoint_url={local.endpoint_url!r})\n"
        f"executor.submit('record', path={str(out)!r}, n=1, seconds=0.3)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("1 ")


def test_a_pooled_connection_the_server_closed_while_idle_is_not_a_failure():
    """The server answers once per connection and then closes it, as servers do with idle
    keep-alive connections: the next call must not meet the dead connection as 'may have run'."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    served = []
    stop = threading.Event()

    def serve():
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                connection, _ = listener.accept()
            except socket.timeout:
                continue
            with connection:
                body = read_request(connection)
                served.append(body)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                time.sleep(0.05)  # kept alive for a moment, then closed while idle

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with LambdaExecutor(max_workers=1, endpoint_url=url, retry=RetryPolicy(max_retries=0)) as executor:
            for i in range(3):
                future = executor.submit("f", {"i": i})
                assert future.result(timeout=30) == {"i": i}
                assert future.invocation.attempts == 1
                time.sleep(0.3)
        assert len(served) == 3
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_read_timeout_bounds_a_silent_server_and_the_call_may_have_run():
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the backlog) and never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with LambdaExecutor(endpoint_url=url, read_timeout=0.5) as executor:
            future = executor.submit("f", {})
            with pytest.raises(ConnectionLostError, match="may have run"):
                future.result(timeout=30)
        assert future.invocation.attempts == 1
    finally:
        silent.close()


@pytest.mark.parametrize("endpoint", ["http://", "https://", "http:///path", "ftp://host", "localhost:9000"])
def test_an_endpoint_without_a_host_is_a_configuration_error(endpoint):
    with pytest.raises(ConfigurationError, match="endpoint_url must be an http:// or https:// URL with a host"):
        LambdaExecutor(endpoint_url=endpoint)


@pytest.mark.parametrize("setting", ["connect_timeout", "read_timeout"])
@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf")])
def test_timeouts_must_be_positive_seconds(setting, value):
    with pytest.raises(ValueError, match=f"{setting} must be more than 0"):
        LambdaExecutor(**{setting: value})
