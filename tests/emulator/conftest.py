"""Fixtures of the emulator's tests."""

import json
import subprocess

import pytest
from helpers import boto3_lambda
from lambda_executor import LocalLambda


@pytest.fixture
def aws(aws_cli, local, tmp_path):
    """Runs `aws lambda ...` against the emulator; returns (exit code, parsed stdout, stderr)."""

    def run(*arguments):
        command = [str(aws_cli), "lambda", *arguments, "--endpoint-url", local.endpoint_url, "--region", "us-east-1"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr

    return run


@pytest.fixture
def local_s3(moto_server):
    """A LocalLambda reading code and layers from moto's S3."""
    with LocalLambda(s3_endpoint_url=moto_server) as local:
        yield local


@pytest.fixture
def lam(local_s3):
    """boto3's Lambda client of `local_s3` (reading a large package from S3 takes a while)."""
    return boto3_lambda(local_s3.endpoint_url, read_timeout=120)
