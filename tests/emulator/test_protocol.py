"""boto3, a client nobody here wrote, drives LocalLambda's Invoke API: it speaks the real protocol."""

import base64
import json
import re

import pytest
from botocore.exceptions import ClientError
from helpers import raw_invoke, wait_for


def invoke(client, name, event=None, **kwargs):
    if event is not None:
        kwargs["Payload"] = json.dumps(event)
    response = client.invoke(FunctionName=name, **kwargs)
    response["body"] = response["Payload"].read()
    return response


def decoded_log(response):
    return base64.b64decode(response["LogResult"]).decode()


def test_invoke_returns_the_handler_result_with_lambda_headers(local, client, handlers):
    local.add_function("echo", "app.echo", handlers, memory_size=256, environment={"GREETING": "hi"})
    response = invoke(client, "echo", {"n": 1, "nested": {"ok": [1, 2]}})
    result = json.loads(response["body"])
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert re.fullmatch(r"[0-9a-f-]{36}", response["ResponseMetadata"]["RequestId"])
    assert result["event"] == {"n": 1, "nested": {"ok": [1, 2]}}
    assert result["function_name"] == "echo"
    assert result["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:echo"
    assert result["memory_limit_in_mb"] == "256"
    assert 0 < result["remaining_ms"] <= 3000
    assert result["greeting"] == "hi"
    # As Lambda gives its role's session credentials: LocalLambda's placeholders, never the caller's.
    assert result["caller_secret"] == "local-lambda-role-secret", "the caller's credentials leaked into the function"


def test_function_references_and_qualifiers(local, client, handlers):
    local.add_function("echo", "app.echo", handlers)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:echo"
    for name, qualifier, version in [
        (arn, None, "$LATEST"),
        ("echo", "$LATEST", "$LATEST"),
        (f"{arn}:$LATEST", None, "$LATEST"),
    ]:
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        response = invoke(client, name, {}, **kwargs)
        assert response["StatusCode"] == 200, name
        assert response["ExecutedVersion"] == version, name
    with pytest.raises(ClientError) as conflict:
        invoke(client, "echo:$LATEST", {}, Qualifier="other")
    assert conflict.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_handler_exception_is_a_function_error_with_the_runtime_error_document(local, client, handlers):
    local.add_function("fail", "app.fail", handlers)
    response = invoke(client, "fail", {"message": "bad input 42"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    document = json.loads(response["body"])
    assert document["errorType"] == "ValueError"
    assert document["errorMessage"] == "bad input 42"
    assert document["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert any("app.py" in frame and "in fail" in frame for frame in document["stackTrace"])


def test_log_tail_has_start_end_report_and_init_duration_only_when_cold(local, client, handlers):
    local.add_function("echo", "app.echo", handlers)
    cold = invoke(client, "echo", {}, LogType="Tail")
    warm = invoke(client, "echo", {}, LogType="Tail")
    for response, invocation in ((cold, 1), (warm, 2)):
        request_id = response["ResponseMetadata"]["RequestId"]
        log = decoded_log(response)
        assert log.startswith(f"START RequestId: {request_id} Version: $LATEST\n")
        assert f"echo invocation {invocation}\n" in log
        assert f"END RequestId: {request_id}\n" in log
        report = re.search(
            r"REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t"
            r"Memory Size: 128 MB\tMax Memory Used: \d+ MB(.*)",
            log,
        )
        assert report, log
    assert re.search(r"Init Duration: [\d.]+ ms", decoded_log(cold))
    assert "Init Duration" not in decoded_log(warm)
    assert "LogResult" not in invoke(client, "echo", {})


def test_log_tail_is_the_last_4_kb_and_holds_stdout_and_stderr(local, client, handlers):
    local.add_function("chatty", "app.chatty", handlers)
    response = invoke(client, "chatty", {"lines": 200}, LogType="Tail")
    raw = base64.b64decode(response["LogResult"])
    assert len(raw) == 4096
    log = raw.decode()
    assert "line 00199" in log and "line 00000" not in log
    assert "last line\n" in log
    assert "REPORT RequestId" in log


def test_client_context_reaches_the_handler(local, client, handlers):
    local.add_function("echo", "app.echo", handlers)
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t-1"}}).encode()).decode()
    result = json.loads(invoke(client, "echo", {}, ClientContext=context)["body"])
    assert result["client_context"] == {"tenant": "t-1"}


def test_dry_run_validates_without_running(local, client, handlers):
    local.add_function("echo", "app.echo", handlers)
    assert invoke(client, "echo", {}, InvocationType="DryRun")["StatusCode"] == 204
    assert local.stats("echo")["invocations"] == 0


def test_event_invocation_is_accepted_then_runs(local, client, handlers, tmp_path):
    local.add_function("record", "app.record", handlers)
    out = tmp_path / "events.txt"
    response = invoke(client, "record", {"path": str(out), "n": 1}, InvocationType="Event")
    assert response["StatusCode"] == 202
    assert response["body"] == b""
    wait_for(lambda: out.exists() and out.read_text().startswith("1 "))
    assert local.stats("record")["invocations"] == 1


def test_unknown_function_is_resource_not_found(local, client):
    with pytest.raises(client.exceptions.ResourceNotFoundException) as error:
        invoke(client, "nope", {})
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "function:nope" in error.value.response["Error"]["Message"]


def test_body_that_is_not_json_is_invalid_request_content(local, client, handlers):
    local.add_function("echo", "app.echo", handlers)
    with pytest.raises(client.exceptions.InvalidRequestContentException) as error:
        client.invoke(FunctionName="echo", Payload=b"{not json")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert local.stats("echo")["invocations"] == 0


@pytest.mark.parametrize("invocation_type,size", [("RequestResponse", 6 * 1024 * 1024 + 1), ("Event", 1024 * 1024 + 1)])
def test_payload_over_the_limit_is_request_too_large(local, client, handlers, invocation_type, size):
    local.add_synthetic("echo")
    payload = b'"' + b"x" * (size - 2) + b'"'
    with pytest.raises(client.exceptions.RequestTooLargeException) as error:
        client.invoke(FunctionName="echo", Payload=payload, InvocationType=invocation_type)
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert local.stats("echo")["invocations"] == 0


def test_payload_at_the_sync_limit_round_trips(local, client):
    local.add_synthetic("echo")
    payload = b'"' + b"y" * (6 * 1024 * 1024 - 2) + b'"'
    assert invoke(client, "echo", Payload=payload)["body"] == payload


def test_result_that_is_not_json_is_a_marshal_error(local, client, handlers):
    local.add_function("unserializable", "app.unserializable", handlers)
    response = invoke(client, "unserializable", {})
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["body"])["errorType"] == "Runtime.MarshalError"


def test_bad_invocation_and_log_types_are_refused(local, handlers):
    local.add_synthetic("echo")
    for header, value in (
        ("X-Amz-Invocation-Type", "Sometimes"),
        ("X-Amz-Log-Type", "All"),
        ("X-Amz-Client-Context", "not base64!"),
    ):
        status, headers, body = raw_invoke(local.endpoint_url, "echo", b"{}", {header: value}, timeout=10)
        assert status == 400, header
        assert headers["x-amzn-ErrorType"] == "InvalidParameterValueException"
        assert json.loads(body)["message"]
