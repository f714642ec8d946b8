"""LocalLambda refuses what Lambda refuses, with Lambda's error types and messages, seen through
boto3: functions of another region, account or partition, unknown qualifiers, malformed roles
and runtimes Lambda no longer takes."""

import datetime

import pytest
from helpers import zipped

ROLE = "arn:aws:iam::123456789012:role/lambda-executor-tests"
HANDLER_CODE = zipped(app="def handler(event, context):\n    return event\n")


def create(client, **settings):
    """CreateFunction of a function "f" with valid settings but for those given."""
    arguments = {"FunctionName": "f", "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler"}
    return client.create_function(Code={"ZipFile": HANDLER_CODE}, **{**arguments, **settings})


def error_of(call):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return raised.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]


@pytest.mark.parametrize(
    "reference, status, code, message",
    [
        (
            "arn:aws:lambda:eu-west-1:123456789012:function:square",
            404,
            "ResourceNotFoundException",
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
        ),
        (
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:square",
            404,
            "ResourceNotFoundException",
            "Functions from 'cn-north-1' are not reachable in this region ('us-east-1')",
        ),
        (
            "arn:aws:lambda:us-east-1:999999999999:function:square",
            404,
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:999999999999:function:square",
        ),
        (
            "999999999999:function:square",
            404,
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:999999999999:function:square",
        ),
        (
            "arn:aws-cn:lambda:us-east-1:123456789012:function:square",
            404,
            "ResourceNotFoundException",
            "Function not found: arn:aws-cn:lambda:us-east-1:123456789012:function:square",
        ),
        (
            "square:v9",
            404,
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:square:v9",
        ),
    ],
)
def test_a_function_that_is_not_here_is_not_run(local, client, reference, status, code, message):
    local.add_synthetic("square")
    assert error_of(lambda: client.invoke(FunctionName=reference, Payload=b"{}")) == (status, code, message)
    assert error_of(lambda: client.get_function(FunctionName=reference)) == (status, code, message)
    assert local.stats("square")["invocations"] == 0


def test_this_accounts_arns_name_its_functions(local, client):
    local.add_synthetic("square")
    for reference in (
        "arn:aws:lambda:us-east-1:123456789012:function:square",
        "123456789012:function:square",
        "arn:aws:lambda:us-east-1:123456789012:function:square:$LATEST",
    ):
        assert client.invoke(FunctionName=reference, Payload=b"{}")["ExecutedVersion"] == "$LATEST"
        assert client.get_function(FunctionName=reference)["Configuration"]["FunctionName"] == "square"
    assert client.list_tags(Resource="arn:aws:lambda:us-east-1:123456789012:function:square")["Tags"] == {}


def test_a_qualifier_beside_a_qualified_name_must_agree(local, client):
    local.add_synthetic("square")
    status, code, message = error_of(lambda: client.invoke(FunctionName="square:$LATEST", Qualifier="7"))
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == "The derived qualifier from the function name does not match the specified qualifier."


def test_a_role_that_is_not_a_role_arn_is_a_validation_error(client):
    status, code, message = error_of(lambda: create(client, Role="not-an-arn"))
    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value 'not-an-arn' at 'role' failed to satisfy constraint: Member must "
        r"satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
    )
    for role in ("arn:aws:iam::123456789012:role", "arn:aws:iam::12345:role/x", "arn:aws:s3::123456789012:role/x"):
        assert error_of(lambda role=role: create(client, Role=role))[1] == "ValidationException"


def test_runtimes_lambda_no_longer_takes_are_refused_as_lambda_refuses_them(local, client):
    """AWS's table of deprecated runtimes (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html,
    June 2026): python3.7 has been blocked from creation since 9 January 2024 and python2.7 from
    updates since 30 May 2022; python3.8 may still be created until 1 February 2027 and updated to
    until 3 March 2027 (AWS accepted it on update in November 2025)."""
    assert error_of(lambda: create(client, Runtime="python2.7")) == (
        400,
        "InvalidParameterValueException",
        "The runtime parameter of python2.7 is no longer supported for creating or updating AWS Lambda functions. "
        "We recommend you use a supported runtime while creating or updating functions.",
    )
    assert error_of(lambda: create(client, Runtime="python3.7"))[2].startswith(
        "The runtime parameter of python3.7 is no longer supported"
    )
    status, code, message = error_of(lambda: create(client, Runtime="nodejs20.x"))
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message.startswith("LocalLambda runs the Python runtimes python3.8") and message.endswith("not nodejs20.x")
    assert local.functions() == []
    create(client, Runtime="python3.13")
    assert error_of(lambda: client.update_function_configuration(FunctionName="f", Runtime="python2.7"))[2].startswith(
        "The runtime parameter of python2.7 is no longer supported"
    )
    if datetime.date.today() < datetime.date(2027, 3, 3):
        updated = client.update_function_configuration(FunctionName="f", Runtime="python3.8")
        assert updated["Runtime"] == "python3.8"
        assert client.invoke(FunctionName="f", Payload=b'{"x": 1}')["Payload"].read() == b'{"x": 1}'
    else:
        assert error_of(lambda: client.update_function_configuration(FunctionName="f", Runtime="python3.8"))[1] == (
            "InvalidParameterValueException"
        )
    if datetime.date.today() < datetime.date(2027, 2, 1):
        assert create(client, FunctionName="g", Runtime="python3.8")["Runtime"] == "python3.8"
    else:
        assert error_of(lambda: create(client, FunctionName="g", Runtime="python3.8"))[1] == (
            "InvalidParameterValueException"
        )
