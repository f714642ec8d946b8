"""What holds on every platform, Windows included: the release workflow runs this file alone on
Windows, where LocalLambda cannot run (awslambdaric is Unix-only); elsewhere it runs with the rest."""

import io
import subprocess
import sys
import zipfile

import boto3
import pytest
from lambda_executor import LambdaExecutor, LocalLambda


def test_importing_the_package_loads_nothing_heavy():
    """A notebook pays for asyncio, tqdm, zipfile and the deploy code only when it uses them."""
    lazy = ["asyncio", "tqdm", "zipfile", "lambda_executor.cli", "lambda_executor.bundle"]
    script = f"import sys, lambda_executor; print([name for name in {lazy!r} if name in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_local_lambda_runs_where_awslambdaric_runs():
    """On Windows, a clear error when it is created; elsewhere it serves."""
    if sys.platform == "win32":
        with pytest.raises(NotImplementedError, match="awslambdaric, which runs on Linux and macOS only"):
            LocalLambda()
    else:
        with LocalLambda() as local:
            assert local.endpoint_url.startswith("http://127.0.0.1:")


def test_against_moto_a_server_nobody_here_wrote(moto_server):
    iam = boto3.client("iam", endpoint_url=moto_server, region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda", endpoint_url=moto_server, region_name="us-east-1").create_function(
        FunctionName="moto-echo",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )
    with LambdaExecutor(endpoint_url=moto_server) as executor:
        events = [{"n": n} for n in range(20)]
        # moto's docker-free Invoke echoes the request body.
        assert list(executor.map("moto-echo", events)) == events
        future = executor.submit("moto-echo", {"single": True})
        assert future.result(timeout=30) == {"single": True}
    assert future.invocation.status_code == 200
    assert future.invocation.request_id  # moto's own x-amzn-RequestId
