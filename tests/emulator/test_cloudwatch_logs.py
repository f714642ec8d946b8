"""LocalLambda's functions' logs, as CloudWatch Logs keeps Lambda's: a log group per function, a
stream per execution environment, read by `future.invocation.logs()`, boto3's `logs` client and
the AWS CLI. Each call's lines are exactly its own, START to REPORT, with calls run at once in one
environment and in several."""

import asyncio
import json
import re
import subprocess
import time

import boto3
import pytest
from lambda_executor import LambdaExecutor, LocalLambda, LogsError
from lambda_executor._core import LogReader

GROUP = "/aws/lambda/talk"
STREAM_NAME = re.compile(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}")
TALK = """\
import logging
import os
import time

logging.getLogger().setLevel(logging.INFO)


def handler(event, context):
    print(f"printed {event['n']}")
    logging.info("logged %s", event["n"])
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise ValueError(f"failed {event['n']}")
    return {"n": event["n"], "stream": context.log_stream_name, "env_stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]}
"""


@pytest.fixture
def talk(local, tmp_path):
    """A function that prints a line and logs one through the logging module."""
    (tmp_path / "talk.py").write_text(TALK)
    local.add_function("talk", "talk.handler", tmp_path)
    return "talk"


@pytest.fixture
def logs_client(local):
    return boto3.client("logs", endpoint_url=local.endpoint_url, region_name="us-east-1")


def assert_own_lines(lines, request_id, n):
    """The call's lines, START to REPORT, and no other call's."""
    assert len(lines) == 5, lines
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines[1] == f"printed {n}"
    assert re.fullmatch(rf"\[INFO\]\t\S+\t{request_id}\tlogged {n}", lines[2]), lines[2]
    assert lines[3] == f"END RequestId: {request_id}"
    assert lines[4].startswith(f"REPORT RequestId: {request_id}\tDuration: ")


def test_a_calls_logs_are_its_own_lines_in_one_environment_and_in_several(local, talk):
    local.set_reserved_concurrency("talk", 1)
    with LambdaExecutor(max_workers=6, endpoint_url=local.endpoint_url) as executor:
        one_environment = [executor.submit("talk", {"n": n}) for n in range(6)]
        assert len({future.result()["stream"] for future in one_environment}) == 1
    for n, future in enumerate(one_environment):
        assert_own_lines(future.invocation.logs(timeout=5), future.invocation.request_id, n)

    # A new executor: the first learned the limit of 1 from its throttles.
    local.set_reserved_concurrency("talk", None)
    with LambdaExecutor(max_workers=6, endpoint_url=local.endpoint_url) as executor:
        several = [executor.submit("talk", {"n": n, "sleep": 0.3}) for n in range(10, 16)]
        assert len({future.result()["stream"] for future in several}) > 1
    for n, future in enumerate(several, start=10):
        assert_own_lines(future.invocation.logs(timeout=5), future.invocation.request_id, n)
        # The stream is the environment's, as the handler's context and environment name it.
        assert future.result()["stream"] == future.result()["env_stream"]
        assert STREAM_NAME.fullmatch(future.result()["stream"])


def test_alogs_awaits_the_same_lines(local, talk):
    async def call_and_read():
        with LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url) as executor:
            future = executor.submit("talk", {"n": 7})
            await asyncio.wrap_future(future)
            return future.invocation.request_id, await future.invocation.alogs(timeout=5)

    request_id, lines = asyncio.run(call_and_read())
    assert_own_lines(lines, request_id, 7)


def test_missing_lines_are_waited_for_then_said(local, talk):
    with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
        executor.submit("talk", {"n": 1}).result()
        reader = LogReader(client={"endpoint_url": local.endpoint_url})
        started = time.monotonic()
        with pytest.raises(LogsError, match="no START line of request 00000000-0000-0000-0000-000000000000 in"):
            reader.call("talk", "00000000-0000-0000-0000-000000000000", timeout=1.0)
        assert 0.9 < time.monotonic() - started < 10
        with pytest.raises(LogsError, match="no log group /aws/lambda/never-ran"):
            reader.call("never-ran", "00000000-0000-0000-0000-000000000000", timeout=0.2)
        with pytest.raises(ValueError, match="is not a function name or ARN"):
            reader.call("not a name", "x", timeout=0.1)


def test_logs_read_from_cloudwatch_logs_own_endpoint_when_one_is_set(local, talk, monkeypatch):
    """AWS_ENDPOINT_URL_CLOUDWATCH_LOGS wins over the executor's endpoint_url: here, another
    LocalLambda's, where the function never ran."""
    with LocalLambda() as elsewhere:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", elsewhere.endpoint_url)
        with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
            future = executor.submit("talk", {"n": 1})
            future.result()
            with pytest.raises(LogsError, match="no log group /aws/lambda/talk"):
                future.invocation.logs(timeout=0.2)


def test_boto3_reads_groups_streams_and_events_with_pagination(local, talk, logs_client):
    with LambdaExecutor(max_workers=4, endpoint_url=local.endpoint_url) as executor:
        futures = [executor.submit("talk", {"n": n, "sleep": 0.2}) for n in range(4)]
        results = [future.result() for future in futures]
    request_id = futures[0].invocation.request_id

    # Filtering by the quoted request id finds what carries it: START, the logged line, END, REPORT.
    found = logs_client.filter_log_events(logGroupName=GROUP, filterPattern=f'"{request_id}"')["events"]
    assert [event["message"].split(" ")[0].split("\t")[0] for event in found] == ["START", "[INFO]", "END", "REPORT"]
    assert {event["logStreamName"] for event in found} == {results[0]["stream"]}
    assert all(event["message"].endswith("\n") for event in found)

    everything = logs_client.filter_log_events(logGroupName=GROUP)["events"]
    assert len(everything) == 4 * 5
    assert [event["timestamp"] for event in everything] == sorted(event["timestamp"] for event in everything)
    pages = list(
        logs_client.get_paginator("filter_log_events").paginate(logGroupName=GROUP, PaginationConfig={"PageSize": 3})
    )
    assert len(pages) == 7
    assert [event["eventId"] for page in pages for event in page["events"]] == [e["eventId"] for e in everything]
    one_stream = logs_client.filter_log_events(logGroupName=GROUP, logStreamNames=[results[1]["stream"]])["events"]
    assert [event["message"] for event in one_stream][1] == "printed 1\n" and len(one_stream) == 5
    prefixed = logs_client.filter_log_events(logGroupName=GROUP, logStreamNamePrefix=results[1]["stream"][:-4])
    assert prefixed["events"] == one_stream
    printed = logs_client.filter_log_events(logGroupName=GROUP, filterPattern="printed 2")["events"]
    assert [event["message"] for event in printed] == ["printed 2\n"]
    window = logs_client.filter_log_events(
        logGroupName=GROUP, startTime=everything[5]["timestamp"], endTime=everything[5]["timestamp"]
    )["events"]
    assert everything[5]["eventId"] in {event["eventId"] for event in window}
    assert all(event["timestamp"] == everything[5]["timestamp"] for event in window)

    streams = [
        stream
        for page in logs_client.get_paginator("describe_log_streams").paginate(
            logGroupName=GROUP, orderBy="LastEventTime", descending=True, PaginationConfig={"PageSize": 1}
        )
        for stream in page["logStreams"]
    ]
    assert {stream["logStreamName"] for stream in streams} == {result["stream"] for result in results}
    assert [s["lastEventTimestamp"] for s in streams] == sorted(
        (s["lastEventTimestamp"] for s in streams), reverse=True
    )
    assert all(STREAM_NAME.fullmatch(stream["logStreamName"]) for stream in streams)
    assert (
        streams[0]["arn"]
        == f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}:log-stream:{streams[0]['logStreamName']}"
    )

    stream = results[0]["stream"]
    # GetLogEvents pages forward until its token comes back unchanged (boto3 has no paginator for it).
    read, token, arguments = [], None, {"logGroupName": GROUP, "logStreamName": stream, "limit": 2}
    for _ in range(10):
        page = logs_client.get_log_events(startFromHead=True, **arguments, **({"nextToken": token} if token else {}))
        read += [event["message"] for event in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    else:
        raise AssertionError("the forward token never came back unchanged")
    assert read[0] == f"START RequestId: {request_id} Version: $LATEST\n"
    assert read[1] == "printed 0\n" and read[-1].startswith("REPORT RequestId: ") and len(read) == 5
    newest = logs_client.get_log_events(**arguments)
    assert [event["message"] for event in newest["events"]] == read[-2:]
    older = logs_client.get_log_events(nextToken=newest["nextBackwardToken"], **arguments)
    assert [event["message"] for event in older["events"]] == read[1:3]


def test_what_cloudwatch_logs_refuses_boto3_is_told(local, talk, logs_client):
    with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
        executor.submit("talk", {"n": 1}).result()
    errors = logs_client.exceptions
    with pytest.raises(errors.ResourceNotFoundException, match="The specified log group does not exist"):
        logs_client.filter_log_events(logGroupName="/aws/lambda/nobody")
    with pytest.raises(errors.ResourceNotFoundException, match="The specified log stream does not exist"):
        logs_client.get_log_events(logGroupName=GROUP, logStreamName="2020/01/01/[$LATEST]none")
    for unsupported in ["?ERROR ?WARN", '{ $.level = "ERROR" }', "[ip, user]", "-DEBUG"]:
        with pytest.raises(errors.InvalidParameterException, match="does not support"):
            logs_client.filter_log_events(logGroupName=GROUP, filterPattern=unsupported)
    with pytest.raises(errors.InvalidParameterException, match="must be in double quotes"):
        logs_client.filter_log_events(logGroupName=GROUP, filterPattern="request-id")
    with pytest.raises(errors.InvalidParameterException, match="Cannot order by LastEventTime"):
        logs_client.describe_log_streams(logGroupName=GROUP, orderBy="LastEventTime", logStreamNamePrefix="2")
    with pytest.raises(errors.InvalidParameterException, match="nextToken is invalid"):
        logs_client.filter_log_events(logGroupName=GROUP, nextToken="not a token")


def test_the_aws_cli_reads_a_calls_lines(aws_cli, local, talk, tmp_path):
    with LambdaExecutor(max_workers=1, endpoint_url=local.endpoint_url) as executor:
        future = executor.submit("talk", {"n": 3})
        stream = future.result()["stream"]
    request_id = future.invocation.request_id

    def aws(*arguments):
        command = [str(aws_cli), "logs", *arguments, "--endpoint-url", local.endpoint_url, "--region", "us-east-1"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    found = aws("filter-log-events", "--log-group-name", GROUP, "--filter-pattern", f'"{request_id}"')
    assert [event["message"].split(" ")[0].split("\t")[0] for event in found["events"]] == [
        "START",
        "[INFO]",
        "END",
        "REPORT",
    ]
    assert found["events"][-1]["message"].startswith(f"REPORT RequestId: {request_id}")
    read = aws("get-log-events", "--log-group-name", GROUP, "--log-stream-name", stream, "--start-from-head")
    assert [event["message"] for event in read["events"]][1] == "printed 3\n"
    described = aws("describe-log-streams", "--log-group-name", GROUP)
    assert [s["logStreamName"] for s in described["logStreams"]] == [stream]
