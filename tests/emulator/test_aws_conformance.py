"""LocalLambda answers as AWS does (issue 30), driven by boto3 and the AWS CLI. Each test names
where AWS's answer was recorded; docs/lambda-control-plane.md gathers them. "LocalStack's
snapshot" is tests/aws/services/lambda_/test_lambda_api.snapshot.json (or test_lambda.snapshot.json)
in github:localstack/localstack, whose tests marked aws.validated are recorded against AWS."""

import json
import time

import pytest
from botocore.exceptions import ClientError
from helpers import boto3_lambda, refusal, zipped
from lambda_executor import LocalLambda

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


def test_tags_are_added_replaced_and_removed_on_the_function_alone(client, aws):
    """LocalStack's snapshot, TestLambdaTag::test_tag_lifecycle[lambda_function] (204 each; a key
    given again takes its new value; untagging a key that is not there is no error),
    TestLambdaTags::test_tag_versions (a version's or $LATEST's ARN refused) and
    TestLambdaTag::test_tag_exceptions[lambda_function] (a missing function: 404)."""
    create(client, Tags={"A": "tag-a"}, Publish=True)
    arn = f"{ARN}:f"
    assert client.list_tags(Resource=arn)["Tags"] == {"A": "tag-a"}
    tagged = client.tag_resource(Resource=arn, Tags={"B": "tag-b", "C": "tag-c"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    client.tag_resource(Resource=arn, Tags={"C": "tag-c-newsuffix", "D": "tag-d"})
    assert client.list_tags(Resource=arn)["Tags"] == {"A": "tag-a", "B": "tag-b", "C": "tag-c-newsuffix", "D": "tag-d"}
    untagged = client.untag_resource(Resource=arn, TagKeys=["A", "B", "not-there"])
    assert untagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.get_function(FunctionName="f")["Tags"] == {"C": "tag-c-newsuffix", "D": "tag-d"}
    versions_refused = (
        400,
        "InvalidParameterValueException",
        "Tags on function aliases and versions are not supported. Please specify a function ARN.",
    )
    for qualified in [f"{arn}:1", f"{arn}:$LATEST"]:
        assert (
            refusal(lambda resource=qualified: client.tag_resource(Resource=resource, Tags={"E": "e"}))
            == versions_refused
        )
    missing = (404, "ResourceNotFoundException", f"Function not found: {ARN}:missing")
    assert refusal(lambda: client.tag_resource(Resource=f"{ARN}:missing", Tags={"E": "e"})) == missing
    assert refusal(lambda: client.untag_resource(Resource=f"{ARN}:missing", TagKeys=["E"])) == missing
    code, _, err = aws("untag-resource", "--resource", arn, "--tag-keys", "C", "D")
    assert code == 0, err
    assert client.list_tags(Resource=arn)["Tags"] == {}


S3_PERMISSION = {
    "StatementId": "s3",
    "Action": "lambda:InvokeFunction",
    "Principal": "s3.amazonaws.com",
    "SourceArn": "arn:aws:s3:::some-bucket",
}


def test_permissions_make_a_policy_per_qualifier(client):
    """LocalStack's snapshot, TestLambdaPermissions::test_add_lambda_permission_aws (AddPermission's
    201 statement, GetPolicy's document as a string with its RevisionId) and
    ::test_remove_multi_permissions (a statement removed; an unknown one 404; none left: 404)."""
    create(client, Publish=True)
    added = client.add_permission(FunctionName="f", **S3_PERMISSION)
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    s3_statement = {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": f"{ARN}:f",
        "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::some-bucket"}},
    }
    assert json.loads(added["Statement"]) == s3_statement
    sqs = {"StatementId": "sqs", "Action": "lambda:InvokeFunction", "Principal": "sqs.amazonaws.com"}
    client.add_permission(FunctionName="f", **sqs)
    policy = client.get_policy(FunctionName="f")
    document = json.loads(policy["Policy"])
    assert (document["Version"], document["Id"]) == ("2012-10-17", "default")
    assert [statement["Sid"] for statement in document["Statement"]] == ["s3", "sqs"]
    assert document["Statement"][0] == s3_statement

    # Version 1 has a policy of its own, whose statements name it.
    assert refusal(lambda: client.get_policy(FunctionName="f", Qualifier="1")) == (
        404,
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )
    versioned = json.loads(client.add_permission(FunctionName="f", Qualifier="1", **sqs)["Statement"])
    assert versioned["Resource"] == f"{ARN}:f:1"

    # A RevisionId: the alias's for its first statement, then the policy's own
    # (test_lambda_permission_fn_versioning).
    alias = client.create_alias(FunctionName="f", Name="live", FunctionVersion="1")["RevisionId"]
    stale = (
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. "
        "Call the GetPolicy API to retrieve the latest Revision Id",
    )
    assert (
        refusal(lambda: client.add_permission(FunctionName="f", Qualifier="live", RevisionId="wrong", **sqs)) == stale
    )
    client.add_permission(FunctionName="f", Qualifier="live", RevisionId=alias, **sqs)
    assert (
        refusal(lambda: client.add_permission(FunctionName="f", RevisionId=alias, **{**sqs, "StatementId": "other"}))
        == stale
    )

    assert refusal(lambda: client.remove_permission(FunctionName="f", StatementId="non-existent")) == (
        404,
        "ResourceNotFoundException",
        "Statement non-existent is not found in resource policy.",
    )
    removed = client.remove_permission(FunctionName="f", StatementId="sqs", RevisionId=policy["RevisionId"])
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    after = client.get_policy(FunctionName="f")
    assert [statement["Sid"] for statement in json.loads(after["Policy"])["Statement"]] == ["s3"]
    assert after["RevisionId"] != policy["RevisionId"]
    client.remove_permission(FunctionName="f", StatementId="s3")
    assert refusal(lambda: client.get_policy(FunctionName="f"))[:2] == (404, "ResourceNotFoundException")
    assert len(json.loads(client.get_policy(FunctionName="f", Qualifier="1")["Policy"])["Statement"]) == 1


def test_a_permissions_optional_fields_are_its_conditions(client):
    """LocalStack's snapshot, TestLambdaPermissions::test_add_lambda_permission_fields: an account
    as principal is its root; SourceAccount, FunctionUrlAuthType, PrincipalOrgID and
    EventSourceToken are StringEquals conditions, SourceArn an ArnLike one."""
    create(client)
    account = "123456789012"

    def statement(**fields):
        return json.loads(client.add_permission(FunctionName="f", **fields)["Statement"])

    assert statement(StatementId="account-id", Action="lambda:InvokeFunction", Principal=account) == {
        "Sid": "account-id",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "lambda:InvokeFunction",
        "Resource": f"{ARN}:f",
    }
    optional = statement(
        StatementId="urlPermission",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        SourceArn="arn:aws:s3:::test-bucket",
        SourceAccount=account,
        PrincipalOrgID="o-1234567890",
        FunctionUrlAuthType="NONE",
    )
    assert optional["Condition"] == {
        "StringEquals": {
            "AWS:SourceAccount": account,
            "lambda:FunctionUrlAuthType": "NONE",
            "aws:PrincipalOrgID": "o-1234567890",
        },
        "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::test-bucket"},
    }
    token = "amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    skill = statement(StatementId="alexaSkill", Action="lambda:InvokeFunction", Principal="*", EventSourceToken=token)
    assert skill["Condition"] == {"StringEquals": {"lambda:EventSourceToken": token}}


def test_permissions_refused_as_aws_refuses_them(client):
    """LocalStack's snapshot, TestLambdaPermissions::test_permission_exceptions."""
    assert refusal(lambda: client.add_permission(FunctionName="missing", **S3_PERMISSION)) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {ARN}:missing",
    )
    assert refusal(lambda: client.remove_permission(FunctionName="missing", StatementId="s3")) == (
        404,
        "ResourceNotFoundException",
        f"No policy found for: {ARN}:missing",
    )
    create(client)
    assert refusal(lambda: client.remove_permission(FunctionName="f", StatementId="s3")) == (
        404,
        "ResourceNotFoundException",
        "No policy is associated with the given resource.",
    )
    assert refusal(
        lambda: client.add_permission(FunctionName="f", **{**S3_PERMISSION, "StatementId": "example.com"})
    ) == (
        400,
        "ValidationException",
        "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
    )
    assert refusal(lambda: client.add_permission(FunctionName="f", Qualifier="$LATEST", **S3_PERMISSION)) == (
        400,
        "InvalidParameterValueException",
        "We currently do not support adding policies for $LATEST.",
    )
    assert refusal(lambda: client.add_permission(FunctionName="f", **{**S3_PERMISSION, "Principal": "invalid"})) == (
        400,
        "InvalidParameterValueException",
        "The provided principal was invalid. Please check the principal and try again.",
    )
    assert refusal(lambda: client.add_permission(FunctionName="f", Qualifier="42", **S3_PERMISSION)) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {ARN}:f:42",
    )
    assert refusal(
        lambda: client.add_permission(FunctionName="f", Qualifier="alias-doesnotexist", **S3_PERMISSION)
    ) == (
        404,
        "ResourceNotFoundException",
        f"Cannot find alias arn: {ARN}:f:alias-doesnotexist",
    )
    client.add_permission(FunctionName="f", **S3_PERMISSION)
    assert refusal(lambda: client.add_permission(FunctionName="f", **S3_PERMISSION)) == (
        409,
        "ResourceConflictException",
        "The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing "
        "statement.",
    )


def without_time(document):
    """An event invoke configuration's answer without its LastModified and response metadata."""
    assert document.pop("LastModified")
    document.pop("ResponseMetadata", None)
    return document


def config_shown(qualifier="$LATEST", **settings):
    return {"DestinationConfig": {"OnFailure": {}, "OnSuccess": {}}, "FunctionArn": f"{ARN}:f:{qualifier}", **settings}


def test_event_invoke_config_put_replaces_update_merges(client, aws):
    """LocalStack's snapshot, TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_lifecycle
    and ::test_lambda_eventinvokeconfig_exceptions: only the settings made are shown, Put replaces,
    Update merges, each version its own, Get and Delete of none 404 naming the qualified ARN."""
    create(client, Publish=True)
    no_config = f"The function {ARN}:f:$LATEST doesn't have an EventInvokeConfig"
    assert refusal(lambda: client.get_function_event_invoke_config(FunctionName="f")) == (
        404,
        "ResourceNotFoundException",
        no_config,
    )
    put = client.put_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60)
    assert without_time(put) == config_shown(MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60)
    replaced = client.put_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=0)
    assert without_time(replaced) == config_shown(MaximumRetryAttempts=0)
    updated = client.update_function_event_invoke_config(FunctionName="f", MaximumEventAgeInSeconds=120)
    assert without_time(updated) == config_shown(MaximumRetryAttempts=0, MaximumEventAgeInSeconds=120)
    assert without_time(client.get_function_event_invoke_config(FunctionName="f")) == without_time(
        client.update_function_event_invoke_config(FunctionName="f", MaximumEventAgeInSeconds=120)
    )
    assert refusal(lambda: client.get_function_event_invoke_config(FunctionName="f", Qualifier="1"))[2] == (
        f"The function {ARN}:f:1 doesn't have an EventInvokeConfig"
    )
    code, shown, err = aws(
        "put-function-event-invoke-config",
        "--function-name",
        "f",
        "--qualifier",
        "1",
        "--maximum-event-age-in-seconds",
        "21600",
    )
    assert code == 0, err
    assert without_time(shown) == config_shown("1", MaximumEventAgeInSeconds=21600)
    listed = client.list_function_event_invoke_configs(FunctionName="f")["FunctionEventInvokeConfigs"]
    assert sorted(config["FunctionArn"] for config in listed) == [f"{ARN}:f:$LATEST", f"{ARN}:f:1"]
    deleted = client.delete_function_event_invoke_config(FunctionName="f")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert refusal(lambda: client.delete_function_event_invoke_config(FunctionName="f"))[2] == no_config
    assert [
        c["FunctionArn"]
        for c in client.list_function_event_invoke_configs(FunctionName="f")["FunctionEventInvokeConfigs"]
    ] == [f"{ARN}:f:1"]


def test_event_invoke_config_refused_as_aws_refuses_it(client):
    """LocalStack's snapshot, TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions;
    the ranges are the API model's (botocore's service-2.json: MaximumRetryAttempts 0 to 2,
    MaximumEventAgeInSeconds 60 to 21600), refused in the words of Lambda's validation."""
    function_missing = (404, "ResourceNotFoundException", "The function doesn't exist.")
    assert refusal(lambda: client.put_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=1)) == (
        function_missing
    )
    assert refusal(lambda: client.list_function_event_invoke_configs(FunctionName="f")) == function_missing
    create(client)
    assert refusal(lambda: client.put_function_event_invoke_config(FunctionName="f")) == (
        400,
        "InvalidParameterValueException",
        "You must specify at least one of error handling or destination setting.",
    )
    assert (
        refusal(
            lambda: client.put_function_event_invoke_config(
                FunctionName="f", Qualifier="missing", MaximumRetryAttempts=1
            )
        )
        == function_missing
    )
    assert refusal(lambda: client.update_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=1)) == (
        404,
        "ResourceNotFoundException",
        f"The function {ARN}:f:$LATEST doesn't have an EventInvokeConfig",
    )
    assert refusal(lambda: client.put_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=3)) == (
        400,
        "ValidationException",
        "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: "
        "Member must have value less than or equal to 2",
    )
    assert refusal(
        lambda: client.put_function_event_invoke_config(FunctionName="f", MaximumEventAgeInSeconds=21601)
    ) == (
        400,
        "ValidationException",
        "1 validation error detected: Value '21601' at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 21600",
    )


# A handler that counts its runs in the file the event names, then fails.
FAILING_CODE = zipped(
    app="def handler(event, context):\n"
    "    with open(event['runs'], 'a') as runs:\n"
    "        runs.write(context.aws_request_id + '\\n')\n"
    "    raise RuntimeError('failed on purpose')\n"
)
RETRY_DELAY = 0.2


@pytest.fixture
def quick_retries():
    """A LocalLambda that retries failed Event invocations after 0.2 s, then 0.4 s (Lambda: 1, 2 minutes)."""
    with LocalLambda(event_retry_delay=RETRY_DELAY) as local:
        yield boto3_lambda(local.endpoint_url)


def runs_after_retries(client, runs, expected):
    """The request ids of the runs written to `runs` once `expected` were seen (or 30 s passed),
    and as long again as every retry's wait added up, so that one more would have been seen too."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(runs.read_text().split() if runs.exists() else []) < expected:
        time.sleep(0.05)
    time.sleep(RETRY_DELAY * 4)
    return runs.read_text().split()


def test_a_failed_event_invocation_is_retried_twice_by_default(quick_retries, tmp_path):
    """AWS's documentation, docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html:
    a function error is run "two more times, with a one-minute wait between the first two attempts,
    and two minutes between the second and third" (here 0.2 s, then 0.4 s); each run is the same
    request, its request id the one Invoke answered with."""
    client = quick_retries
    create(client, code=FAILING_CODE)
    runs = tmp_path / "runs"
    accepted = client.invoke(FunctionName="f", InvocationType="Event", Payload=json.dumps({"runs": str(runs)}))
    assert accepted["StatusCode"] == 202
    request_ids = runs_after_retries(client, runs, 3)
    assert request_ids == [accepted["ResponseMetadata"]["RequestId"]] * 3


def test_a_failed_event_is_dropped_rather_than_retried_past_its_maximum_age(tmp_path):
    """AWS's documentation (invocation-async-error-handling.html): an event older than
    MaximumEventAgeInSeconds is discarded; Lambda does not start a retry past it. With a first wait
    of 20.5 s (so the second is 41 s), the second retry would start over 61.5 s after the event: a
    function whose maximum age is 60 s (the least it takes) runs twice, one with the default six
    hours three times."""
    with LocalLambda(event_retry_delay=20.5) as local:
        client = boto3_lambda(local.endpoint_url)
        create(client, code=FAILING_CODE)
        create(client, "g", code=FAILING_CODE)
        client.put_function_event_invoke_config(FunctionName="f", MaximumEventAgeInSeconds=60)
        aged, kept = tmp_path / "aged", tmp_path / "kept"
        client.invoke(FunctionName="f", InvocationType="Event", Payload=json.dumps({"runs": str(aged)}))
        client.invoke(FunctionName="g", InvocationType="Event", Payload=json.dumps({"runs": str(kept)}))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(kept.read_text().split() if kept.exists() else []) < 3:
            time.sleep(0.2)
        assert len(kept.read_text().split()) == 3
        assert len(aged.read_text().split()) == 2


def test_maximum_retry_attempts_0_runs_a_failed_event_once(quick_retries, tmp_path):
    """PutFunctionEventInvokeConfig's MaximumRetryAttempts 0: no retry (and 1: one)."""
    client = quick_retries
    create(client, code=FAILING_CODE, Publish=True)
    client.put_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=0)
    client.put_function_event_invoke_config(FunctionName="f", Qualifier="1", MaximumRetryAttempts=1)
    once, twice = tmp_path / "once", tmp_path / "twice"
    client.invoke(FunctionName="f", InvocationType="Event", Payload=json.dumps({"runs": str(once)}))
    client.invoke(FunctionName="f", Qualifier="1", InvocationType="Event", Payload=json.dumps({"runs": str(twice)}))
    assert len(runs_after_retries(client, once, 1)) == 1
    assert len(runs_after_retries(client, twice, 2)) == 2
