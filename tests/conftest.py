import http.server
import importlib
import json
import os
import ssl
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from certificates import write_test_pki
from helpers import AGENT_CODE, boto3_lambda, free_port, wait_for
from lambda_executor import LambdaExecutor, LocalLambda

HANDLERS = Path(__file__).parent / "handlers"


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch, tmp_path_factory):
    """Tests never reach AWS nor the instance metadata service: dummy credentials, a fixed
    region, no profile files."""
    nowhere = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(nowhere / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere / "credentials"))
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_LAMBDA",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
        "AWS_REGION",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    # Nor the machine's own trust and proxy settings: a test that wants them sets its own.
    for name in ("AWS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def handlers():
    return HANDLERS


@pytest.fixture
def mathwork(monkeypatch):
    """The deployed code, importable here too (as it would be in the caller's project)."""
    monkeypatch.syspath_prepend(str(AGENT_CODE))
    return importlib.import_module("mathwork")


@pytest.fixture
def local():
    with LocalLambda() as emulator:
        yield emulator


@pytest.fixture
def client(local):
    return boto3_lambda(local.endpoint_url, max_pool_connections=50)


@pytest.fixture
def executor(local):
    with LambdaExecutor(max_workers=50, endpoint_url=local.endpoint_url) as pool:
        yield pool


def _moto():
    """moto's server on loopback: a Lambda (and IAM) implementation nobody here wrote. It knows
    AWS's managed policies (AWSLambdaBasicExecutionRole, say) and does not check who calls until
    POST /moto-api/reset-auth says so."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def up():
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
                return True
            except OSError:
                return False

        wait_for(up, seconds=30)
        config = urllib.request.Request(
            f"{url}/moto-api/config", method="POST", data=json.dumps({"lambda": {"use_docker": False}}).encode()
        )
        urllib.request.urlopen(config, timeout=5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def moto_server():
    yield from _moto()


@pytest.fixture
def another_moto_server():
    """A second moto, with an IAM of its own (a Lambda whose IAM lags behind the one roles are made in)."""
    yield from _moto()


@pytest.fixture(scope="session")
def aws_cli(pytestconfig, tmp_path_factory):
    """The AWS CLI (awscli from PyPI) in a virtualenv of its own, made once and kept in pytest's
    cache (when it is on). awscli pins one botocore exactly; beside the bench extras' aiobotocore,
    which pins botocore too, pip backtracks for many minutes, so it is not one of the test extras."""
    cache = getattr(pytestconfig, "cache", None)
    venv = cache.mkdir("awscli-venv") if cache else tmp_path_factory.mktemp("awscli-venv")
    aws = venv / "bin" / "aws"
    if not aws.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "awscli"]
        subprocess.run(install, check=True, timeout=600)
    return aws


@pytest.fixture(scope="session")
def chain(tmp_path_factory):
    """A CA file and a server certificate for localhost signed by it; plus an unrelated CA."""
    return write_test_pki(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_lambda(chain):
    """An HTTPS peer answering Invoke with the event it was sent, on kept-alive connections."""
    connections = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            connections.append(self.client_address)
            super().setup()

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Amz-Executed-Version", "$LATEST")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain / "server.pem", chain / "server.key")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"https://localhost:{server.server_address[1]}", connections
    server.shutdown()
    server.server_close()
