"""Fuzzing LocalLambda's request handling (hypothesis): whatever the method, path, qualifier,
headers and body, it answers with a modelled error or a result, never crashes or hangs, and
leaks no execution environment."""

import http.client
import json
from urllib.parse import urlsplit

from helpers import raw_invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODELLED = {200, 201, 202, 204, 400, 404, 409, 413, 415, 429, 500, 502}

names = st.sampled_from(
    [
        "echo",
        "app",
        "missing",
        "",
        "a" * 65,
        "echo:$LATEST",
        "echo:1",
        "echo:prod",
        "arn:aws:lambda:us-east-1:000000000000:function:echo",
        "arn:aws:lambda:us-east-1:000000000000:function:echo:v%2F1",
        "%2e%2e",
        "ech%00o",
        "%C3%A9",
        "%FF",
    ]
)
suffixes = st.sampled_from(["/invocations", "/invocations/", "", "/code", "/configuration", "/concurrency", "/x"])
queries = st.sampled_from(["", "?Qualifier=$LATEST", "?Qualifier=", "?Qualifier=1&Qualifier=2", "?Qualifier=%ZZ", "?x"])
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
headers = st.fixed_dictionaries(
    {},
    optional={
        "X-Amz-Invocation-Type": st.sampled_from(["RequestResponse", "Event", "DryRun", "bogus", ""]) | header_values,
        "X-Amz-Log-Type": st.sampled_from(["Tail", "None", "x"]) | header_values,
        "X-Amz-Client-Context": st.sampled_from(["e30=", "!!!", "bm90IGpzb24="]) | header_values,
        "Content-Type": header_values,
    },
)
bodies = st.binary(max_size=2048) | st.sampled_from(
    [b"{}", b"null", b'"x"', b"[1,2]", b'{"sleep_ms": 1}', b"{", b"\xff\xfe", b" " * 10]
)


def request(url, method, path, headers, body):
    target = urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    prefix=st.sampled_from(["/2015-03-31/functions/", "/2017-03-31/tags/", "/2017-10-31/functions/", "/", "//"]),
    name=names,
    suffix=suffixes,
    query=queries,
    headers=headers,
    body=bodies,
)
def test_every_request_gets_a_modelled_answer(local, handlers, method, prefix, name, suffix, query, headers, body):
    if "echo" not in local.functions():
        local.add_synthetic("echo")
        local.add_function("app", "app.echo", handlers)
    status, response_headers, payload = request(
        local.endpoint_url, method, prefix + name + suffix + query, headers, body
    )
    assert status in MODELLED, (status, payload[:200])
    if status >= 400:
        assert "x-amzn-ErrorType" in {key for key in response_headers} | {
            key.title() for key in response_headers
        } or any(key.lower() == "x-amzn-errortype" for key in response_headers), response_headers
        if method != "HEAD":
            json.loads(payload)


def test_after_the_fuzzing_it_still_serves_and_keeps_no_stray_environment(local, handlers):
    local.add_function("app", "app.echo", handlers)
    for body in (b"{", b"\xff", b"[]" * 1000, b'{"a": 1}'):
        raw_invoke(local.endpoint_url, "app", body, {}, timeout=10)
    status, _, body = raw_invoke(local.endpoint_url, "app", b'{"ok": true}', {}, timeout=10)
    assert status == 200 and json.loads(body)["event"] == {"ok": True}
    assert local.stats("app")["environments"] == 1
