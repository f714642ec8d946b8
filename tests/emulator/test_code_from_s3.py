"""LocalLambda takes a function's code from S3 as Lambda does (Code.S3Bucket/S3Key, and
S3ObjectVersion), read from the S3 endpoint it is given: here moto's S3 server beside it, driven
by boto3. Packages past the 50 MB a request may carry go this way; the unzipped limit still holds."""

import base64
import hashlib
import io
import os
import signal
import sys
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError
from helpers import boto3_lambda, invoke_ok, local_command, refusal, zipped
from lambda_executor import LocalLambda

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"  # the emulator's own interpreter
UNZIPPED_LIMIT = 262144000

ANSWER = "def handler(event, context):\n    return {'version': VERSION, 'event': event}\nVERSION = {version}\n"

READ_S3 = """
import os
import boto3

def handler(event, context):
    answer = {"endpoint": os.environ.get("AWS_ENDPOINT_URL_S3")}
    if "key" in event:
        s3 = boto3.client("s3", region_name="us-east-1")
        answer["body"] = s3.get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read().decode()
    return answer
"""


def app(version):
    return zipped(app=ANSWER.replace("{version}", str(version)))


@pytest.fixture
def s3(moto_server):
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    client.create_bucket(Bucket="code")
    return client


def create(lam, name="f", handler="app.handler", **kwargs):
    kwargs.setdefault("Code", {"S3Bucket": "code", "S3Key": "app.zip"})
    return lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=handler, **kwargs)


def test_a_function_created_from_an_s3_object_past_50_mb_runs_its_code(s3, lam):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", ANSWER.replace("{version}", "1"))
        archive.writestr("blob.bin", os.urandom(55 << 20))  # stored as is: the zip is past 50 MB
    package = buffer.getvalue()
    s3.put_object(Bucket="code", Key="app.zip", Body=package)

    configuration = create(lam)

    assert configuration["CodeSize"] == len(package) > 50 << 20
    assert configuration["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert invoke_ok(lam, "f", {"n": 1}) == {"version": 1, "event": {"n": 1}}


def test_update_function_code_from_s3_and_from_an_object_version(s3, lam):
    s3.put_object(Bucket="code", Key="app.zip", Body=app(1))
    create(lam)
    assert invoke_ok(lam, "f")["version"] == 1

    s3.put_bucket_versioning(Bucket="code", VersioningConfiguration={"Status": "Enabled"})
    second = s3.put_object(Bucket="code", Key="app.zip", Body=app(2))["VersionId"]
    s3.put_object(Bucket="code", Key="app.zip", Body=app(3))

    lam.update_function_code(FunctionName="f", S3Bucket="code", S3Key="app.zip")
    assert invoke_ok(lam, "f")["version"] == 3
    lam.update_function_code(FunctionName="f", S3Bucket="code", S3Key="app.zip", S3ObjectVersion=second)
    assert invoke_ok(lam, "f")["version"] == 2


def test_a_missing_key_or_bucket_is_refused_in_lambdas_words(s3, lam):
    assert refusal(lambda: create(lam, Code={"S3Bucket": "code", "S3Key": "nowhere.zip"})) == (
        400,
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.",
    )
    status, code, message = refusal(lambda: create(lam, Code={"S3Bucket": "no-such-bucket", "S3Key": "app.zip"}))
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message.startswith(
        "Error occurred while GetObject. S3 Error Code: NoSuchBucket. "
        "S3 Error Message: The specified bucket does not exist"
    )
    s3.put_object(Bucket="code", Key="app.zip", Body=app(1))
    create(lam)
    assert refusal(lambda: lam.update_function_code(FunctionName="f", S3Bucket="code", S3Key="gone.zip"))[2] == (
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."
    )
    assert invoke_ok(lam, "f")["version"] == 1, "the refused update left the code as it was"
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["f"]


def test_code_from_s3_without_an_s3_endpoint_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    with LocalLambda() as local:
        assert local.s3_endpoint_url is None
        status, code, message = refusal(lambda: create(boto3_lambda(local.endpoint_url)))
    assert (status, code) == (400, "InvalidParameterValueException")
    assert "s3_endpoint_url=" in message and "--s3-endpoint-url" in message and "AWS_ENDPOINT_URL_S3" in message


def test_the_s3_endpoint_defaults_to_the_environments(monkeypatch, moto_server):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    with LocalLambda() as local:
        assert local.s3_endpoint_url == moto_server
    with pytest.raises(ValueError, match="s3_endpoint_url must be an http"):
        LocalLambda(s3_endpoint_url="ftp://127.0.0.1:1")


def test_code_past_the_unzipped_limit_is_refused(s3, lam, tmp_path):
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", ANSWER.replace("{version}", "1"))
        with archive.open("zeros.bin", "w") as zeros:
            for _ in range(UNZIPPED_LIMIT // (1 << 20)):
                zeros.write(bytes(1 << 20))
    s3.upload_file(str(path), "code", "big.zip")

    expected = (400, "InvalidParameterValueException", f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")
    assert refusal(lambda: create(lam, Code={"S3Bucket": "code", "S3Key": "big.zip"})) == expected
    assert refusal(lambda: create(lam, Code={"ZipFile": path.read_bytes()})) == expected
    s3.put_object(Bucket="code", Key="app.zip", Body=app(1))
    create(lam)
    assert refusal(lambda: lam.update_function_code(FunctionName="f", S3Bucket="code", S3Key="big.zip")) == expected


def test_a_request_past_lambdas_limit_is_413(lam):
    code, message = None, None
    try:
        create(lam, Code={"ZipFile": os.urandom(53 << 20)})  # 70 MB once base64
    except ClientError as error:
        code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
    assert (code, message) == (
        "RequestEntityTooLargeException",
        "Request must be smaller than 69905067 bytes for the CreateFunction operation",
    )


def test_handlers_reach_the_same_s3_and_their_own_setting_wins(s3, lam, moto_server):
    s3.put_object(Bucket="code", Key="reader.zip", Body=zipped(reader=READ_S3))
    s3.put_object(Bucket="code", Key="data.txt", Body=b"from the bucket")
    # LocalLambda gives handlers no role credentials: the function carries moto's.
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret"}
    code = {"S3Bucket": "code", "S3Key": "reader.zip"}
    create(lam, "reader", "reader.handler", Code=code, Environment={"Variables": credentials})
    assert invoke_ok(lam, "reader", {"bucket": "code", "key": "data.txt"}) == {
        "endpoint": moto_server,
        "body": "from the bucket",
    }

    own = {**credentials, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"}
    create(lam, "own", "reader.handler", Code=code, Environment={"Variables": own})
    assert invoke_ok(lam, "own") == {"endpoint": "http://127.0.0.1:9"}


def test_the_local_command_reads_code_from_its_s3_endpoint_url(s3, moto_server):
    s3.put_object(Bucket="code", Key="app.zip", Body=app(7))
    with local_command("--s3-endpoint-url", moto_server) as (process, endpoint_url):
        assert process.stdout.readline().strip() == f"code and layers from S3 are read from {moto_server}"
        lam = boto3_lambda(endpoint_url)
        create(lam)
        assert invoke_ok(lam, "f", {"x": 1}) == {"version": 7, "event": {"x": 1}}
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "LocalLambda stopped." in out
