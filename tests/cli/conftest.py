"""What the command-line tests share: code to deploy, a role in moto's IAM."""

import json
import shutil

import boto3
import pytest
from helpers import AGENT_CODE


@pytest.fixture
def code(tmp_path, monkeypatch):
    """A copy of the deployed code the test can change, importable here too."""
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(AGENT_CODE / "mathwork.py", folder)
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.fixture
def moto_role(moto_server):
    """The ARN of a role in moto's IAM that Lambda may assume (moto's Lambda takes no other)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = boto3.client("iam", endpoint_url=moto_server, region_name="us-east-1")
    return iam.create_role(RoleName="lambda-executor-tests", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
