"""(deploy) A function with numpy, pandas and scipy, a package past Lambda's 50 MB request limit:
`lambda-executor deploy` and `update` through S3, with the requirements in the package or in a
layer (--requirements-layer), beside the same work written by hand with boto3 (pip install --target
for Lambda's platform, zip, put_object, CreateFunction or UpdateFunctionCode from S3). Lambda and
S3 are one moto server's (a third party's): the figures are the client's work and what it sends.
Each step runs in a process of its own (seconds, CPU seconds, peak RSS). Needs PyPI: pip fills its
cache first, so that no row pays for downloads.

    python bench/run.py --scenario deploy
"""

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

from table import print_columns

REQUIREMENTS = "numpy\npandas\nscipy\n"
BUCKET = "bench-code"
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
PLATFORM = ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.12"]
BY_HAND = "boto3 by hand"


def run_deploy_bench(env):
    """The rows of (deploy)."""
    work = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    requirements = work / "requirements.txt"
    requirements.write_text(REQUIREMENTS)
    code = work / "app.py"
    code.write_text("import numpy, pandas, scipy\n\ndef handler(event, context):\n    return event\n")
    # pip's cache, filled once: no row below downloads.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "-r",
            requirements,
            "-d",
            work / "cache",
            *PLATFORM,
            "--only-binary=:all:",
        ],
        check=True,
    )
    moto, endpoint = serve_moto(env)
    env = dict(env, AWS_ENDPOINT_URL_S3=endpoint, AWS_ENDPOINT_URL_IAM=endpoint)
    try:
        role = prepare(endpoint)
        cli = ["--role", role, "--endpoint-url", endpoint, "--code-bucket", f"s3://{BUCKET}/packages"]
        layered = ["--requirements-layer", "--endpoint-url", endpoint, "--code-bucket", f"s3://{BUCKET}/packages"]
        steps = [
            ("deploy", "lambda-executor", ["deploy", "inline", str(code), "--requirements", str(requirements), *cli]),
            (
                "deploy",
                "lambda-executor --requirements-layer",
                ["deploy", "layered", str(code), "--requirements", str(requirements), *layered, "--role", role],
            ),
            ("deploy", BY_HAND, ["create", endpoint, role, str(code), str(requirements)]),
        ]
        changed = [
            (
                "update code",
                "lambda-executor",
                ["update", "inline", str(code), "--requirements", str(requirements), *cli[2:]],
            ),
            (
                "update code",
                "lambda-executor --requirements-layer",
                ["update", "layered", str(code), "--requirements", str(requirements), *layered],
            ),
            ("update code", BY_HAND, ["update", endpoint, role, str(code), str(requirements)]),
        ]
        rows = [measure(scenario, client, argv, env) for scenario, client, argv in steps]
        code.write_text(code.read_text() + "\nCHANGED = 1\n")
        rows += [measure(scenario, client, argv, env) for scenario, client, argv in changed]
    finally:
        moto.terminate()
        moto.wait()
    return rows


def measure(scenario, client, argv, env):
    child = "--by-hand" if client == BY_HAND else "--cli"
    out = subprocess.run(
        [sys.executable, __file__, child, *argv], capture_output=True, text=True, env=env, timeout=1800
    )
    if out.returncode != 0:
        return {"client": client, "scenario": scenario, "error": (out.stderr or out.stdout)[-300:]}
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row.update(client=client, scenario=scenario)
    print(json.dumps(row), flush=True)
    return row


def serve_moto(env):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return moto, endpoint


def prepare(endpoint):
    """The bucket, and a role moto's Lambda takes."""
    import boto3

    session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
    session.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    iam = session.client("iam", endpoint_url=endpoint)
    created = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))
    return created["Role"]["Arn"]


def run_cli(argv):
    from lambda_executor.cli import main

    return main(argv)


def by_hand(action, endpoint, role, code, requirements):
    """What a user writes without lambda-executor: install for Lambda's platform, zip, upload to
    S3, and point Lambda at the object."""
    import boto3

    with tempfile.TemporaryDirectory() as root:
        command = [sys.executable, "-m", "pip", "install", "-q", "-r", requirements, "--target", root, *PLATFORM]
        subprocess.run([*command, "--only-binary=:all:"], check=True)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(code, Path(code).name)
            for path in sorted(Path(root).rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root).as_posix())
    package = buffer.getvalue()
    boto3.client("s3", endpoint_url=endpoint).put_object(Bucket=BUCKET, Key="by-hand.zip", Body=package)
    lambda_client = boto3.client("lambda", endpoint_url=endpoint)
    if action == "create":
        lambda_client.create_function(
            FunctionName="by-hand",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"S3Bucket": BUCKET, "S3Key": "by-hand.zip"},
        )
    else:
        lambda_client.update_function_code(FunctionName="by-hand", S3Bucket=BUCKET, S3Key="by-hand.zip")
    return len(package)


def print_deploy_table(rows):
    """One table: each step's figures, and its seconds over those of the same step by hand."""
    lines = [("scenario", "client", "seconds", "cpu s", "peak MB", "vs by hand")]
    for scenario in ("deploy", "update code"):
        mine = [row for row in rows if row.get("scenario") == scenario]
        hand = next((row for row in mine if row["client"] == BY_HAND and "error" not in row), None)
        for row in mine:
            if "error" in row:
                lines.append((scenario, row["client"], "error: " + row["error"].splitlines()[-1][:60], "", "", ""))
                continue
            ratio = f"{hand['seconds'] / row['seconds']:.2f}x" if hand else "-"
            lines.append(
                (
                    scenario,
                    row["client"],
                    f"{row['seconds']:.1f}",
                    f"{row['cpu_seconds']:.1f}",
                    f"{row['peak_mb']:.0f}",
                    ratio,
                )
            )
    print_columns(lines)


def child(argv):
    """In a child process: one step, timed; prints one JSON line."""
    started = time.perf_counter()
    if argv[0] == "--cli":
        status = run_cli(argv[1:])
        if status != 0:
            sys.exit(status)
    else:
        by_hand(*argv[1:])
    seconds = time.perf_counter() - started
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    peak = max(u.ru_maxrss for u in usage) / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak}))


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    child(sys.argv[1:])
