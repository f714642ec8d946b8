"""LocalLambda answers as AWS does (issue 30), driven by boto3 and the AWS CLI. Each test names
where AWS's answer was recorded; docs/lambda-control-plane.md gathers them. "LocalStack's
snapshot" is tests/aws/services/lambda_/test_lambda_api.snapshot.json (or test_lambda.snapshot.json)
in github:localstack/localstack, whose tests marked aws.validated are recorded against AWS."""

import json

import pytest
from botocore.exceptions import ClientError
from helpers import zipped

ROLE = "arn:aws:iam::123456789012:role/lambda-executor-tests"
ARN = "arn:aws:lambda:us-east-1:123456789012:function"
# LocalStack's functions/lambda_response_size.py: a result of as many bytes as the event asks.
SIZED_RESULT_CODE = zipped(app="def handler(event, context):\n    return 'a' * event['bytenum']\n")


def create(client, name="f", code=SIZED_RESULT_CODE, **settings):
    arguments = {"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler"}
    return client.create_function(Code={"ZipFile": code}, **{**arguments, **settings})


def error_of(call):
    """(HTTP status, error code, message, the parsed body) of a call that must fail."""
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def test_a_result_over_6_mb_leaves_the_next_call_running_normally(client):
    """test_lambda.snapshot.json, TestLambdaBaseFeatures::test_lambda_too_large_response: two 7 MB
    results each answered so, "to make sure we didn't break further invocations"."""
    create(client)
    too_large = {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    for _ in range(2):
        response = client.invoke(FunctionName="f", Payload=json.dumps({"bytenum": 7 * 1024 * 1024}))
        assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
        assert json.loads(response["Payload"].read()) == too_large
    response = client.invoke(FunctionName="f", Payload=json.dumps({"bytenum": 10}))
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == "a" * 10
