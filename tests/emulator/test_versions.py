"""Versions and aliases in LocalLambda's control plane, through boto3: a published version runs
its own code and configuration in environments of its own, an alias routes to one version or
splits calls between two, and the function's concurrency covers all its versions."""

import base64
import json
import os
import threading
from collections import Counter

import pytest
from helpers import wait_for, zipped

ROLE = "arn:aws:iam::123456789012:role/lambda-executor-tests"
ARN = "arn:aws:lambda:us-east-1:123456789012:function"


def code(generation):
    """A handler that says which code it is and what it runs as."""
    return zipped(
        app=(
            "import os\n\n"
            "def handler(event, context):\n"
            f"    return {{'code': {generation}, 'version': os.environ['AWS_LAMBDA_FUNCTION_VERSION'],\n"
            "            'arn': context.invoked_function_arn, 'memory': context.memory_limit_in_mb,\n"
            "            'stage': os.environ.get('STAGE'), 'pid': os.getpid()}\n"
        )
    )


def call(client, name, **kwargs):
    response = client.invoke(FunctionName=name, Payload=b"{}", **kwargs)
    return response["ExecutedVersion"], json.loads(response["Payload"].read())


@pytest.fixture
def deployed(client):
    """Function f with version 1 (code 1, 128 MB, STAGE=one) and version 2 (code 2, 256 MB,
    STAGE=two), $LATEST being version 2's code and configuration."""
    client.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code(1)},
        Environment={"Variables": {"STAGE": "one"}},
    )
    assert client.publish_version(FunctionName="f", Description="first")["Version"] == "1"
    client.update_function_code(FunctionName="f", ZipFile=code(2))
    client.update_function_configuration(FunctionName="f", MemorySize=256, Environment={"Variables": {"STAGE": "two"}})
    published = client.publish_version(FunctionName="f")
    assert (published["Version"], published["FunctionArn"]) == ("2", f"{ARN}:f:2")
    return client


def test_a_published_version_runs_its_own_code_and_configuration(local, deployed):
    client = deployed
    version, result = call(client, "f:1")
    assert version == "1"
    assert (result["code"], result["version"], result["memory"], result["stage"]) == (1, "1", "128", "one")
    assert result["arn"] == f"{ARN}:f:1"
    version, result = call(client, "f", Qualifier="2")
    assert (version, result["code"], result["memory"], result["stage"]) == ("2", 2, "256", "two")
    assert call(client, f"{ARN}:f:1")[1]["code"] == 1
    # $LATEST moves on; the versions do not.
    client.update_function_code(FunctionName="f", ZipFile=code(3))
    assert call(client, "f")[1]["code"] == 3 and call(client, "f:$LATEST")[0] == "$LATEST"
    assert call(client, "f:1")[1]["code"] == 1 and call(client, "f:2")[1]["code"] == 2
    logged = client.invoke(FunctionName="f:1", LogType="Tail")["LogResult"]
    assert base64.b64decode(logged).decode().splitlines()[0].endswith("Version: 1")


def test_versions_are_listed_and_read_as_lambda_reports_them(local, deployed):
    client = deployed
    versions = client.list_versions_by_function(FunctionName="f")["Versions"]
    assert [(v["Version"], v["FunctionArn"], v["MemorySize"]) for v in versions] == [
        ("$LATEST", f"{ARN}:f:$LATEST", 256),
        ("1", f"{ARN}:f:1", 128),
        ("2", f"{ARN}:f:2", 256),
    ]
    assert versions[1]["Description"] == "first"
    first = client.get_function_configuration(FunctionName="f", Qualifier="1")
    assert (first["Version"], first["Environment"], first["FunctionArn"]) == (
        "1",
        {"Variables": {"STAGE": "one"}},
        f"{ARN}:f:1",
    )
    assert client.get_function(FunctionName="f:2")["Configuration"]["Version"] == "2"
    assert client.get_function(FunctionName="f")["Configuration"]["FunctionArn"] == f"{ARN}:f"
    # Nothing changed since version 2: publishing again returns it.
    assert client.publish_version(FunctionName="f")["Version"] == "2"
    latest_sha = client.get_function(FunctionName="f")["Configuration"]["CodeSha256"]
    with pytest.raises(client.exceptions.InvalidParameterValueException, match=r"CodeSHA256 \(wrong\) is different"):
        client.publish_version(FunctionName="f", CodeSha256="wrong")
    client.update_function_configuration(FunctionName="f", Timeout=9)
    assert client.publish_version(FunctionName="f", CodeSha256=latest_sha)["Version"] == "3"
    for missing in ("f:7", "f:live"):
        with pytest.raises(client.exceptions.ResourceNotFoundException, match=f"Function not found: {ARN}:{missing}$"):
            client.get_function(FunctionName=missing)
        with pytest.raises(client.exceptions.ResourceNotFoundException, match=f"Function not found: {ARN}:{missing}$"):
            client.invoke(FunctionName=missing)


def test_a_deleted_version_stops_running_and_its_code_is_removed(local, deployed):
    client = deployed
    folder = client.get_function(FunctionName="f:1")["Code"]["Location"].removeprefix("file://")
    assert os.path.isdir(folder)
    with pytest.raises(client.exceptions.InvalidParameterValueException, match=r"\$LATEST version cannot be deleted"):
        client.delete_function(FunctionName="f", Qualifier="$LATEST")
    client.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    with pytest.raises(client.exceptions.ResourceConflictException, match=r"aliases reference it: \[live\]"):
        client.delete_function(FunctionName="f", Qualifier="1")
    client.delete_alias(FunctionName="f", Name="live")
    client.delete_function(FunctionName="f", Qualifier="1")
    assert not os.path.exists(folder)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="f:1")
    assert call(client, "f:2")[0] == "2"
    # Numbers are not given twice.
    client.update_function_configuration(FunctionName="f", Timeout=9)
    assert client.publish_version(FunctionName="f")["Version"] == "3"
    second = client.get_function(FunctionName="f:2")["Code"]["Location"].removeprefix("file://")
    client.delete_function(FunctionName="f")
    assert not os.path.exists(second)


def test_each_version_has_environments_of_its_own(local, client, handlers):
    local.add_function("echo", "app.echo", handlers)
    client.publish_version(FunctionName="echo")
    first = call(client, "echo:1")[1]
    latest = call(client, "echo")[1]
    again = call(client, "echo:1")[1]
    assert first["pid"] != latest["pid"], "a warm environment of version 1 served $LATEST"
    assert (again["pid"], again["invocations"]) == (first["pid"], 2)
    assert first["invoked_function_arn"] == f"{ARN}:echo:1"
    # Updating $LATEST ends its warm environments only.
    client.update_function_configuration(FunctionName="echo", Timeout=5)
    assert call(client, "echo:1")[1]["pid"] == first["pid"]
    assert call(client, "echo")[1]["pid"] != latest["pid"]
    assert local.stats("echo")["cold_starts"] == 3


def test_concurrency_is_the_functions_across_its_versions(local, client):
    local.add_synthetic("slow", reserved_concurrency=1)
    client.publish_version(FunctionName="slow")
    started = threading.Event()

    def hold_the_only_slot():
        started.set()
        client.invoke(FunctionName="slow:1", Payload=b'{"sleep_ms": 1500}')

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    started.wait()
    try:
        wait_for(lambda: local.stats("slow")["in_flight"] == 1)
        with pytest.raises(client.exceptions.TooManyRequestsException):
            client.invoke(FunctionName="slow", Payload=b"{}")
    finally:
        holder.join()
    assert client.get_function_concurrency(FunctionName="slow")["ReservedConcurrentExecutions"] == 1


def test_an_alias_runs_its_version_and_is_managed_as_on_lambda(local, deployed):
    client = deployed
    created = client.create_alias(FunctionName="f", Name="live", FunctionVersion="1", Description="stable")
    assert {k: created[k] for k in ("AliasArn", "Name", "FunctionVersion", "Description")} == {
        "AliasArn": f"{ARN}:f:live",
        "Name": "live",
        "FunctionVersion": "1",
        "Description": "stable",
    }
    version, result = call(client, "f:live")
    assert (version, result["code"], result["arn"]) == ("1", 1, f"{ARN}:f:live")
    assert call(client, "f", Qualifier="live")[0] == "1"
    assert client.get_function_configuration(FunctionName="f", Qualifier="live")["Version"] == "1"
    updated = client.update_alias(FunctionName="f", Name="live", FunctionVersion="2", RevisionId=created["RevisionId"])
    assert updated["FunctionVersion"] == "2" and updated["RevisionId"] != created["RevisionId"]
    assert updated["Description"] == "stable"
    assert call(client, "f:live")[1]["code"] == 2
    with pytest.raises(client.exceptions.PreconditionFailedException):
        client.update_alias(FunctionName="f", Name="live", FunctionVersion="1", RevisionId=created["RevisionId"])
    client.create_alias(FunctionName="f", Name="edge", FunctionVersion="$LATEST")
    assert call(client, "f:edge")[0] == "$LATEST"
    assert client.get_alias(FunctionName="f", Name="edge")["AliasArn"] == f"{ARN}:f:edge"
    assert [a["Name"] for a in client.list_aliases(FunctionName="f")["Aliases"]] == ["edge", "live"]
    assert [a["Name"] for a in client.list_aliases(FunctionName="f", FunctionVersion="2")["Aliases"]] == ["live"]
    client.delete_alias(FunctionName="f", Name="edge")
    with pytest.raises(client.exceptions.ResourceNotFoundException, match=f"Cannot find alias arn: {ARN}:f:edge$"):
        client.get_alias(FunctionName="f", Name="edge")
    with pytest.raises(client.exceptions.ResourceNotFoundException, match=f"Function not found: {ARN}:f:edge$"):
        client.invoke(FunctionName="f:edge")


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"Name": "live", "FunctionVersion": "1"}, "ResourceConflictException", f"Alias already exists: {ARN}:f:live"),
        ({"Name": "12", "FunctionVersion": "1"}, "ValidationException", "Value '12' at 'name' failed"),
        ({"Name": "new", "FunctionVersion": "9"}, "ResourceNotFoundException", f"Function not found: {ARN}:f:9"),
        ({"Name": "new", "FunctionVersion": "latest"}, "ValidationException", "at 'functionVersion' failed"),
        (
            {"Name": "new", "FunctionVersion": "$LATEST", "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}}},
            "InvalidParameterValueException",
            "$LATEST is not supported for an alias pointing to more than 1 version",
        ),
        (
            {
                "Name": "new",
                "FunctionVersion": "2",
                "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.1, "3": 0.1}},
            },
            "InvalidParameterValueException",
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ),
        (
            {"Name": "new", "FunctionVersion": "2", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}}},
            "InvalidParameterValueException",
            "Invalid function version 2. Function version 2 is already included in routing configuration.",
        ),
        (
            {"Name": "new", "FunctionVersion": "2", "RoutingConfig": {"AdditionalVersionWeights": {"7": 0.5}}},
            "ResourceNotFoundException",
            f"Function not found: {ARN}:f:7",
        ),
    ],
)
def test_aliases_lambda_refuses_are_refused(local, deployed, arguments, error, message):
    from botocore.exceptions import ClientError

    client = deployed
    client.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as raised:
        client.create_alias(FunctionName="f", **arguments)
    assert raised.value.response["Error"]["Code"] == error
    assert message in raised.value.response["Error"]["Message"]
    assert [a["Name"] for a in client.list_aliases(FunctionName="f")["Aliases"]] == ["live"]


def test_weighted_routing_splits_invocations_between_two_versions(local, client):
    local.add_synthetic("echo")
    client.publish_version(FunctionName="echo")
    client.update_function_configuration(FunctionName="echo", Timeout=5)
    client.publish_version(FunctionName="echo")
    routed = client.create_alias(
        FunctionName="echo", Name="canary", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}}
    )
    assert routed["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.3}}
    counts = Counter(call(client, "echo:canary")[0] for _ in range(400))
    assert set(counts) == {"1", "2"}
    # 120 expected of 400 at 0.3; the bounds are over 4 standard deviations away.
    assert 80 <= counts["2"] <= 160, counts
    # An empty routing configuration ends the split.
    client.update_alias(FunctionName="echo", Name="canary", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in client.get_alias(FunctionName="echo", Name="canary")
    assert {call(client, "echo:canary")[0] for _ in range(20)} == {"1"}
