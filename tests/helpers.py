"""Helpers shared by the tests."""
import json
import socket
import os
import time
import urllib.error
import urllib.request

import boto3
from botocore.config import Config


def boto3_lambda(endpoint_url, **config):
    """A boto3 Lambda client for the emulator, with boto3's own retries off."""
    config.setdefault("retries", {"mode": "standard", "total_max_attempts": 1})
    return boto3.client(
        "lambda",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        config=Config(**config),
    )


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def raw_invoke(local, name, body, headers):
    request = urllib.request.Request(
        f"{local.endpoint_url}/2015-03-31/functions/{name}/invocations", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def in_forked_child(child):
    """Runs `child(report)` in a forked child, which fills the dict `report`; returns it.
    Whatever the child raises comes back as report["error"]."""
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
    with os.fdopen(read_end) as pipe:
        report = json.loads(pipe.read())
    os.waitpid(pid, 0)
    return report


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
