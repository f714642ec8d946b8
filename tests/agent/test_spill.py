"""Arguments and results larger than Lambda takes, through S3 (moto's server, an S3 nobody here
wrote): the client uploads and reads back with the Rust core, the agent with boto3 under
LocalLambda; each object is checked against its SHA-256 and deleted once read."""

import base64
import json
import os
import re
import signal
import subprocess
import sys

import boto3
import pytest
from helpers import AGENT_CODE, enforce_iam, wait_for
from lambda_executor import LambdaExecutor, LambdaPool, LocalLambda, PayloadTooLargeError, SpillError
from lambda_executor.bundle import AGENT_HANDLER, stage
from lambda_executor.cli import main


def objects(s3):
    return [item["Key"] for item in s3.list_objects_v2(Bucket="spill").get("Contents", [])]


def test_an_argument_and_a_result_over_6_mb_go_through_s3_and_none_is_left(local, mathwork, deployed, bucket, role):
    local.add_function("agent", AGENT_HANDLER, deployed, timeout=60, memory_size=1024, environment=role)
    incompressible = base64.b64encode(os.urandom(15_000_000)).decode()  # 20 MB of JSON, as much zipped
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", spill="s3://spill/runs") as executor:
        assert executor.submit(mathwork.length, incompressible).result() == len(incompressible)
        assert executor.submit(mathwork.identity, incompressible).result() == incompressible
        assert executor.submit(mathwork.add, 1, 2).result() == 3, "small calls stay inline"
    assert objects(bucket) == [], "every object was deleted once read"


def test_a_50_mb_argument_and_result_go_up_in_parts_both_ways(local, mathwork, deployed, bucket, role):
    # Over 32 MB the client uploads in parts; over 8 MB the agent's boto3 does too.
    local.add_function("agent", AGENT_HANDLER, deployed, memory_size=2048, timeout=120, environment=role)
    text = base64.b64encode(os.urandom(37_500_000)).decode()  # 50 MB of JSON, which zlib does not shrink
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", spill="s3://spill/runs") as executor:
        assert executor.submit(mathwork.identity, text).result() == text
    assert objects(bucket) == [], "every object, and no part, was deleted once read"


def iam_user(moto_server, name, actions):
    """The access key of a new IAM user of moto's allowed `actions` on the bucket's objects, and
    to list it."""
    iam = boto3.client("iam", endpoint_url=moto_server, region_name="us-east-1")
    iam.create_user(UserName=name)
    statements = [{"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::spill"}]
    if actions:
        statements.append({"Effect": "Allow", "Action": actions, "Resource": "arn:aws:s3:::spill/*"})
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
    iam.put_user_policy(UserName=name, PolicyName="spill", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


EVERY_STEP = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]


def test_a_client_refused_s3_put_object_gets_one_spill_error_naming_the_object_and_the_permission(
    local, mathwork, deployed, bucket, moto_server, monkeypatch
):
    local.add_function("agent", AGENT_HANDLER, deployed)
    caller = iam_user(moto_server, "no-put", ["s3:GetObject", "s3:DeleteObject"])
    for name, value in caller.items():
        monkeypatch.setenv(name, value)
    text = base64.b64encode(os.urandom(6_000_000)).decode()
    with enforce_iam(moto_server):
        with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", spill="s3://spill/runs") as executor:
            with pytest.raises(SpillError) as raised:
                executor.submit(mathwork.length, text).result()
    error = raised.value
    assert re.fullmatch(r"s3://spill/runs/argument-\w{32}", error.url)
    assert error.permission == "s3:PutObject"
    assert str(error).startswith(f"agent: writing {error.url} failed: AccessDenied")
    assert str(error).endswith("(the caller needs s3:PutObject on it)")
    assert caller["AWS_SECRET_ACCESS_KEY"] not in str(error) and "Signature" not in str(error)
    assert local.stats("agent")["invocations"] == 0, "nothing was sent"


@pytest.mark.parametrize("lacking", ["s3:GetObject", "s3:PutObject"])
def test_a_role_refused_s3_gets_one_spill_error_naming_the_object_and_the_permission(
    local, mathwork, deployed, bucket, moto_server, monkeypatch, role, lacking
):
    caller = iam_user(moto_server, "caller", EVERY_STEP)
    function_role = iam_user(moto_server, "role", [step for step in EVERY_STEP if step != lacking])
    local.add_function("agent", AGENT_HANDLER, deployed, memory_size=1024, environment={**role, **function_role})
    for name, value in caller.items():
        monkeypatch.setenv(name, value)
    # Reading: an argument over 6 MB, spilled by the client; writing: a 7 MB result from a small
    # argument (1 MB of random base64 seven times over: further apart than zlib looks back).
    text = base64.b64encode(os.urandom(750_000)).decode()
    call, action, object_url = {
        "s3:GetObject": ((mathwork.length, text * 7), "reading", r"s3://spill/runs/argument-\w{32}"),
        "s3:PutObject": ((mathwork.repeat, text, 7), "writing", r"s3://spill/runs/result-\w{32}"),
    }[lacking]
    with enforce_iam(moto_server):
        with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", spill="s3://spill/runs") as executor:
            with pytest.raises(SpillError) as raised:
                executor.submit(*call).result()
    error = raised.value
    assert re.fullmatch(object_url, error.url)
    assert error.permission == lacking
    assert str(error).startswith(f"{action} {error.url} failed: AccessDenied")
    assert f"(the function's role needs {lacking} on it)" in str(error)
    assert function_role["AWS_SECRET_ACCESS_KEY"] not in str(error) and "Signature" not in str(error)
    wait_for(lambda: objects(bucket) == [], seconds=30)  # the client deletes its argument all the same


def test_the_agent_reaches_local_lambdas_s3_endpoint_unconfigured(mathwork, deployed, bucket, moto_server):
    """LocalLambda gives its handlers its S3 endpoint as AWS_ENDPOINT_URL_S3: the function carries
    credentials alone, as a role would give them."""
    credentials = {"AWS_ACCESS_KEY_ID": "agent", "AWS_SECRET_ACCESS_KEY": "agent-secret"}
    incompressible = base64.b64encode(os.urandom(6_000_000)).decode()  # 8 MB each way
    with LocalLambda(s3_endpoint_url=moto_server) as local:
        local.add_function("agent", AGENT_HANDLER, deployed, timeout=60, memory_size=1024, environment=credentials)
        with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", spill="s3://spill/runs") as executor:
            assert executor.submit(mathwork.identity, incompressible).result() == incompressible
    assert objects(bucket) == [], "the agent read the argument and wrote the result in the same S3"


def test_without_spill_a_call_that_does_not_fit_fails_before_sending_naming_the_option(local, mathwork, deployed):
    local.add_function("agent", AGENT_HANDLER, deployed)
    incompressible = base64.b64encode(os.urandom(6_000_000)).decode()
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent") as executor:
        with pytest.raises(PayloadTooLargeError, match=r"nothing was sent \(with spill='s3://bucket/prefix'"):
            executor.submit(mathwork.length, incompressible)
    assert local.stats("agent")["invocations"] == 0


def test_a_missing_bucket_is_one_error_naming_the_object(local, mathwork, deployed, bucket):
    local.add_function("agent", AGENT_HANDLER, deployed)
    incompressible = base64.b64encode(os.urandom(6_000_000)).decode()
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", spill="s3://no-such-bucket/x") as executor:
        with pytest.raises(SpillError, match=r"writing s3://no-such-bucket/x/argument-\w+ failed: NoSuchBucket"):
            executor.submit(mathwork.length, incompressible).result()
    assert local.stats("agent")["invocations"] == 0, "nothing was sent"


TAMPERING = '''
"""The agent, but each result it spills is overwritten in S3 once written."""
import boto3
from lambda_executor import agent


def handler(event, context):
    result = agent.handler(event, context)
    if agent.is_spilled(result):
        reference = result[agent.SPILLED]
        boto3.client("s3").put_object(Bucket=reference["bucket"], Key=reference["key"], Body=b" " * reference["size"])
    return result
'''


def test_a_spilled_result_changed_in_s3_is_an_error_not_a_result(local, mathwork, tmp_path, bucket, role):
    root = tmp_path / "deployed"
    root.mkdir()
    stage([AGENT_CODE / "mathwork.py"], root)
    (root / "tampering.py").write_text(TAMPERING)
    local.add_function("tampering", "tampering.handler", root, timeout=60, memory_size=1024, environment=role)
    text = base64.b64encode(os.urandom(6_000_000)).decode()
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="tampering", spill="s3://spill/runs") as executor:
        with pytest.raises(SpillError, match=r"s3://spill/runs/result-\w+ failed: it holds \d+ bytes that are not"):
            executor.submit(mathwork.identity, text).result()


def test_a_pool_spills_chunks_and_a_journal_returns_spilled_results_without_running_again(
    local, mathwork, deployed, bucket, role, tmp_path
):
    local.add_function("agent", AGENT_HANDLER, deployed, timeout=60, memory_size=1024, environment=role)
    texts = [base64.b64encode(os.urandom(7_000_000)).decode() for _ in range(2)]  # 7 MB each, zipped
    with LambdaPool(function="agent", endpoint_url=local.endpoint_url, spill="s3://spill/pool") as pool:
        assert pool.map(mathwork.identity, texts, chunksize=2) == texts
    # A chunk holds up to 1 MiB of arguments, so each call is a chunk of its own: through S3 both ways.
    assert local.stats("agent")["invocations"] == 2
    journal = tmp_path / "run.db"
    settings = dict(endpoint_url=local.endpoint_url, agent="agent", spill="s3://spill/runs", journal=journal)
    with LambdaExecutor(**settings) as executor:
        assert executor.submit(mathwork.identity, texts[0]).result() == texts[0]
    with LambdaExecutor(**settings) as executor:
        future = executor.submit(mathwork.identity, texts[0])
        assert future.result() == texts[0] and future.invocation.from_journal
    assert local.stats("agent")["invocations"] == 3, "the rerun ran nothing"
    assert objects(bucket) == []


KILLED_RUN = """
import base64, os, sys
import mathwork
from lambda_executor import LambdaExecutor

executor = LambdaExecutor(endpoint_url=sys.argv[1], agent="agent", spill="s3://spill/killed")
executor.submit(mathwork.length, base64.b64encode(os.urandom(6_000_000)).decode())
executor.shutdown(wait=True)
"""


def test_what_a_killed_run_left_is_listed_and_cleaned_by_the_cli(local, mathwork, deployed, bucket, role, capsys):
    local.add_function("agent", AGENT_HANDLER, deployed, timeout=60, environment=role)
    local.set_reserved_concurrency("agent", 0)  # the call waits out throttles, its argument in S3
    env = dict(os.environ, PYTHONPATH=str(AGENT_CODE))
    run = subprocess.Popen([sys.executable, "-c", KILLED_RUN, local.endpoint_url], env=env)
    try:
        wait_for(lambda: objects(bucket), seconds=60)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    [left] = objects(bucket)
    assert left.startswith("killed/argument-")
    assert main(["spill", "ls", "s3://spill/killed"]) == 0
    assert f"{left}  " in capsys.readouterr().out
    assert main(["spill", "clean", "s3://spill/killed"]) == 0
    assert "deleted 0 objects" in capsys.readouterr().out, "a day's grace by default"
    assert main(["spill", "clean", "s3://spill/killed", "--older-than", "0"]) == 0
    assert "deleted 1 object (" in capsys.readouterr().out
    assert objects(bucket) == []
