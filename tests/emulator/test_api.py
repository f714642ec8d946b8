"""LocalLambda's Python API: clear errors for bad input, function management, fork safety."""

import json

import pytest
from helpers import boto3_lambda, in_forked_child
from lambda_executor import LocalLambda


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "slash/name", "dots.no"])
def test_bad_function_name_is_a_value_error(local, name):
    with pytest.raises(ValueError, match="invalid function name"):
        local.add_synthetic(name)


@pytest.mark.parametrize("handler", ["app", "app.", ".echo", "app.echo-x", "1app.echo"])
def test_malformed_handler_is_a_value_error(local, handlers, handler):
    with pytest.raises(ValueError, match=r"handler must be 'module.function'"):
        local.add_function("f", handler, handlers)


def test_unknown_handler_file_is_file_not_found(local, handlers):
    with pytest.raises(FileNotFoundError, match="handler module 'nowhere' not found"):
        local.add_function("f", "nowhere.handler", handlers)


def test_missing_code_dir_is_file_not_found(local, tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        local.add_function("f", "app.echo", tmp_path / "missing")


def test_package_handlers_are_found(local, client, tmp_path):
    package = tmp_path / "pkg" / "sub"
    package.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("def handler(event, context):\n    return {'from': 'pkg', 'event': event}\n")
    local.add_function("pkg", "pkg.sub.mod.handler", tmp_path)
    result = json.loads(client.invoke(FunctionName="pkg", Payload=b"[1]")["Payload"].read())
    assert result == {"from": "pkg", "event": [1]}


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"reserved_concurrency": -1}, "reserved_concurrency must be 0 or more"),
        ({"timeout": 0}, "timeout must be 1 to 900 seconds"),
        ({"timeout": 901}, "timeout must be 1 to 900 seconds"),
        ({"memory_size": 64}, "memory_size must be 128 to 10240 MB"),
        ({"reserved_concurrency": 1001}, "only 1000 of the account concurrency limit is unreserved"),
    ],
)
def test_bad_function_settings_are_value_errors(local, kwargs, message):
    with pytest.raises(ValueError, match=message):
        local.add_synthetic("f", **kwargs)
    assert local.functions() == []


def test_negative_concurrency_in_set_reserved_concurrency(local):
    local.add_synthetic("f")
    with pytest.raises(ValueError, match="reserved_concurrency must be 0 or more"):
        local.set_reserved_concurrency("f", -5)


def test_unknown_function_in_management_calls_is_a_key_error(local):
    for call in (
        lambda: local.stats("nope"),
        lambda: local.remove_function("nope"),
        lambda: local.set_reserved_concurrency("nope", 1),
    ):
        with pytest.raises(KeyError, match="no function named 'nope'"):
            call()


def test_duplicate_function_is_a_value_error(local):
    local.add_synthetic("f")
    with pytest.raises(ValueError, match="already exists"):
        local.add_synthetic("f")


def test_removed_function_is_not_found_and_can_be_added_again(local, client):
    local.add_synthetic("f")
    local.remove_function("f")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="f")
    local.add_synthetic("f")
    assert client.invoke(FunctionName="f")["StatusCode"] == 200
    assert local.functions() == ["f"]


def test_non_loopback_bind_is_refused_unless_asked():
    with pytest.raises(ValueError, match="allow_remote=True"):
        LocalLambda(host="0.0.0.0")
    with pytest.raises(ValueError, match="host must be an IP address"):
        LocalLambda(host="localhost.example")
    with LocalLambda(host="0.0.0.0", allow_remote=True) as exposed:
        assert exposed.endpoint_url.startswith("http://0.0.0.0:")


def test_bad_emulator_settings_are_value_errors():
    with pytest.raises(ValueError, match="account_concurrency must be at least 1"):
        LocalLambda(account_concurrency=0)
    with pytest.raises(ValueError, match="idle_timeout must be a positive number"):
        LocalLambda(idle_timeout=-1)


def test_closed_emulator_refuses_use(handlers):
    local = LocalLambda()
    local.close()
    local.close()
    assert local.closed
    with pytest.raises(RuntimeError, match="closed"):
        local.add_synthetic("f")


def test_a_closed_emulator_has_freed_its_port(handlers):
    with LocalLambda() as first:
        port = int(first.endpoint_url.rsplit(":", 1)[1])
    # Back to back, as a test suite or a script run twice does; the last one serves a call.
    for _ in range(10):
        with LocalLambda(port=port) as again:
            again.add_function("echo", "app.echo", handlers)
    with LocalLambda(port=port) as last:
        last.add_function("echo", "app.echo", handlers)
        answer = boto3_lambda(last.endpoint_url).invoke(FunctionName="echo", Payload=b"1")
        assert json.loads(answer["Payload"].read())["event"] == 1


def test_stats_count_what_happened(local, client):
    local.add_synthetic("f", reserved_concurrency=0)
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.invoke(FunctionName="f")
    local.set_reserved_concurrency("f", 5)
    client.invoke(FunctionName="f")
    assert local.stats("f") == {
        "invocations": 1,
        "throttles": 1,
        "concurrency_throttles": 1,
        "rate_throttles": 0,
        "scaling_throttles": 0,
        "cold_starts": 0,
        "peak_concurrency": 1,
        "errors": 0,
        "timeouts": 0,
        "in_flight": 0,
        "queued_events": 0,
        "environments": 0,
    }


def test_a_forked_child_builds_its_own_runtime_and_cannot_use_the_parents_emulator(local, handlers):
    local.add_function("echo", "app.echo", handlers)

    def child(report):
        try:
            local.add_synthetic("x")
        except RuntimeError as error:
            report["parent_emulator"] = str(error)
        with LocalLambda() as own:
            own.add_function("echo", "app.echo", handlers)
            client = boto3_lambda(own.endpoint_url)
            result = json.loads(client.invoke(FunctionName="echo", Payload=b'{"from": "child"}')["Payload"].read())
            report["child_result"] = result["event"]

    report = in_forked_child(child)
    assert "error" not in report, report
    assert "cannot be used after fork" in report["parent_emulator"]
    assert report["child_result"] == {"from": "child"}
    # The parent's emulator is untouched by the child's exit.
    client = boto3_lambda(local.endpoint_url)
    assert client.invoke(FunctionName="echo", Payload=b"{}")["StatusCode"] == 200


def test_function_concurrency_and_account_settings_through_boto3(local, client):
    """GetFunctionConcurrency and GetAccountSettings, which the AWS CLI calls, as Lambda answers them."""
    local.add_synthetic("free")
    local.add_synthetic("capped", reserved_concurrency=40)
    assert client.get_function_concurrency(FunctionName="capped")["ReservedConcurrentExecutions"] == 40
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName="free")
    client.put_function_concurrency(FunctionName="free", ReservedConcurrentExecutions=10)
    assert client.get_function_concurrency(FunctionName="free")["ReservedConcurrentExecutions"] == 10
    settings = client.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000 - 40 - 10
    assert settings["AccountUsage"]["FunctionCount"] == 2
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_concurrency(FunctionName="missing")
