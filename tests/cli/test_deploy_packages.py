"""Packages past what Lambda takes in a request: `deploy` and `update` send a zip over 50 MB through
S3 (moto's S3, beside moto's Lambda and LocalLambda), refuse one over 250 MB unzipped before
anything is sent, slim the requirements, and keep them in a layer published once."""

import importlib
import os
import subprocess
from pathlib import Path

import boto3
import pytest
from helpers import boto3_lambda, cli, wheel
from lambda_executor import LambdaExecutor, LocalLambda
from lambda_executor.bundle import stage, unzipped_size

BUCKET = "code"
ROLE = "arn:aws:iam::123456789012:role/lambda-executor-tests"  # moto_role's, which LocalLambda takes too


@pytest.fixture
def s3(moto_server, monkeypatch):
    """A bucket in moto's S3, which the commands reach through AWS_ENDPOINT_URL_S3."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def wheels(tmp_path, monkeypatch):
    """A folder of wheels pip installs from, with no index."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def requirements(tmp_path, *lines):
    path = tmp_path / "requirements.txt"
    path.write_text("".join(f"{line}\n" for line in lines))
    return str(path)


def big_requirement(wheels, megabytes):
    """A requirement whose wheel carries `megabytes` of random bytes, which no zip compresses."""
    wheel(wheels, "bigdep", "1.0", "VALUE = 42\n", {"bigdep/blob.bin": os.urandom(megabytes * 1024 * 1024)})


def objects(s3):
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_package_past_50_mb_goes_through_s3_to_motos_lambda_and_is_deleted_there(
    moto_server, moto_role, s3, code, wheels, tmp_path, capsys
):
    big_requirement(wheels, 65)
    deploy = [str(code / "mathwork.py"), "--requirements", requirements(tmp_path, "bigdep"), "--role", ROLE]
    status, out, err = cli(
        capsys, "deploy", "big", *deploy, "--endpoint-url", moto_server, "--code-bucket", f"s3://{BUCKET}/packages"
    )
    assert status == 0, err
    configuration = boto3_lambda(moto_server).get_function_configuration(FunctionName="big")
    assert configuration["CodeSize"] > 65 * 1024 * 1024
    assert f"{configuration['CodeSize']:,} bytes" in out
    assert objects(s3) == [], "the package's object is deleted once Lambda has it"

    # An update sends the new code the same way.
    (code / "mathwork.py").write_text((code / "mathwork.py").read_text() + "\nCHANGED = True\n")
    status, out, err = cli(
        capsys, "update", "big", *deploy[:3], "--endpoint-url", moto_server, "--code-bucket", f"s3://{BUCKET}/p"
    )
    assert status == 0 and "updated big: code" in out, err
    assert (
        boto3_lambda(moto_server).get_function_configuration(FunctionName="big")["CodeSha256"]
        != (configuration["CodeSha256"])
    )
    assert objects(s3) == []


# The function's own module; it imports its requirement when called, so the caller needs none.
PACKAGED = """
import os


def what_ran():
    import tinydep

    root = os.environ["LAMBDA_TASK_ROOT"]
    return {
        "root": os.path.realpath(root),
        "blob": os.path.getsize(os.path.join(root, "blob.bin")),
        "tinydep": tinydep.VALUE,
        "tinydep_file": os.path.realpath(tinydep.__file__),
    }
"""


def test_local_lambda_runs_a_package_past_50_mb_from_s3_with_its_requirements_from_a_layer(
    moto_server, s3, code, wheels, tmp_path, capsys
):
    wheel(wheels, "tinydep", "1.0", "VALUE = 42\n")
    (code / "packaged.py").write_text(PACKAGED)
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(51 << 20))  # incompressible: the zip is past what a request takes
    with LocalLambda(s3_endpoint_url=moto_server) as local:
        status, out, err = cli(
            capsys,
            "deploy",
            "big",
            str(code / "packaged.py"),
            str(blob),
            "--requirements",
            requirements(tmp_path, "tinydep==1.0"),
            "--requirements-layer",
            "--role",
            ROLE,
            "--endpoint-url",
            local.endpoint_url,
            "--code-bucket",
            f"s3://{BUCKET}/packages",
        )
        assert status == 0, err
        assert "published layer" in out
        lambda_client = boto3_lambda(local.endpoint_url)
        configuration = lambda_client.get_function_configuration(FunctionName="big")
        assert configuration["CodeSize"] > 51 << 20
        [layer] = lambda_client.list_layer_versions(LayerName="big-requirements")["LayerVersions"]
        assert [item["Arn"] for item in configuration["Layers"]] == [layer["LayerVersionArn"]]
        assert objects(s3) == [], "the package's object is deleted once LocalLambda read it"

        packaged = importlib.import_module("packaged")
        with LambdaExecutor(endpoint_url=local.endpoint_url, agent="big") as executor:
            ran = executor.submit(packaged.what_ran).result()
    assert (ran["blob"], ran["tinydep"]) == (51 << 20, 42)
    # The requirement came from the layer's python/ folder (LocalLambda's /opt), not the package.
    assert ran["tinydep_file"].endswith("/python/tinydep/__init__.py")
    assert not ran["tinydep_file"].startswith(ran["root"])


def test_a_package_past_50_mb_without_a_bucket_is_refused_naming_the_option_before_anything_is_sent(
    moto_server, moto_role, code, wheels, tmp_path, capsys
):
    big_requirement(wheels, 52)
    status, _, err = cli(
        capsys,
        "deploy",
        "big",
        str(code / "mathwork.py"),
        "--requirements",
        requirements(tmp_path, "bigdep"),
        "--role",
        ROLE,
        "--endpoint-url",
        moto_server,
    )
    assert status != 0
    assert "more than the 50 MB Lambda takes in a request; nothing was sent" in err
    assert "--code-bucket s3://bucket/prefix" in err
    assert boto3_lambda(moto_server).list_functions()["Functions"] == []


def test_more_than_250_mb_unzipped_is_refused_listing_the_largest_before_anything_is_sent(
    moto_server, moto_role, s3, code, tmp_path, capsys
):
    # Sparse files: their size counts, they take no disk and are never zipped.
    data = tmp_path / "data"
    data.mkdir()
    for name, megabytes in (("model.bin", 180), ("vocabulary.bin", 90)):
        with open(data / name, "wb") as file:
            file.truncate(megabytes * 1_000_000)
    status, _, err = cli(
        capsys,
        "deploy",
        "huge",
        str(code / "mathwork.py"),
        str(data / "model.bin"),
        str(data / "vocabulary.bin"),
        "--role",
        ROLE,
        "--endpoint-url",
        moto_server,
        "--code-bucket",
        f"s3://{BUCKET}/packages",
    )
    assert status != 0
    assert "the function is 270 MB unzipped, more than the 262 MB Lambda takes" in err
    assert "nothing was sent. Largest: model.bin 180 MB, vocabulary.bin 90 MB" in err
    assert boto3_lambda(moto_server).list_functions()["Functions"] == []
    assert objects(s3) == []


def test_the_requirements_layer_is_published_once_and_reused_while_the_requirements_are_unchanged(
    moto_server, moto_role, code, wheels, tmp_path, capsys
):
    wheel(wheels, "tinydep", "1.0", "VALUE = 1\n")
    wheel(wheels, "tinydep", "2.0", "VALUE = 2\n")
    endpoint = ["--endpoint-url", moto_server]
    first = requirements(tmp_path, "tinydep==1.0")
    source = str(code / "mathwork.py")
    status, out, err = cli(
        capsys, "deploy", "fn", source, "--requirements", first, "--requirements-layer", "--role", ROLE, *endpoint
    )
    assert status == 0, err
    lambda_client = boto3_lambda(moto_server)
    versions = lambda_client.list_layer_versions(LayerName="fn-requirements")["LayerVersions"]
    assert len(versions) == 1 and "published layer" in out
    layer = versions[0]["LayerVersionArn"]
    assert [item["Arn"] for item in lambda_client.get_function(FunctionName="fn")["Configuration"]["Layers"]] == [layer]
    code_size = lambda_client.get_function_configuration(FunctionName="fn")["CodeSize"]

    # A change of code: only the code is sent, the layer is the same.
    (code / "mathwork.py").write_text((code / "mathwork.py").read_text() + "\nCHANGED = True\n")
    status, out, err = cli(capsys, "update", "fn", source, "--requirements", first, "--requirements-layer", *endpoint)
    assert status == 0, err
    assert f"using layer {layer}: the same requirements" in out and "updated fn: code" in out
    assert "layers" not in out
    assert len(lambda_client.list_layer_versions(LayerName="fn-requirements")["LayerVersions"]) == 1
    assert lambda_client.get_function_configuration(FunctionName="fn")["CodeSize"] < code_size + 100

    # Other requirements: a new version of the layer, and the function moves to it.
    second = requirements(tmp_path, "tinydep==2.0")
    status, out, err = cli(capsys, "update", "fn", source, "--requirements", second, "--requirements-layer", *endpoint)
    assert status == 0, err
    versions = lambda_client.list_layer_versions(LayerName="fn-requirements")["LayerVersions"]
    assert len(versions) == 2
    newest = max(versions, key=lambda version: version["Version"])["LayerVersionArn"]
    layers = lambda_client.get_function_configuration(FunctionName="fn")["Layers"]
    assert [item["Arn"] for item in layers] == [newest]


def test_slim_leaves_out_what_a_function_never_loads(tmp_path, wheels):
    library = tmp_path / "native.c"
    library.write_text("int answer(void) { return 42; }\n")
    shared = tmp_path / "native.so"
    subprocess.run(["gcc", "-g", "-O0", "-shared", "-fPIC", "-o", shared, library], check=True)
    files = {
        "slimdep/tests/test_slimdep.py": b"def test(): pass\n",
        "slimdep/__pycache__/__init__.cpython-312.pyc": b"\0" * 100,
        "slimdep/__init__.pyi": b"VALUE: int\n",
        "slimdep/native.so": shared.read_bytes(),
    }
    wheel(wheels, "slimdep", "1.0", "VALUE = 3\n", files)
    wanted = Path(requirements(tmp_path, "slimdep"))
    full, slim = tmp_path / "full", tmp_path / "slim"
    stage([], full, wanted, "python3.12", "x86_64")
    stage([], slim, wanted, "python3.12", "x86_64", slim=True)
    kept = {path.relative_to(slim).as_posix() for path in slim.rglob("*") if path.is_file()}
    assert "slimdep/__init__.py" in kept and "slimdep/native.so" in kept
    assert not any(part in kept for part in ("slimdep/tests/test_slimdep.py", "slimdep/__init__.pyi"))
    assert not any("__pycache__" in path for path in kept)
    assert (slim / "slimdep/native.so").stat().st_size < (full / "slimdep/native.so").stat().st_size
    assert unzipped_size(slim) < unzipped_size(full)


def test_deploy_sets_a_lifecycle_rule_that_expires_the_spill_location_and_keeps_the_buckets_others(
    local, moto_server, s3, code, capsys
):
    s3.create_bucket(Bucket="spill")
    theirs = {"ID": "theirs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}}
    s3.put_bucket_lifecycle_configuration(Bucket="spill", LifecycleConfiguration={"Rules": [theirs]})
    deploy = ["deploy", "fn", str(code / "mathwork.py"), "--role", ROLE, "--endpoint-url", local.endpoint_url]
    status, out, err = cli(capsys, *deploy, "--spill", "s3://spill/runs", "--spill-expiry", "3")
    assert status == 0, err
    assert "objects at s3://spill/runs expire after 3 days (lifecycle rule lambda-executor-spill:runs/)" in out
    # Again, with another expiry: the rule is replaced, not added.
    status, out, err = cli(capsys, *deploy, "--spill", "s3://spill/runs", "--spill-expiry", "2")
    assert status == 0, err
    rules = {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket="spill")["Rules"]}
    assert set(rules) == {"theirs", "lambda-executor-spill:runs/"}
    ours = rules["lambda-executor-spill:runs/"]
    assert ours["Expiration"] == {"Days": 2} and ours["Status"] == "Enabled"
    assert ours["Filter"] == {"Prefix": "runs/"}
    assert ours["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rules["theirs"]["Expiration"] == {"Days": 30}

    status, _, err = cli(capsys, *deploy, "--spill-expiry", "2")
    assert status != 0 and "--spill-expiry goes with --spill" in err


def test_a_requirements_layer_needs_requirements(local, code, capsys):
    status, _, err = cli(
        capsys, "deploy", "fn", str(code / "mathwork.py"), "--requirements-layer", "--endpoint-url", local.endpoint_url
    )
    assert status != 0 and "--requirements-layer needs --requirements FILE" in err
