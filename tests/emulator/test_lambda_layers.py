"""Lambda layers on LocalLambda, driven by boto3 as on Lambda: published (a zip in the request or
an S3 object of moto's S3 server), listed, got by ARN and deleted; a function's layers checked,
reported, and extracted in order into its /opt, whose python/ folders its handler imports from.
The deploy calls (ControlPlane) work against it too."""

import io
import json
import sys
import zipfile

import boto3
import pytest
from helpers import boto3_lambda, invoke_ok, refusal, zipped
from lambda_executor._core import ControlPlane

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"  # the emulator's own interpreter
LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer"

USES_LAYERS = """
import shared

def handler(event, context):
    import importlib, os
    answer = {"shared": shared.VALUE, "path": os.environ["PATH"].split(os.pathsep)[-1]}
    for name in event.get("import", []):
        answer[name] = importlib.import_module(name).VALUE
    return answer
"""


def layer_zip(files):
    """A layer's zip of {path: text}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


@pytest.fixture
def s3(moto_server):
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    client.create_bucket(Bucket="layers")
    return client


def publish(lam, name, files, **kwargs):
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip(files)}, **kwargs)


def create(lam, name="f", layers=(), code=None):
    return lam.create_function(
        FunctionName=name,
        Runtime=RUNTIME,
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code or zipped(app=USES_LAYERS)},
        Layers=list(layers),
    )


def test_a_layer_is_published_listed_got_by_arn_and_deleted(lam):
    first = publish(
        lam,
        "tools",
        {"python/shared.py": "VALUE = 1\n"},
        Description="first",
        CompatibleRuntimes=["python3.12", "python3.13"],
        CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT",
    )
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (first["LayerArn"], first["LayerVersionArn"], first["Version"]) == (
        f"{LAYER_ARN}:tools",
        f"{LAYER_ARN}:tools:1",
        1,
    )
    assert first["Content"]["CodeSize"] > 0 and first["Content"]["CodeSha256"]
    assert (first["Description"], first["CompatibleRuntimes"], first["LicenseInfo"]) == (
        "first",
        ["python3.12", "python3.13"],
        "MIT",
    )
    second = publish(lam, "tools", {"python/shared.py": "VALUE = 2\n"}, CompatibleRuntimes=["python3.13"])
    assert second["Version"] == 2

    versions = lam.list_layer_versions(LayerName="tools")["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1], "newest first"
    assert [
        v["Version"]
        for v in lam.list_layer_versions(LayerName="tools", CompatibleRuntime="python3.12")["LayerVersions"]
    ] == [1]
    arm = lam.list_layer_versions(LayerName="tools", CompatibleArchitecture="arm64")["LayerVersions"]
    assert arm == []
    layers = lam.list_layers()["Layers"]
    assert [(layer["LayerName"], layer["LatestMatchingVersion"]["Version"]) for layer in layers] == [("tools", 2)]
    by_runtime = lam.list_layers(CompatibleRuntime="python3.12")["Layers"]
    assert [layer["LatestMatchingVersion"]["Version"] for layer in by_runtime] == [1]

    got = lam.get_layer_version_by_arn(Arn=f"{LAYER_ARN}:tools:1")
    assert (got["Version"], got["Description"], got["Content"]["CodeSha256"]) == (
        1,
        "first",
        first["Content"]["CodeSha256"],
    )
    assert lam.get_layer_version(LayerName="tools", VersionNumber=2)["Version"] == 2
    assert lam.get_layer_version(LayerName=f"{LAYER_ARN}:tools", VersionNumber=2)["Version"] == 2

    lam.delete_layer_version(LayerName="tools", VersionNumber=2)
    lam.delete_layer_version(LayerName="tools", VersionNumber=2)  # 204 again, as Lambda answers
    lam.delete_layer_version(LayerName="never", VersionNumber=1)
    assert refusal(lambda: lam.get_layer_version(LayerName="tools", VersionNumber=2))[:2] == (
        404,
        "ResourceNotFoundException",
    )
    assert refusal(lambda: lam.get_layer_version_by_arn(Arn=f"{LAYER_ARN}:tools:2"))[:2] == (
        404,
        "ResourceNotFoundException",
    )
    assert publish(lam, "tools", {"python/shared.py": "VALUE = 3\n"})["Version"] == 3, "2 is never given again"
    assert [v["Version"] for v in lam.list_layer_versions(LayerName="tools")["LayerVersions"]] == [3, 1]
    assert lam.list_layer_versions(LayerName="never")["LayerVersions"] == []


def test_a_layer_published_from_s3_is_imported_by_a_function(s3, lam):
    s3.put_object(Bucket="layers", Key="tools.zip", Body=layer_zip({"python/shared.py": "VALUE = 's3'\n"}))
    layer = lam.publish_layer_version(LayerName="tools", Content={"S3Bucket": "layers", "S3Key": "tools.zip"})
    assert layer["Version"] == 1

    configuration = create(lam, layers=[layer["LayerVersionArn"]])

    assert configuration["Layers"] == [{"Arn": layer["LayerVersionArn"], "CodeSize": layer["Content"]["CodeSize"]}]
    assert lam.get_function(FunctionName="f")["Configuration"]["Layers"] == configuration["Layers"]
    assert invoke_ok(lam, "f")["shared"] == "s3"
    missing = {"S3Bucket": "layers", "S3Key": "gone.zip"}
    assert refusal(lambda: lam.publish_layer_version(LayerName="tools", Content=missing))[2] == (
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."
    )


def test_later_layers_override_earlier_ones_and_site_packages_are_found(lam):
    base = publish(
        lam,
        "base",
        {
            "python/shared.py": "VALUE = 'base'\n",
            "python/only_base.py": "VALUE = 'only in base'\n",
            f"python/lib/{RUNTIME}/site-packages/installed.py": "VALUE = 'site-packages'\n",
        },
    )["LayerVersionArn"]
    patch = publish(lam, "patch", {"python/shared.py": "VALUE = 'patch'\n"})["LayerVersionArn"]

    create(lam, "both", [base, patch])
    answer = invoke_ok(lam, "both", {"import": ["only_base", "installed"]})
    assert answer["shared"] == "patch"
    assert (answer["only_base"], answer["installed"]) == ("only in base", "site-packages")
    assert answer["path"].endswith("/bin"), "/opt/bin ends PATH, as on Lambda"

    create(lam, "reversed", [patch, base])
    assert invoke_ok(lam, "reversed")["shared"] == "base"

    # The function's own code comes before its layers on sys.path.
    own = zipped(app=USES_LAYERS, shared="VALUE = 'own code'")
    create(lam, "own", [base, patch], code=own)
    assert invoke_ok(lam, "own")["shared"] == "own code"


def test_a_layers_bin_tools_are_on_path_and_stay_executable(lam):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        tool = zipfile.ZipInfo("bin/layer-tool")
        tool.external_attr = 0o755 << 16
        archive.writestr(tool, "#!/bin/sh\necho tool ran with $1\n")
    arn = lam.publish_layer_version(LayerName="tools", Content={"ZipFile": buffer.getvalue()})["LayerVersionArn"]
    runs_tool = (
        "import subprocess\n"
        "def handler(event, context):\n"
        "    return subprocess.run(['layer-tool', 'x'], capture_output=True, text=True, check=True).stdout\n"
    )
    create(lam, layers=[arn], code=zipped(app=runs_tool))
    assert invoke_ok(lam, "f") == "tool ran with x\n"


def test_update_function_configuration_changes_the_layers_and_versions_keep_theirs(lam):
    one = publish(lam, "tools", {"python/shared.py": "VALUE = 1\n"})["LayerVersionArn"]
    two = publish(lam, "tools", {"python/shared.py": "VALUE = 2\n"})["LayerVersionArn"]
    create(lam, layers=[one])
    assert invoke_ok(lam, "f")["shared"] == 1
    published = lam.publish_version(FunctionName="f")["Version"]

    configuration = lam.update_function_configuration(FunctionName="f", Layers=[two])
    assert [layer["Arn"] for layer in configuration["Layers"]] == [two]
    assert invoke_ok(lam, "f")["shared"] == 2
    assert json.loads(lam.invoke(FunctionName="f", Qualifier=published)["Payload"].read())["shared"] == 1

    lam.delete_layer_version(LayerName="tools", VersionNumber=2)
    assert invoke_ok(lam, "f")["shared"] == 2, "a function keeps the layer it was given"
    lam.update_function_configuration(FunctionName="f", Layers=[])
    answer = lam.invoke(FunctionName="f", Payload=b"{}")
    assert answer.get("FunctionError") == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "Runtime.ImportModuleError"


def test_a_functions_layers_are_checked_as_lambda_checks_them(lam):
    arn = publish(lam, "tools", {"python/shared.py": "VALUE = 1\n"})["LayerVersionArn"]
    assert refusal(lambda: create(lam, layers=[arn] * 6)) == (
        400,
        "InvalidParameterValueException",
        "Cannot reference more than 5 layers.",
    )
    status, code, message = refusal(lambda: create(lam, layers=[f"{LAYER_ARN}:tools"]))
    assert (status, code) == (400, "ValidationException")
    assert message.startswith(f"1 validation error detected: Value '[{LAYER_ARN}:tools]' at 'layers' failed to satisfy")
    missing = f"{LAYER_ARN}:tools:9"
    assert refusal(lambda: create(lam, layers=[missing])) == (
        400,
        "InvalidParameterValueException",
        f"Layer version {missing} does not exist.",
    )
    elsewhere = "arn:aws:lambda:eu-west-1:123456789012:layer:tools:1"
    assert refusal(lambda: create(lam, layers=[elsewhere]))[2] == f"Layer version {elsewhere} does not exist."
    assert lam.list_functions()["Functions"] == []
    create(lam, layers=[arn])
    assert refusal(lambda: lam.update_function_configuration(FunctionName="f", Layers=[missing]))[2] == (
        f"Layer version {missing} does not exist."
    )
    assert [layer["Arn"] for layer in lam.get_function_configuration(FunctionName="f")["Layers"]] == [arn]


def test_a_function_and_its_layers_share_the_unzipped_limit(lam, tmp_path):
    def zeros(megabytes, extra=None):
        path = tmp_path / f"{megabytes}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in (extra or {}).items():
                archive.writestr(name, text)
            with archive.open("python/zeros.bin", "w") as data:
                for _ in range(megabytes):
                    data.write(bytes(1 << 20))
        return path.read_bytes()

    def unzipped(package):
        return sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(package)).infolist())

    layer_zips = [zeros(150), zeros(120)]
    big, bigger = (
        lam.publish_layer_version(LayerName=f"big{n}", Content={"ZipFile": package})["LayerVersionArn"]
        for n, package in enumerate(layer_zips)
    )
    code = zeros(110, {"app.py": USES_LAYERS})
    combined = unzipped(code) + unzipped(layer_zips[0])
    assert refusal(lambda: create(lam, layers=[big], code=code)) == (
        400,
        "InvalidParameterValueException",
        "Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. "
        f"The actual size is {combined} bytes.",
    )
    assert lam.list_functions()["Functions"] == []
    create(lam, layers=[], code=code)
    assert refusal(lambda: lam.update_function_configuration(FunctionName="f", Layers=[big]))[2] == (
        "Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. "
        f"The actual size is {combined} bytes."
    )
    assert refusal(lambda: lam.update_function_configuration(FunctionName="f", Layers=[big, bigger]))[2] == (
        "Layers consume more than the available size of 262144000 bytes"
    )
    assert lam.get_function_configuration(FunctionName="f")["Layers"] == []


def test_the_deploy_calls_work_against_local_lambda(s3, local_s3):
    control = ControlPlane(client={"endpoint_url": local_s3.endpoint_url})
    package = layer_zip({"python/shared.py": "VALUE = 'deployed'\n"})
    layer = control.publish_layer("deps", package, description="d1", runtime=RUNTIME, architecture="x86_64")
    assert (layer["arn"], layer["version"], layer["description"]) == (f"{LAYER_ARN}:deps:1", 1, "d1")
    assert control.layer_versions("deps") == [layer]
    assert control.layer_versions("none") == []
    s3.put_object(Bucket="layers", Key="deps.zip", Body=layer_zip({"python/shared.py": "VALUE = 'from s3'\n"}))
    stored = control.publish_layer(
        "deps", ("layers", "deps.zip"), description="d2", runtime=RUNTIME, architecture="arm64"
    )
    assert (stored["arn"], stored["version"]) == (f"{LAYER_ARN}:deps:2", 2)
    assert control.layer_versions("deps") == [stored, layer], "newest first"

    s3.put_object(Bucket="layers", Key="app.zip", Body=zipped(app=USES_LAYERS))
    control.create_function(
        "deployed",
        ("layers", "app.zip"),
        role=ROLE,
        handler="app.handler",
        runtime=RUNTIME,
        memory=128,
        timeout=10,
        layers=[layer["arn"]],
        environment={},
        tags={},
        architecture="x86_64",
    )
    lam = boto3_lambda(local_s3.endpoint_url)
    assert invoke_ok(lam, "deployed")["shared"] == "deployed"
    control.update_code("deployed", zipped(app=USES_LAYERS.replace("shared.VALUE", "'updated'")))
    assert invoke_ok(lam, "deployed")["shared"] == "updated"
