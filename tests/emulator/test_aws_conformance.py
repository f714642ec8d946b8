"""LocalLambda answers as AWS does (issue 30), driven by boto3 and the AWS CLI. Each test names
where AWS's answer was recorded; docs/lambda-control-plane.md gathers them. "LocalStack's
snapshot" is tests/aws/services/lambda_/test_lambda_api.snapshot.json (or test_lambda.snapshot.json)
in github:localstack/localstack, whose tests marked aws.validated are recorded against AWS."""

import json
import time

import pytest
from botocore.exceptions import ClientError
from helpers import refusal, zipped

ROLE = "arn:aws:iam::123456789012:role/lambda-executor-tests"
ARN = "arn:aws:lambda:us-east-1:123456789012:function"
# LocalStack's functions/lambda_response_size.py: a result of as many bytes as the event asks.
SIZED_RESULT_CODE = zipped(app="def handler(event, context):\n    return 'a' * event['bytenum']\n")


def create(client, name="f", code=SIZED_RESULT_CODE, **settings):
    arguments = {"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler"}
    return client.create_function(Code={"ZipFile": code}, **{**arguments, **settings})


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


def generation_code(generation):
    return zipped(app=f"def handler(event, context):\n    return {{'code': {generation}}}\n")


def test_publish_on_create_and_on_update_code_publishes_a_version(client):
    """LocalStack's snapshot, TestLambdaVersions::test_publish_version_on_create (version 1's
    configuration under the unqualified ARN; publishing again with nothing changed is version 1)
    and ::test_publish_with_update (the version's own ARN)."""
    created = create(client, code=generation_code(1), Publish=True)
    assert (created["Version"], created["FunctionArn"]) == ("1", f"{ARN}:f")
    assert client.get_function(FunctionName="f", Qualifier="1")["Configuration"]["Version"] == "1"
    assert client.publish_version(FunctionName="f")["Version"] == "1"

    updated = client.update_function_code(FunctionName="f", ZipFile=generation_code(2), Publish=True)
    assert (updated["Version"], updated["FunctionArn"]) == ("2", f"{ARN}:f:2")
    listed = client.list_versions_by_function(FunctionName="f")["Versions"]
    assert [version["Version"] for version in listed] == ["$LATEST", "1", "2"]
    for version, generation in [("1", 1), ("2", 2)]:
        response = client.invoke(FunctionName="f", Qualifier=version, Payload=b"{}")
        assert (response["ExecutedVersion"], json.loads(response["Payload"].read())) == (version, {"code": generation})


def test_update_function_configuration_has_no_publish(client, aws, tmp_path):
    """Lambda's API model (botocore's lambda/2015-03-31/service-2.json) gives CreateFunction and
    UpdateFunctionCode a Publish member, UpdateFunctionConfiguration none: the AWS CLI refuses
    --publish there before sending anything."""
    members = {
        operation: client.meta.service_model.operation_model(operation).input_shape.members
        for operation in ["CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration"]
    }
    assert ["Publish" in members[operation] for operation in members] == [True, True, False]
    create(client, code=generation_code(1))
    code, _, err = aws("update-function-configuration", "--function-name", "f", "--timeout", "9", "--publish")
    assert code != 0 and "Unknown options: --publish" in err
    assert [v["Version"] for v in client.list_versions_by_function(FunctionName="f")["Versions"]] == ["$LATEST"]


STALE_REVISION = (
    412,
    "PreconditionFailedException",
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
)


def test_a_stale_revision_id_is_refused_and_every_change_makes_a_new_one(client):
    """LocalStack's snapshot, TestLambdaRevisions::test_function_revisions_basic (UpdateFunctionCode,
    UpdateFunctionConfiguration; the end of each step makes a new RevisionId too) and
    ::test_function_revisions_version_and_alias (PublishVersion, which changes $LATEST's
    RevisionId too; UpdateAlias): 412 PreconditionFailedException."""

    def latest_revision():
        return client.get_function(FunctionName="f")["Configuration"]["RevisionId"]

    created = create(client, code=generation_code(1))["RevisionId"]
    active = latest_revision()
    assert active != created
    assert (
        refusal(lambda: client.update_function_code(FunctionName="f", ZipFile=generation_code(2), RevisionId=created))
        == STALE_REVISION
    )
    updating = client.update_function_code(FunctionName="f", ZipFile=generation_code(2), RevisionId=active)[
        "RevisionId"
    ]
    updated = latest_revision()
    assert len({created, active, updating, updated}) == 4

    assert (
        refusal(lambda: client.update_function_configuration(FunctionName="f", Timeout=9, RevisionId=updating))
        == STALE_REVISION
    )
    assert client.get_function_configuration(FunctionName="f")["Timeout"] == 3
    client.update_function_configuration(FunctionName="f", Timeout=9, RevisionId=updated)
    configured = latest_revision()
    assert configured != updated

    assert refusal(lambda: client.publish_version(FunctionName="f", RevisionId=updated)) == STALE_REVISION
    version = client.publish_version(FunctionName="f", RevisionId=configured)["RevisionId"]
    assert client.get_function(FunctionName="f", Qualifier="1")["Configuration"]["RevisionId"] == version
    published = latest_revision()
    assert len({configured, version, published}) == 3

    alias = client.create_alias(FunctionName="f", Name="live", FunctionVersion="1")["RevisionId"]
    assert latest_revision() == published
    assert (
        refusal(lambda: client.update_alias(FunctionName="f", Name="live", Description="x", RevisionId=published))
        == STALE_REVISION
    )
    assert client.update_alias(FunctionName="f", Name="live", Description="x", RevisionId=alias)["RevisionId"] != alias


def test_a_create_or_an_update_answers_with_its_step_under_way_and_ends_it_at_once(client):
    """LocalStack's snapshot: TestLambdaVersions::test_publish_version_on_create (the create's
    answer: Pending, Creating) and TestLambdaFunction::test_function_lifecycle (an update's:
    InProgress; reads after the step: Active, Successful). boto3's waiters find the step ended at
    their first look."""
    created = create(client)
    assert (created["State"], created["StateReason"], created["StateReasonCode"]) == (
        "Pending",
        "The function is being created.",
        "Creating",
    )
    assert "LastUpdateStatus" not in created

    def wait(waiter):
        """boto3's waiter, which must not have had to wait (it polls once a second)."""
        started = time.monotonic()
        client.get_waiter(waiter).wait(FunctionName="f")
        assert time.monotonic() - started < 1

    wait("function_active_v2")
    configuration = client.get_function_configuration(FunctionName="f")
    assert (configuration["State"], configuration["LastUpdateStatus"]) == ("Active", "Successful")
    assert "StateReason" not in configuration
    for update in [
        lambda: client.update_function_code(FunctionName="f", ZipFile=generation_code(2)),
        lambda: client.update_function_configuration(FunctionName="f", Timeout=9),
    ]:
        updating = update()
        assert (updating["State"], updating["LastUpdateStatus"], updating["LastUpdateStatusReasonCode"]) == (
            "Active",
            "InProgress",
            "Creating",
        )
        wait("function_updated_v2")
        configuration = client.get_function_configuration(FunctionName="f")
        assert configuration["LastUpdateStatus"] == "Successful" and "LastUpdateStatusReason" not in configuration


def test_a_stale_revision_id_through_the_aws_cli(client, aws):
    """As above (test_function_revisions_basic), as a shell user meets it."""
    create(client)
    code, _, err = aws(
        "update-function-configuration", "--function-name", "f", "--timeout", "9", "--revision-id", "wrong"
    )
    assert code != 0
    assert "(PreconditionFailedException) when calling the UpdateFunctionConfiguration operation" in err
    assert STALE_REVISION[2] in err


def test_deleting_a_version_or_alias_that_is_not_there_is_done(client):
    """LocalStack's snapshot: TestLambdaFunction::test_delete_on_nonexisting_version (a missing
    version of a function: 204, twice; of a missing function: 404 naming the function alone) and
    TestLambdaAlias::test_non_existent_alias_deletion (204)."""
    create(client)
    for _ in range(2):
        response = client.delete_function(FunctionName="f", Qualifier="1233")
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.delete_alias(FunctionName="f", Name="non-existent")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.delete_function(FunctionName="f")["ResponseMetadata"]["HTTPStatusCode"] == 204
    not_found = (404, "ResourceNotFoundException", f"Function not found: {ARN}:f")
    assert refusal(lambda: client.delete_function(FunctionName="f")) == not_found
    assert refusal(lambda: client.delete_function(FunctionName="f", Qualifier="1233")) == not_found


def test_a_configuration_has_the_fields_aws_returns(client):
    """LocalStack's snapshot, TestLambdaVersions::test_publish_version_on_create: the defaults of
    what LocalLambda does not vary, in every FunctionConfiguration."""
    created = create(client)
    expected = {
        "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/f"},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "TracingConfig": {"Mode": "PassThrough"},
    }
    published = client.publish_version(FunctionName="f")
    listed = client.list_functions()["Functions"][0]
    for configuration in [created, client.get_function_configuration(FunctionName="f"), published, listed]:
        assert {field: configuration[field] for field in expected} == expected
        assert configuration["RevisionId"]
        arn = configuration["RuntimeVersionConfig"]["RuntimeVersionArn"]
        prefix, digits = arn.rsplit(":", 1)
        assert prefix == "arn:aws:lambda:us-east-1::runtime" and len(digits) == 64


def test_not_found_answers_carry_message_and_name_what_was_asked(client):
    """LocalStack's snapshot: a 404 body is {"Type": "User", "Message": ...}
    (TestLambdaFunction::test_ops_on_nonexisting_fn); a $LATEST asked for is named
    (::test_ops_with_arn_qualifier_mismatch, TestLambdaConcurrency::test_function_concurrency_exceptions);
    UpdateAlias of an unknown alias is "Alias not found" (TestLambdaAlias::test_non_existent_alias_update)."""
    with pytest.raises(ClientError) as raised:
        client.get_function(FunctionName="missing")
    body = {key: value for key, value in raised.value.response.items() if key not in ("Error", "ResponseMetadata")}
    assert body == {"Type": "User", "Message": f"Function not found: {ARN}:missing"}
    assert refusal(lambda: client.get_function(FunctionName="missing", Qualifier="$LATEST"))[2] == (
        f"Function not found: {ARN}:missing:$LATEST"
    )
    assert refusal(lambda: client.put_function_concurrency(FunctionName="missing", ReservedConcurrentExecutions=1))[
        2
    ] == (f"Function not found: {ARN}:missing:$LATEST")
    create(client)
    assert refusal(lambda: client.update_alias(FunctionName="f", Name="non-existent", Description="x")) == (
        404,
        "ResourceNotFoundException",
        f"Alias not found: {ARN}:f:non-existent",
    )


def test_environment_variables_over_4_kb_are_refused(client):
    """LocalStack's snapshot, TestLambdaFunction::test_large_environment_variables_fails (4 KB and
    one byte of `{"LARGE_VAR":"x..."}` refused, the function not created) and
    ::test_lambda_envvars_near_limit_succeeds (4 KB exactly)."""
    over = {"LARGE_VAR": "x" * (4096 - 6 - len("LARGE_VAR"))}
    measured = json.dumps(over, separators=(",", ":"))
    assert len(measured) == 4097
    assert refusal(lambda: create(client, Environment={"Variables": over})) == (
        400,
        "InvalidParameterValueException",
        "Lambda was unable to configure your environment variables because the environment variables you have "
        f"provided exceeded the 4KB limit. String measured: {measured}",
    )
    assert refusal(lambda: client.get_function(FunctionName="f"))[0] == 404
    at_limit = {"LARGE_VAR": "x" * (4096 - 7 - len("LARGE_VAR"))}
    assert create(client, Environment={"Variables": at_limit})["Environment"] == {"Variables": at_limit}
    refused = refusal(lambda: client.update_function_configuration(FunctionName="f", Environment={"Variables": over}))
    assert refused[:2] == (400, "InvalidParameterValueException")
    assert client.get_function_configuration(FunctionName="f")["Environment"] == {"Variables": at_limit}


def test_architectures_other_than_one_of_lambdas_two_are_refused(client):
    """LocalStack's snapshot, TestLambdaFunction::test_create_lambda_exceptions."""
    prefix = "1 validation error detected: Value "
    assert refusal(lambda: create(client, Architectures=["x86_64", "arm64"])) == (
        400,
        "ValidationException",
        prefix + "'[x86_64, arm64]' at 'architectures' failed to satisfy constraint: "
        "Member must have length less than or equal to 1",
    )
    assert refusal(lambda: create(client, Architectures=["X86_64"])) == (
        400,
        "ValidationException",
        prefix + "'[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: "
        "[Member must satisfy enum value set: [x86_64, arm64], Member must not be null]",
    )
    assert create(client, Architectures=["arm64"])["Architectures"] == ["arm64"]


def test_put_function_concurrency_of_a_version_or_alias_is_refused(client):
    """LocalStack's snapshot, TestLambdaConcurrency::test_function_concurrency_exceptions
    (put_function_concurrency_with_qualified_arn)."""
    create(client, Publish=True)
    assert refusal(
        lambda: client.put_function_concurrency(FunctionName=f"{ARN}:f:1", ReservedConcurrentExecutions=1)
    ) == (
        400,
        "InvalidParameterValueException",
        "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. "
        "Please specify either a function name or an unqualified function ARN.",
    )
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName="f")


def test_list_functions_of_all_versions(client, aws):
    """LocalStack's snapshot, TestLambdaFunction::test_list_functions: FunctionVersion=ALL lists
    each function's $LATEST and published versions under qualified ARNs; another value is a
    ValidationException."""
    create(client, name="one", Publish=True)
    create(client, name="two")
    listed = client.get_paginator("list_functions").paginate(FunctionVersion="ALL").build_full_result()["Functions"]
    assert sorted(f["FunctionArn"] for f in listed) == [f"{ARN}:one:$LATEST", f"{ARN}:one:1", f"{ARN}:two:$LATEST"]
    assert sorted(f["FunctionArn"] for f in client.list_functions()["Functions"]) == [f"{ARN}:one", f"{ARN}:two"]
    assert refusal(lambda: client.list_functions(FunctionVersion="invalid")) == (
        400,
        "ValidationException",
        "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: "
        "Member must satisfy enum value set: [ALL]",
    )
    code, listed, err = aws("list-functions", "--function-version", "ALL")
    assert code == 0, err
    assert len(listed["Functions"]) == 3


def test_code_without_the_handlers_module_is_accepted_and_fails_at_invoke(client):
    """Lambda checks the zip's size and format, not its contents, at CreateFunction and
    UpdateFunctionCode: a handler whose module is missing fails when invoked, as AWS's Python
    runtime (awslambdaric, what Lambda runs) says it, e.g. "Unable to import module
    'lambda_function': No module named 'lambda_function'" (observed in users' reports of Lambda,
    such as aws/aws-lambda-python-runtime-interface-client issue 29)."""
    other = zipped(other="def handler(event, context):\n    return 1\n")
    assert create(client, code=other)["Handler"] == "app.handler"
    response = client.invoke(FunctionName="f", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    document = json.loads(response["Payload"].read())
    assert document["errorType"] == "Runtime.ImportModuleError"
    assert document["errorMessage"] == "Unable to import module 'app': No module named 'app'"
    # The fixed code, by UpdateFunctionCode, runs; code without the module again is accepted too.
    client.update_function_code(FunctionName="f", ZipFile=SIZED_RESULT_CODE)
    fixed = client.invoke(FunctionName="f", Payload=json.dumps({"bytenum": 2}))
    assert json.loads(fixed["Payload"].read()) == "aa"
    assert client.update_function_code(FunctionName="f", ZipFile=other)["CodeSize"] == len(other)


def test_create_function_takes_a_full_or_partial_arn_of_this_account_and_region(client):
    """LocalStack's snapshot, TestLambdaFunction::test_function_arns: CreateFunction with a full or
    a partial ARN creates the function it names; another region's is a 404, another account's a
    403 AccessDeniedException with no message, a name over 64 characters a 400."""
    assert create(client, name=f"{ARN}:full")["FunctionArn"] == f"{ARN}:full"
    assert create(client, name="123456789012:function:partial")["FunctionName"] == "partial"
    assert refusal(lambda: create(client, name="arn:aws:lambda:ap-southeast-1:123456789012:function:g")) == (
        404,
        "ResourceNotFoundException",
        "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')",
    )
    with pytest.raises(ClientError) as raised:
        create(client, name="arn:aws:lambda:us-east-1:999999999999:function:g")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert raised.value.response["Error"] == {"Code": "AccessDeniedException", "Message": None}
    assert refusal(lambda: create(client, name="a" * 65)) == (
        400,
        "InvalidParameterValueException",
        f"1 validation error detected: Value '{'a' * 65}' at 'functionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64",
    )
    assert sorted(f["FunctionName"] for f in client.list_functions()["Functions"]) == ["full", "partial"]


READ_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)


def test_names_lambdas_pattern_takes_are_looked_up_and_others_refused(client):
    """LocalStack's snapshot, TestLambdaFunction::test_function_name_and_qualifier_validation: a
    65-character name is a function that is not there (Invoke names it as $LATEST); a misspelled
    $LATEST in an ARN breaks the pattern (400); a Qualifier over 128 characters is a 400."""
    long_name = "a" * 65
    assert refusal(lambda: client.get_function(FunctionName=long_name)) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {ARN}:{long_name}",
    )
    assert refusal(lambda: client.invoke(FunctionName=long_name, Payload=b"{}")) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {ARN}:{long_name}:$LATEST",
    )
    misspelled = f"{ARN}:my-function:$LATES"
    assert refusal(lambda: client.invoke(FunctionName=misspelled, Payload=b"{}")) == (
        400,
        "ValidationException",
        f"1 validation error detected: Value '{misspelled}' at 'functionName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {READ_PATTERN}",
    )
    assert refusal(lambda: client.get_function(FunctionName="my-function", Qualifier="a" * 129)) == (
        400,
        "ValidationException",
        f"1 validation error detected: Value '{'a' * 129}' at 'qualifier' failed to satisfy constraint: "
        "Member must have length less than or equal to 128",
    )


def test_a_reservation_must_leave_100_of_the_account_unreserved(client):
    """LocalStack's snapshot, TestLambdaReservedConcurrency::test_function_concurrency_limits: over
    the account's limit, or leaving less than its unreserved minimum (AWS's is 100), in one message."""
    create(client)
    limit = client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    refused = (
        400,
        "InvalidParameterValueException",
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
        "below its minimum value of [100].",
    )
    for reserved in [limit + 1, limit, limit - 99]:
        put = lambda reserved=reserved: client.put_function_concurrency(  # noqa: E731
            FunctionName="f", ReservedConcurrentExecutions=reserved
        )
        assert refusal(put) == refused
    assert client.put_function_concurrency(FunctionName="f", ReservedConcurrentExecutions=limit - 100)
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100


def test_a_runtime_outside_lambdas_enum_is_refused_in_its_words(client):
    """LocalStack's snapshot, TestLambdaFunction::test_create_lambda_exceptions and
    ::test_update_lambda_exceptions (invalid_runtime_exc, uppercase_runtime_exc)."""
    enum = (
        "nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, "
        "python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, "
        "dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2"
    )
    for runtime in ["non-existent-runtime", "PYTHON3.9"]:
        expected = (
            400,
            "InvalidParameterValueException",
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
            f"[{enum}] or be a valid ARN",
        )
        assert refusal(lambda runtime=runtime: create(client, Runtime=runtime)) == expected
    create(client)
    assert (
        refusal(lambda: client.update_function_configuration(FunctionName="f", Runtime="PYTHON3.9"))[2] == (expected[2])
    )
