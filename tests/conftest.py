from pathlib import Path

import pytest

from helpers import boto3_lambda
from lambda_executor import LocalLambda

HANDLERS = Path(__file__).parent / "handlers"


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch):
    """Tests never reach AWS: dummy credentials and a fixed region."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def handlers():
    return HANDLERS


@pytest.fixture
def local():
    with LocalLambda() as emulator:
        yield emulator


@pytest.fixture
def client(local):
    return boto3_lambda(local.endpoint_url, max_pool_connections=50)
