"""`lambda-executor deploy | update | list | delete | invoke`: offline end to end against LocalLambda
(deploy, then call a plain Python function through the agent), and the control plane against
moto's server, a Lambda implementation nobody here wrote; --create-role and delete --role against
moto's IAM, with LocalLambda or moto's Lambda."""

import http.server
import importlib
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile

import pytest
from helpers import boto3_lambda, cli, wait_for, wheel, zipped
from lambda_executor import LambdaExecutor
from lambda_executor.cli import main

ROLE = "arn:aws:iam::123456789012:role/lambda-executor-tests"


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
    # Against LocalLambda the runtime is the one it really runs, so compiled requirements import.
    mine = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert boto3_lambda(url).get_function_configuration(FunctionName="mathfn")["Runtime"] == mine
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


def test_the_control_plane_against_moto(moto_server, moto_role, code, capsys):
    role = moto_role
    url = moto_server
    status, out, err = cli(
        capsys, "deploy", "mathfn", str(code / "mathwork.py"), "--role", role, "--memory", "256", "--endpoint-url", url
    )
    assert status == 0, err
    lambda_client = boto3_lambda(url)
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
    # Pending in the create's answer, as on AWS (docs/lambda-control-plane.md).
    assert (created["FunctionName"], created["MemorySize"], created["State"]) == ("zipped", 256, "Pending")
    assert created["CodeSize"] == len(v1) and created["Environment"] == {"Variables": {"K": "V"}}
    with pytest.raises(client.exceptions.ResourceConflictException):
        client.create_function(
            FunctionName="zipped", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": v1}
        )
    # Code without the handler's module is accepted, as Lambda accepts it; its first invoke fails
    # (docs/lambda-control-plane.md).
    accepted = client.create_function(
        FunctionName="nohandler", Runtime="python3.12", Role=ROLE, Handler="missing.handler", Code={"ZipFile": v1}
    )
    assert accepted["Handler"] == "missing.handler"
    assert client.invoke(FunctionName="nohandler", Payload=b"{}")["FunctionError"] == "Unhandled"

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


EXECUTION_ROLE = "arn:aws:iam::123456789012:role/lambda-executor-execution"
BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def moto_iam(url):
    import boto3

    return boto3.client("iam", endpoint_url=url, region_name="us-east-1")


def test_create_role_makes_one_role_for_every_function_and_delete_removes_it_with_the_last(
    local, moto_server, code, capsys
):
    # Lambda is LocalLambda (it takes any role ARN); IAM is moto's, never --endpoint-url's.
    endpoints = ["--endpoint-url", local.endpoint_url, "--iam-endpoint-url", moto_server]
    iam = moto_iam(moto_server)
    status, out, err = cli(capsys, "deploy", "first", str(code / "mathwork.py"), "--create-role", *endpoints)
    assert status == 0, err
    assert out.splitlines()[0] == (
        f"created role lambda-executor-execution ({EXECUTION_ROLE}): Lambda may assume it, to write logs only"
    )
    role = iam.get_role(RoleName="lambda-executor-execution")["Role"]
    assert role["Tags"] == [{"Key": "managed-by", "Value": "lambda-executor"}]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    attached = iam.list_attached_role_policies(RoleName="lambda-executor-execution")["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [BASIC_EXECUTION_POLICY]
    assert iam.list_role_policies(RoleName="lambda-executor-execution")["PolicyNames"] == []
    assert boto3_lambda(local.endpoint_url).get_function(FunctionName="first")["Configuration"]["Role"] == (
        EXECUTION_ROLE
    )
    status, out, err = cli(capsys, "invoke", "first", '{"call": "mathwork:add", "args": [2, 3]}', *endpoints[:2])
    assert (status, json.loads(out)) == (0, 5), err

    status, out, err = cli(capsys, "deploy", "second", str(code / "mathwork.py"), "--create-role", *endpoints)
    assert status == 0, err
    assert out.splitlines()[0] == (
        f"using role lambda-executor-execution ({EXECUTION_ROLE}), created by lambda-executor"
    )
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["lambda-executor-execution"]

    status, out, err = cli(capsys, "delete", "first", "--role", *endpoints)
    assert (status, out.splitlines()) == (
        0,
        ["deleted first", "kept role lambda-executor-execution: still used by second"],
    ), err
    status, out, err = cli(capsys, "delete", "second", "--role", *endpoints)
    assert (status, out.splitlines()) == (0, ["deleted second", "deleted role lambda-executor-execution"]), err
    assert iam.list_roles()["Roles"] == []
    assert local.functions() == []


def test_create_role_will_not_take_a_role_of_that_name_it_did_not_create(local, moto_server, code, capsys, monkeypatch):
    # IAM's endpoint from the environment, as the AWS SDKs read it.
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", moto_server)
    theirs = moto_iam(moto_server).create_role(
        RoleName="lambda-executor-execution", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    deploy = ["deploy", "fn", str(code / "mathwork.py"), "--endpoint-url", local.endpoint_url]
    status, out, err = cli(capsys, *deploy, "--create-role")
    assert status == 1 and out == ""
    assert err.strip() == (
        "lambda-executor deploy: role lambda-executor-execution exists but was not created by lambda-executor "
        "(no managed-by=lambda-executor tag), so --create-role will not use it: pass it with "
        f"--role {theirs} to use it as it is, or name another with --create-role NAME"
    )
    assert "fn" not in local.functions()
    # As the message says: --role takes it as it is, and delete --role leaves it alone.
    assert cli(capsys, *deploy, "--role", theirs)[0] == 0
    status, out, err = cli(capsys, "delete", "fn", "--role", "--endpoint-url", local.endpoint_url)
    assert (status, out.splitlines()) == (
        0,
        [
            "deleted fn",
            "kept role lambda-executor-execution: it was not created by lambda-executor "
            "(no managed-by=lambda-executor tag)",
        ],
    ), err
    assert moto_iam(moto_server).get_role(RoleName="lambda-executor-execution")["Role"]["Arn"] == theirs

    status, _, err = cli(capsys, *deploy, "--create-role", "no spaces")
    assert status == 2 and "--create-role takes 1 to 64 letters" in err


@pytest.fixture
def moto_iam_in_iam_envelope(moto_server):
    """moto's IAM behind a loopback relay that hands on its answers, with its access-control errors
    in IAM's envelope: moto wraps them in an <Errors> element IAM does not have (getmoto/moto#7641),
    and the AWS SDK for Rust, reading IAM's, finds no error code in them."""

    class Relay(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            # The same headers, Host included: moto checks the signature made for them.
            request = urllib.request.Request(moto_server + self.path, data=body, headers=dict(self.headers))
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status, answer = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, answer = error.code, error.read().replace(b"<Errors>", b"").replace(b"</Errors>", b"")
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_without_iam_rights_create_role_names_the_permission_and_points_to_role(
    local, moto_server, moto_iam_in_iam_envelope, code, capsys, monkeypatch
):
    # A user with no IAM rights at all (LocalLambda, standing in for Lambda, checks no rights).
    iam = moto_iam(moto_server)
    iam.create_user(UserName="deployer")
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    # From here on moto checks every call's signature and the caller's policies, as IAM does.
    enforce = urllib.request.Request(
        f"{moto_server}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(enforce, timeout=5)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])

    status, out, err = cli(
        capsys,
        "deploy",
        "fn",
        str(code / "mathwork.py"),
        "--create-role",
        "--endpoint-url",
        local.endpoint_url,
        "--iam-endpoint-url",
        moto_iam_in_iam_envelope,
    )
    assert status == 1 and out == "" and len(err.strip().splitlines()) == 1
    # (What follows the error code is moto's wording, which its releases vary.)
    assert err.startswith("lambda-executor deploy: GetRole: AccessDenied: ")
    assert err.strip().endswith(
        "(these credentials lack the permission iam:GetRole); pass an existing execution role with --role ARN "
        "instead of --create-role"
    )
    assert key["SecretAccessKey"] not in err and "Signature" not in err
    assert "fn" not in local.functions()


def test_create_function_waits_for_a_new_role_lambda_cannot_assume_yet(moto_server, another_moto_server, code, capsys):
    # Roles are made in one moto's IAM; the other moto's Lambda refuses them, as Lambda refuses a
    # role IAM has not propagated yet, until its own IAM has the role too, a little later.
    lagging = moto_iam(another_moto_server)

    def propagate():
        wait_for(lambda: moto_iam(moto_server).list_roles()["Roles"], seconds=30)
        time.sleep(2)
        lagging.create_role(
            RoleName="lambda-executor-execution", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
        )

    propagation = threading.Thread(target=propagate)
    propagation.start()
    status, out, err = cli(
        capsys,
        "deploy",
        "fn",
        str(code / "mathwork.py"),
        "--create-role",
        "--endpoint-url",
        another_moto_server,
        "--iam-endpoint-url",
        moto_server,
    )
    propagation.join()
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("created role lambda-executor-execution")
    retries = [line for line in lines if line.startswith("Lambda cannot assume the new role yet")]
    assert 1 <= len(retries) <= 3 and lines[len(retries) + 1].startswith("created fn (arn:aws:lambda:")
    created = boto3_lambda(another_moto_server).get_function(FunctionName="fn")["Configuration"]
    assert created["Role"] == EXECUTION_ROLE


def test_update_help_says_what_an_option_left_out_does(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # argparse wraps lines at hyphens too

    def help_of(command):
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0
        return " ".join(capsys.readouterr().out.split())

    deploy, update = help_of("deploy"), help_of("update")
    assert "128 to 10240 (default 512)" in deploy and "1 to 900 seconds (default 60)" in deploy
    assert "(required to create, or --create-role)" in deploy and "--create-role [NAME]" in deploy
    assert "an option left out keeps the function's current value" in update
    assert (
        "128 to 10240 (left out: unchanged)" in update
        and "--role ARN the execution role (left out: unchanged)" in update
    )
    assert "default 512" not in update and "required to create" not in update and "--create-role" not in update
    assert "the function's own: it cannot change by update" in update


def test_a_function_runs_under_its_runtimes_python_or_createfunction_says_which_does(
    local, tmp_path, monkeypatch, capfd
):
    others = [f"python3.{minor}" for minor in range(9, 15) if minor != sys.version_info.minor]
    installed, missing = others[-1], others[0]
    # `installed` is on PATH with awslambdaric (this interpreter, marked so the handler can tell).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / installed
    wrapper.write_text(f'#!/bin/sh\nexport PICKED_BY=wrapper\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    client = boto3_lambda(local.endpoint_url)
    code = zipped(where="import os\ndef handler(event, context):\n    return os.environ.get('PICKED_BY')\n")
    for name, runtime in (("on-path", installed), ("not-on-path", missing)):
        client.create_function(
            FunctionName=name, Runtime=runtime, Role=ROLE, Handler="where.handler", Code={"ZipFile": code}
        )
    answers = {
        name: json.loads(client.invoke(FunctionName=name)["Payload"].read()) for name in ("on-path", "not-on-path")
    }
    assert answers == {"on-path": "wrapper", "not-on-path": None}
    mine = f"{sys.version_info.major}.{sys.version_info.minor}"
    err = capfd.readouterr().err
    assert f"not-on-path asks for {missing}, but {missing} is not on PATH, so it runs under Python {mine}" in err, err
    assert "on-path asks for" not in err.replace("not-on-path asks for", "")


def test_create_role_with_spill_lets_the_role_use_that_location_and_nothing_else_of_s3(
    local, moto_server, code, capsys
):
    endpoints = ["--endpoint-url", local.endpoint_url, "--iam-endpoint-url", moto_server]
    deploy = ["deploy", "fn", str(code / "mathwork.py"), "--create-role", "--spill", "s3://spill/runs", *endpoints]
    status, out, err = cli(capsys, *deploy)
    assert status == 0, err
    assert "role lambda-executor-execution may read and write s3://spill/runs" in out
    iam = moto_iam(moto_server)
    assert iam.list_role_policies(RoleName="lambda-executor-execution")["PolicyNames"] == ["lambda-executor-spill"]
    document = iam.get_role_policy(RoleName="lambda-executor-execution", PolicyName="lambda-executor-spill")
    assert document["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::spill/runs/*"}
    ]
    status, out, err = cli(capsys, "deploy", "other", str(code / "mathwork.py"), "--spill", "s3://spill/runs")
    assert status == 2 and "--spill goes with --create-role" in err
