"""Helpers shared by the tests."""

import contextlib
import io
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from lambda_executor.cli import main

AGENT_CODE = Path(__file__).parent / "agent_code"  # user code the agent tests deploy


def boto3_lambda(endpoint_url, **config):
    """A boto3 Lambda client for the emulator, with boto3's own retries off."""
    config.setdefault("retries", {"mode": "standard", "total_max_attempts": 1})
    return boto3.client(
        "lambda",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        config=Config(**config),
    )


def raw_invoke(endpoint_url, name, body, headers, *, timeout=30.0):
    """One raw Invoke API call (POST /2015-03-31/functions/NAME/invocations), as any HTTP client
    would make it: unsigned (LocalLambda does not check), never through a proxy. Returns (status,
    headers, body), for an HTTP error status too."""
    request = urllib.request.Request(
        f"{endpoint_url}/2015-03-31/functions/{name}/invocations",
        data=body,
        headers=headers,
        method="POST",
    )
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # LocalLambda is local
    try:
        with direct.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def zipped(**modules):
    """A zip of Python modules, as CreateFunction and UpdateFunctionCode take code: zipped(app="...")."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in modules.items():
            archive.writestr(f"{name}.py", text)
    return buffer.getvalue()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes; ps tells on Linux and macOS alike (and prints nothing
    # for a process reaped meanwhile).
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def in_forked_child(child, timeout=60.0):
    """Runs `child(report)` in a forked child, which fills the dict `report`; returns it.
    Whatever the child raises comes back as report["error"]; a child still running after
    `timeout` seconds is killed and fails the test."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        report = {}
        try:
            child(report)
        except BaseException as error:  # noqa: BLE001 - anything goes back to the parent
            report["error"] = repr(error)
        finally:
            os.write(write_end, json.dumps(report).encode())
            os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    with os.fdopen(read_end, "rb") as pipe:
        received = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([pipe], [], [], 0.1)
            if ready:
                chunk = os.read(pipe.fileno(), 65536)
                if not chunk:
                    break
                received += chunk
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"the forked child was still running after {timeout} s")
    os.waitpid(pid, 0)
    return json.loads(received)


def read_request(connection):
    """Reads one HTTP request with a Content-Length body from a socket; returns the body."""
    connection.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    length = next(lengths, 0)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return body


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DroppingServer:
    """Reads each request whole, then closes the connection without answering: the request was
    sent, so the function may have run."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.requests = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def serve(self):
        deadline = time.monotonic() + 60
        while not self.stopped.is_set() and time.monotonic() < deadline:
            try:
                connection, _ = self.listener.accept()
            except socket.timeout:
                continue
            with connection:
                read_request(connection)
                self.requests += 1

    def close(self):
        self.stopped.set()
        self.thread.join()
        self.listener.close()


class ScriptedServer:
    """An HTTP peer answering each Invoke with the next scripted (status, error type[, body]);
    then 200. With `request_id=False` it sends no Lambda request id, as a server that is not
    Lambda does."""

    def __init__(self, script, request_id=True):
        import http.server

        self.script = list(script)
        self.requests = 0
        self.headers = []  # each request's headers, as received
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests += 1
                outer.headers.append({name.lower(): value for name, value in self.headers.items()})
                status, error_type, *scripted_body = outer.script.pop(0) if outer.script else (200, None)
                default = {"ok": True} if status == 200 else {"message": "scripted", "Message": "scripted"}
                body = scripted_body[0] if scripted_body else json.dumps(default)
                self.send_response(status)
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.send_header("Content-Type", "application/json")
                if request_id:
                    self.send_header("x-amzn-RequestId", f"scripted-{outer.requests}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http.server_address[1]}"

    def close(self):
        self.http.shutdown()
        self.http.server_close()


def keepalive_of_connections_to(port):
    """For each of this process's TCP connections to `port` (the client's side), the seconds of
    silence before its first keep-alive probe, as the socket's own options say; None for one
    without keep-alive."""
    found = []
    folder = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    idle_option = getattr(socket, "TCP_KEEPIDLE", None) or socket.TCP_KEEPALIVE  # Linux, macOS
    for name in os.listdir(folder):
        try:
            duplicate = os.dup(int(name))
        except OSError:
            continue  # gone
        try:
            connection = socket.socket(fileno=duplicate)
        except OSError:
            os.close(duplicate)
            continue  # not a socket
        with connection:
            if connection.family not in (socket.AF_INET, socket.AF_INET6) or connection.type != socket.SOCK_STREAM:
                continue
            try:
                if connection.getpeername()[1] != port:
                    continue
            except OSError:
                continue  # listening, or not connected
            kept_alive = connection.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
            found.append(connection.getsockopt(socket.IPPROTO_TCP, idle_option) if kept_alive else None)
    return found


KEEPALIVE_IDLE = 45  # seconds of silence before the first probe: crates/engine/src/connector.rs


def assert_kept_alive(port):
    """Every connection this process has open to `port` has TCP keep-alive, probing after
    KEEPALIVE_IDLE seconds of silence."""
    settings = keepalive_of_connections_to(port)
    assert settings, "no connection is open"
    assert all(idle == KEEPALIVE_IDLE for idle in settings), settings


def cli(capsys, *argv):
    """Runs the command line; its exit status, standard output and standard error."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def wheel(folder, name, version, source, files=None):
    """A pure-Python wheel made on the spot, for pip to install with no index: the package `name`
    with `source` as its __init__.py, and `files` (path: bytes) beside it."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    dist = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/__init__.py", source)
        for inner, data in (files or {}).items():
            archive.writestr(inner, data)
        archive.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        archive.writestr(
            f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{dist}/RECORD", "")
    return path


@contextlib.contextmanager
def enforce_iam(moto_url):
    """Within the block, moto's server checks every call's signature and the caller's IAM policies,
    as AWS does (its users and policies made before it); after it, none again, whatever happened."""

    def checked_after(calls):
        request = urllib.request.Request(
            f"{moto_url}/moto-api/reset-auth", data=calls, method="POST", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(request, timeout=5)

    checked_after(b"0")
    try:
        yield
    finally:
        checked_after(b"inf")


# LocalLambda confines execution environments in cgroups where it can make them: as root on Linux.
needs_cgroups = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0, reason="cgroups are made as root on Linux"
)


def refusal(call):
    """(HTTP status, error code, message) of a boto3 call that must fail."""
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def invoke_ok(client, name, event=None):
    """The result of a boto3 invocation that must succeed."""
    answer = client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


@contextlib.contextmanager
def local_command(*arguments):
    """`lambda-executor local ARGUMENTS` in a process of its own, once it serves: yields the
    process and its endpoint URL, and kills it after the block if it still runs."""
    command = [sys.executable, "-m", "lambda_executor", "local", *arguments]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("LocalLambda serving at http://127.0.0.1:"), first_line + process.stderr.read()
        yield process, first_line.rsplit(" ", 1)[1].strip()
    finally:
        process.kill()
        process.wait(timeout=20)
