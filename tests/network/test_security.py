"""Security: no credential, signature or payload in what users see (messages, reprs, logs), and
LocalLambda's Runtime API answers only its own environment's invocations."""

import logging

import pytest
from helpers import DroppingServer, ScriptedServer, free_port
from lambda_executor import LambdaError, LambdaExecutor, RetryPolicy

KEY_ID = "AKIAEXAMPLESECRETID1"
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
PAYLOAD_MARK = "PAYLOAD-MARK-7f3a"
SECRETS = (SECRET, TOKEN, "Signature=", "Credential=", "X-Amz-Security-Token", PAYLOAD_MARK)


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)


def failures(local, handlers):
    """(what was done, the exception it raised) for each kind of failure a user can meet."""
    local.add_function("fail", "app.fail", handlers)
    local.add_synthetic("busy", reserved_concurrency=0)
    scripted = ScriptedServer([(400, "InvalidRequestContentException"), (500, "ServiceException")])
    dropping = DroppingServer()
    fast = RetryPolicy(max_retries=1, base_delay=0.001, max_delay=0.01, throttle_timeout=0.2)
    cases = [
        (local.endpoint_url, "fail", {"message": "boom", "mark": PAYLOAD_MARK}),  # FunctionError
        (local.endpoint_url, "no-such-function", {"mark": PAYLOAD_MARK}),  # FunctionNotFoundError
        (local.endpoint_url, "busy", {"mark": PAYLOAD_MARK}),  # ThrottledError
        (scripted.url, "scripted", {"mark": PAYLOAD_MARK}),  # InvocationError
        (dropping.url, "dropped", {"mark": PAYLOAD_MARK}),  # ConnectionLostError
        (f"http://127.0.0.1:{free_port()}", "refused", {"mark": PAYLOAD_MARK}),  # could not connect
    ]
    try:
        for url, function, event in cases:
            with LambdaExecutor(max_workers=2, endpoint_url=url, retry=fast, log_tail=True) as executor:
                future = executor.submit(function, event)
                error = future.exception(timeout=60)
                assert isinstance(error, LambdaError), (function, error)
                yield function, error, executor, future
        # The requests were signed: what must not leak was there to leak.
        assert any("Signature=" in headers.get("authorization", "") for headers in scripted.headers)
    finally:
        scripted.close()
        dropping.close()


def test_no_secret_signature_or_payload_in_errors_reprs_or_logs(local, handlers, credentials, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    seen = []
    for function, error, executor, future in failures(local, handlers):
        seen.append(type(error).__name__)
        texts = [
            str(error),
            repr(error),
            repr(executor),
            str(executor.stats()),
            executor._repr_html_(),
            repr(future.invocation),
            repr(future),
        ]
        for text in texts:
            for secret in SECRETS:
                assert secret not in text, (function, secret, text)
    assert seen == [
        "RemoteValueError",  # a FunctionError that is a ValueError too
        "FunctionNotFoundError",
        "ThrottledError",
        "InvocationError",
        "ConnectionLostError",
        "InvocationError",
    ]
    out, err = capfd.readouterr()
    for text in (caplog.text, out, err):
        for secret in SECRETS:
            assert secret not in text, secret


def test_a_payload_too_large_says_its_size_not_its_content(local, credentials):
    local.add_synthetic("echo")
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        with pytest.raises(LambdaError) as raised:
            executor.submit("echo", {"mark": PAYLOAD_MARK * 400_000})
    assert "bytes" in str(raised.value) and PAYLOAD_MARK not in str(raised.value)


def test_the_runtime_api_refuses_an_invocation_that_is_not_its_own(local, handlers, executor):
    local.add_function("forge", "app.forge", handlers)
    result = executor.submit("forge", {"id": "00000000-0000-0000-0000-000000000000"}).result()
    assert result["api"].startswith("127.0.0.1:")  # loopback only
    assert result["status"] == 400  # InvalidRequestID: nothing was answered for anyone
