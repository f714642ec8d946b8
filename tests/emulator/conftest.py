"""Fixtures of the emulator's tests."""

import json
import subprocess

import pytest


@pytest.fixture
def aws(aws_cli, local, tmp_path):
    """Runs `aws lambda ...` against the emulator; returns (exit code, parsed stdout, stderr)."""

    def run(*arguments):
        command = [str(aws_cli), "lambda", *arguments, "--endpoint-url", local.endpoint_url, "--region", "us-east-1"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr

    return run
