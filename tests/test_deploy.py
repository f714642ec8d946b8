"""`lambda-executor deploy | update | list | delete | invoke`: offline end to end against LocalLambda
(deploy, then call a plain Python function through the agent), and the control plane against
moto's server, a Lambda implementation nobody here wrote."""

import importlib
import json
import shutil
import zipfile

import pytest
from helpers import AGENT_CODE, boto3_lambda, zipped
from lambda_executor import LambdaExecutor
from lambda_executor.cli import main

ROLE = "arn:aws:iam::123456789012:role/lambda-executor-tests"


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def code(tmp_path, monkeypatch):
    """A copy of the deployed code the test can change, importable here too."""
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(AGENT_CODE / "mathwork.py", folder)
    monkeypatch.syspath_prepend(str(folder))
    return folder


def wheel(folder, name, version, source):
    """A pure-Python wheel made on the spot, for pip to install with no index."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    dist = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/__init__.py", source)
        archive.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        archive.writestr(
            f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{dist}/RECORD", "")
    return path


def test_deploy_then_call_a_plain_python_function_offline(local, code, capsys, tmp_path, monkeypatch):
    url = local.endpoint_url
    # A requirement installed for Lambda's platform, from a local wheel (no network).
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel(wheels, "tinydep", "1.0", "VALUE = 42\n")
    (tmp_path / "requirements.txt").write_text("tinydep==1.0\n")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    # The caller needs only the function's import path, not its dependencies.
    (code / "usesdep.py").write_text("def value():\n    import tinydep\n\n    return tinydep.VALUE\n")

    status, out, err = cli(
        capsys,
        "deploy",
        "mathfn",
        str(code / "mathwork.py"),
        str(code / "usesdep.py"),
        "--requirements",
        str(tmp_path / "requirements.txt"),
        "--role",
        ROLE,
        "--memory",
        "256",
        "--timeout",
        "30",
        "--environment",
        "MODE=test",
        "--reserved-concurrency",
        "5",
        "--endpoint-url",
        url,
    )
    assert status == 0, err
    assert out.startswith("created mathfn (arn:aws:lambda:") and "256 MB, 30 s" in out
    mathwork, usesdep = importlib.import_module("mathwork"), importlib.import_module("usesdep")
    with LambdaExecutor(endpoint_url=url, agent="mathfn") as executor:
        assert executor.submit(mathwork.add, 1, b=2).result() == 3
        assert executor.submit(usesdep.value).result() == 42
    status, out, err = cli(
        capsys, "invoke", "mathfn", '{"call": "mathwork:add", "args": [2, 3]}', "--logs", "--endpoint-url", url
    )
    assert (status, json.loads(out)) == (0, 5) and "REPORT RequestId:" in err
    assert local.stats("mathfn")["invocations"] == 3

    # Nothing changed: nothing is sent but reads.
    status, out, _ = cli(
        capsys,
        "update",
        "mathfn",
        str(code / "mathwork.py"),
        str(code / "usesdep.py"),
        "--requirements",
        str(tmp_path / "requirements.txt"),
        "--endpoint-url",
        url,
    )
    assert (status, out.strip()) == (0, "mathfn is up to date: nothing changed")
    # New code and one setting: both applied, the rest kept.
    (code / "mathwork.py").write_text((code / "mathwork.py").read_text() + "\n\ndef triple(x):\n    return 3 * x\n")
    status, out, err = cli(
        capsys,
        "update",
        "mathfn",
        str(code / "mathwork.py"),
        str(code / "usesdep.py"),
        "--requirements",
        str(tmp_path / "requirements.txt"),
        "--timeout",
        "45",
        "--endpoint-url",
        url,
    )
    assert status == 0, err
    assert out.startswith("updated mathfn: code, timeout 30 -> 45")
    importlib.reload(mathwork)
    with LambdaExecutor(endpoint_url=url, agent="mathfn") as executor:
        assert executor.submit(mathwork.triple, 7).result() == 21
        assert executor.submit(usesdep.value).result() == 42

    local.add_synthetic("not-ours")
    status, out, _ = cli(capsys, "list", "--endpoint-url", url)
    assert status == 0 and "mathfn" in out and "not-ours" not in out and "45 s" in out
    status, _, err = cli(capsys, "delete", "not-ours", "--endpoint-url", url)
    assert status == 1 and "not created by lambda-executor" in err and len(err.strip().splitlines()) == 1
    assert "not-ours" in local.functions()
    assert cli(capsys, "delete", "mathfn", "--endpoint-url", url)[0] == 0
    assert "mathfn" not in local.functions()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--memory", "64"], "--memory must be 128 to 10240"),
        (["--timeout", "901"], "--timeout must be 1 to 900"),
        (["--layer", "a"] * 6, "at most 5 layers"),
        (["--requirements", "no-such-requirements.txt"], "no-such-requirements.txt does not exist"),
        (["--environment", "NOEQUALS"], "--environment takes K=V"),
    ],
)
def test_bad_options_are_refused_before_anything_is_sent(local, code, capsys, argv, message):
    status, _, err = cli(
        capsys, "deploy", "fn", str(code / "mathwork.py"), "--role", ROLE, "--endpoint-url", local.endpoint_url, *argv
    )
    assert status == 2 and message in err
    assert "fn" not in local.functions()


def test_update_keeps_what_it_is_not_told_and_will_not_change_the_platform(local, code, capsys):
    url = local.endpoint_url
    assert (
        cli(
            capsys,
            "deploy",
            "own",
            str(code / "mathwork.py"),
            "--handler",
            "mathwork.add",
            "--role",
            ROLE,
            "--runtime",
            "python3.11",
            "--endpoint-url",
            url,
        )[0]
        == 0
    )
    status, out, err = cli(capsys, "update", "own", str(code / "mathwork.py"), "--memory", "256", "--endpoint-url", url)
    assert (status, out.strip()) == (0, "updated own: memory 512 -> 256"), err
    status, _, err = cli(
        capsys, "update", "own", str(code / "mathwork.py"), "--runtime", "python3.12", "--endpoint-url", url
    )
    assert status == 1 and "runs python3.11, not python3.12" in err
    status, _, err = cli(
        capsys, "update", "own", str(code / "mathwork.py"), "--architecture", "arm64", "--endpoint-url", url
    )
    assert status == 1 and "--architecture cannot change" in err


def test_deploy_publishes_versions_and_moves_an_alias(local, code, capsys):
    url = local.endpoint_url
    client = boto3_lambda(url)

    def call(qualified, function, *args):
        event = json.dumps({"call": f"mathwork:{function}", "args": list(args)}).encode()
        response = client.invoke(FunctionName=qualified, Payload=event)
        return response["ExecutedVersion"], json.loads(response["Payload"].read())

    deploy = ["deploy", "mathfn", str(code / "mathwork.py"), "--role", ROLE, "--endpoint-url", url]
    status, out, err = cli(capsys, *deploy, "--alias", "live")
    assert status == 0, err
    assert out.splitlines()[1:] == ["published mathfn version 1", "created alias live -> version 1"]
    assert call("mathfn:live", "add", 1, 2) == ("1", 3)

    (code / "mathwork.py").write_text((code / "mathwork.py").read_text() + "\n\ndef triple(x):\n    return 3 * x\n")
    status, out, err = cli(
        capsys, "update", "mathfn", str(code / "mathwork.py"), "--alias", "live", "--endpoint-url", url
    )
    assert status == 0, err
    assert out.splitlines() == [
        "updated mathfn: code",
        "published mathfn version 2",
        "alias live -> version 2 (was 1)",
    ]
    assert call("mathfn:live", "triple", 5) == ("2", 15)
    assert call("mathfn:1", "triple", 5)[1]["errorType"] == "AgentError"  # version 1 has no triple
    # Nothing changed: Lambda returns the last version rather than publish another.
    status, out, _ = cli(capsys, "update", "mathfn", str(code / "mathwork.py"), "--publish", "--endpoint-url", url)
    assert out.splitlines() == ["mathfn is up to date: nothing changed", "published mathfn version 2"]
    assert [v["Version"] for v in client.list_versions_by_function(FunctionName="mathfn")["Versions"]] == [
        "$LATEST",
        "1",
        "2",
    ]
    status, _, err = cli(capsys, *deploy, "--alias", "123")
    assert status == 2 and "--alias takes 1 to 128 letters" in err


def test_a_missing_path_or_role_is_refused(local, code, capsys):
    status, _, err = cli(
        capsys, "deploy", "fn", str(code / "nope.py"), "--role", ROLE, "--endpoint-url", local.endpoint_url
    )
    assert status == 2 and "nope.py does not exist" in err
    status, _, err = cli(capsys, "deploy", "fn", str(code / "mathwork.py"), "--endpoint-url", local.endpoint_url)
    assert status == 2 and "--role is required" in err


def test_the_control_plane_against_moto(moto_server, code, capsys):
    import boto3

    iam = boto3.client("iam", endpoint_url=moto_server, region_name="us-east-1")
    role = iam.create_role(
        RoleName="lambda-executor-tests",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    url = moto_server
    status, out, err = cli(
        capsys, "deploy", "mathfn", str(code / "mathwork.py"), "--role", role, "--memory", "256", "--endpoint-url", url
    )
    assert status == 0, err
    lambda_client = boto3.client("lambda", endpoint_url=url, region_name="us-east-1")
    created = lambda_client.get_function(FunctionName="mathfn")
    assert created["Tags"] == {"managed-by": "lambda-executor"}
    assert created["Configuration"]["Handler"] == "lambda_executor.agent.handler"
    with zipfile.ZipFile(code / "check.zip", "w"):
        pass
    status, out, _ = cli(capsys, "update", "mathfn", str(code / "mathwork.py"), "--endpoint-url", url)
    assert (status, out.strip()) == (0, "mathfn is up to date: nothing changed")
    status, out, err = cli(
        capsys, "update", "mathfn", str(code / "mathwork.py"), "--memory", "512", "--endpoint-url", url
    )
    assert status == 0 and "memory 256 -> 512" in out, err
    assert lambda_client.get_function_configuration(FunctionName="mathfn")["MemorySize"] == 512
    status, out, err = cli(
        capsys, "update", "mathfn", str(code / "mathwork.py"), "--alias", "live", "--endpoint-url", url
    )
    assert status == 0 and "created alias live -> version 1" in out, err
    assert lambda_client.get_alias(FunctionName="mathfn", Name="live")["FunctionVersion"] == "1"
    status, out, err = cli(
        capsys,
        "update",
        "mathfn",
        str(code / "mathwork.py"),
        "--timeout",
        "30",
        "--alias",
        "live",
        "--endpoint-url",
        url,
    )
    assert status == 0 and "alias live -> version 2 (was 1)" in out, err
    assert lambda_client.get_alias(FunctionName="mathfn", Name="live")["FunctionVersion"] == "2"

    lambda_client.create_function(
        FunctionName="theirs",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": (code / "check.zip").read_bytes()},
    )
    status, out, _ = cli(capsys, "list", "--endpoint-url", url)
    assert "mathfn" in out and "theirs" not in out
    status, _, err = cli(capsys, "delete", "theirs", "--endpoint-url", url)
    assert status == 1 and "refusing to delete theirs" in err
    status, _, err = cli(
        capsys, "deploy", "mathfn-2", str(code / "mathwork.py"), "--role", "not-an-arn", "--endpoint-url", url
    )
    assert (
        status == 1
        and err.startswith("lambda-executor deploy: CreateFunction: ")
        and len(err.strip().splitlines()) == 1
    )
    assert cli(capsys, "delete", "mathfn", "--endpoint-url", url)[0] == 0
    assert [f["FunctionName"] for f in lambda_client.list_functions()["Functions"]] == ["theirs"]


def test_boto3_manages_functions_in_local_lambda_as_in_aws(local):
    client = boto3_lambda(local.endpoint_url)
    v1 = zipped(app="def handler(event, context):\n    return {'version': 1, 'event': event}\n")
    created = client.create_function(
        FunctionName="zipped",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": v1},
        MemorySize=256,
        Timeout=10,
        Tags={"team": "a"},
        Environment={"Variables": {"K": "V"}},
    )
    assert (created["FunctionName"], created["MemorySize"], created["State"]) == ("zipped", 256, "Active")
    assert created["CodeSize"] == len(v1) and created["Environment"] == {"Variables": {"K": "V"}}
    with pytest.raises(client.exceptions.ResourceConflictException):
        client.create_function(
            FunctionName="zipped", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": v1}
        )
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.create_function(
            FunctionName="nohandler", Runtime="python3.12", Role=ROLE, Handler="missing.handler", Code={"ZipFile": v1}
        )

    def call():
        return json.loads(client.invoke(FunctionName="zipped", Payload=b'{"n": 1}')["Payload"].read())

    assert call() == {"version": 1, "event": {"n": 1}}
    client.update_function_code(
        FunctionName="zipped", ZipFile=zipped(app="def handler(event, context):\n    return {'version': 2}\n")
    )
    assert call() == {"version": 2}  # the warm environment of version 1 is not reused
    client.update_function_configuration(FunctionName="zipped", Timeout=20)
    client.put_function_concurrency(FunctionName="zipped", ReservedConcurrentExecutions=3)
    function = client.get_function(FunctionName="zipped")
    assert function["Configuration"]["Timeout"] == 20 and function["Configuration"]["MemorySize"] == 256
    assert function["Tags"] == {"team": "a"} and function["Concurrency"] == {"ReservedConcurrentExecutions": 3}
    assert client.list_tags(Resource=function["Configuration"]["FunctionArn"])["Tags"] == {"team": "a"}
    assert "zipped" in [f["FunctionName"] for f in client.list_functions()["Functions"]]
    client.delete_function(FunctionName="zipped")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="zipped")
