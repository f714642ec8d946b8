"""The AWS CLI (awscli from PyPI, real `aws` processes) against LocalLambda: versions, aliases
with weighted routing, invocations of a qualifier, concurrency and account settings, and the
refusals Lambda answers, as a shell user meets them."""

import json

import pytest
from helpers import zipped

ROLE = "arn:aws:iam::123456789012:role/lambda-executor-tests"
ARN = "arn:aws:lambda:us-east-1:123456789012:function"


def handler_zip(tmp_path, generation):
    path = tmp_path / f"code-{generation}.zip"
    path.write_bytes(zipped(app=f"def handler(event, context):\n    return {{'code': {generation}}}\n"))
    return f"fileb://{path}"


def test_versions_and_aliases_through_the_aws_cli(aws, local, tmp_path):
    code, _, err = aws(
        "create-function",
        *("--function-name", "f", "--runtime", "python3.12", "--role", ROLE, "--handler", "app.handler"),
        *("--zip-file", handler_zip(tmp_path, 1)),
    )
    assert code == 0, err
    assert aws("publish-version", "--function-name", "f", "--description", "first")[1]["Version"] == "1"
    assert aws("update-function-code", "--function-name", "f", "--zip-file", handler_zip(tmp_path, 2))[0] == 0
    assert aws("publish-version", "--function-name", "f")[1]["Version"] == "2"
    listed = aws("list-versions-by-function", "--function-name", "f")[1]["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]

    code, alias, err = aws(
        "create-alias",
        *("--function-name", "f", "--name", "live", "--function-version", "1"),
        *("--routing-config", '{"AdditionalVersionWeights": {"2": 0.5}}'),
    )
    assert code == 0, err
    assert (alias["AliasArn"], alias["RoutingConfig"]) == (f"{ARN}:f:live", {"AdditionalVersionWeights": {"2": 0.5}})
    executed = set()
    for attempt in range(40):
        code, answer, err = aws("invoke", "--function-name", "f:live", str(tmp_path / f"out-{attempt}.json"))
        assert code == 0, err
        result = json.loads((tmp_path / f"out-{attempt}.json").read_text())
        assert result == {"code": int(answer["ExecutedVersion"])}
        executed.add(answer["ExecutedVersion"])
        if executed == {"1", "2"}:
            break
    assert executed == {"1", "2"}, "40 calls at weight 0.5 all ran one version"

    code, updated, err = aws(
        "update-alias", "--function-name", "f", "--name", "live", "--function-version", "2", "--routing-config", "{}"
    )
    assert code == 0 and updated["FunctionVersion"] == "2" and "RoutingConfig" not in updated, err
    assert aws("get-alias", "--function-name", "f", "--name", "live")[1]["FunctionVersion"] == "2"
    code, answer, _ = aws("invoke", "--function-name", "f", "--qualifier", "live", str(tmp_path / "out.json"))
    assert (code, answer["ExecutedVersion"]) == (0, "2")
    assert [a["Name"] for a in aws("list-aliases", "--function-name", "f")[1]["Aliases"]] == ["live"]
    assert aws("delete-alias", "--function-name", "f", "--name", "live")[0] == 0
    assert aws("list-aliases", "--function-name", "f")[1]["Aliases"] == []

    assert aws("put-function-concurrency", "--function-name", "f", "--reserved-concurrent-executions", "3")[0] == 0
    assert aws("get-function-concurrency", "--function-name", "f")[1] == {"ReservedConcurrentExecutions": 3}
    settings = aws("get-account-settings")[1]
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 997

    code, _, err = aws("invoke", "--function-name", "f:9", str(tmp_path / "out.json"))
    assert code != 0
    assert f"(ResourceNotFoundException) when calling the Invoke operation: Function not found: {ARN}:f:9" in err


@pytest.mark.parametrize(
    "arguments, expected",
    [
        (
            ["invoke", "--function-name", "arn:aws:lambda:eu-west-1:123456789012:function:square", "out.json"],
            "(ResourceNotFoundException) when calling the Invoke operation: "
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
        ),
        (
            ["invoke", "--function-name", "arn:aws:lambda:us-east-1:999999999999:function:square", "out.json"],
            "(ResourceNotFoundException) when calling the Invoke operation: "
            "Function not found: arn:aws:lambda:us-east-1:999999999999:function:square",
        ),
        (
            ["invoke", "--function-name", "arn:aws-cn:lambda:cn-north-1:123456789012:function:square", "out.json"],
            "Functions from 'cn-north-1' are not reachable in this region ('us-east-1')",
        ),
        (
            ["invoke", "--function-name", "square:v9", "out.json"],
            f"Function not found: {ARN}:square:v9",
        ),
        (
            ["update-function-configuration", "--function-name", "square", "--role", "not-an-arn"],
            "(ValidationException) when calling the UpdateFunctionConfiguration operation: 1 validation error "
            "detected: Value 'not-an-arn' at 'role' failed to satisfy constraint",
        ),
        (
            ["update-function-configuration", "--function-name", "square", "--runtime", "python2.7"],
            "(InvalidParameterValueException) when calling the UpdateFunctionConfiguration operation: The runtime "
            "parameter of python2.7 is no longer supported for creating or updating AWS Lambda functions.",
        ),
    ],
)
def test_the_aws_cli_meets_lambdas_refusals(aws, local, arguments, expected):
    local.add_synthetic("square")
    code, _, err = aws(*arguments)
    assert code != 0 and expected in err, err
    assert local.stats("square")["invocations"] == 0
