"""What the agent's tests share: the deployed code, and a spill location in moto's S3."""

import boto3
import pytest
from helpers import AGENT_CODE
from lambda_executor.bundle import stage


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """mathwork.py and the agent, laid out as `lambda-executor deploy` bundles them."""
    root = tmp_path_factory.mktemp("deployed")
    stage([AGENT_CODE / "mathwork.py"], root)
    return root


@pytest.fixture
def bucket(moto_server, monkeypatch):
    """A bucket in moto's S3, which the client reaches through AWS_ENDPOINT_URL_S3."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    s3.create_bucket(Bucket="spill")
    return s3


@pytest.fixture
def role(moto_server):
    """What Lambda gives a function with a role that may use the bucket: credentials (LocalLambda
    passes a handler none of its caller's), and here the same S3's endpoint."""
    return {"AWS_ACCESS_KEY_ID": "agent", "AWS_SECRET_ACCESS_KEY": "agent-secret", "AWS_ENDPOINT_URL_S3": moto_server}
