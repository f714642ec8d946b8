"""The client over TLS, as it reaches AWS: against an HTTPS peer served by Python's ssl (OpenSSL,
conftest.py's https_lambda), with a certificate chain made for the test and trusted as boto3 users trust one: `verify=`,
AWS_CA_BUNDLE, a profile's ca_bundle, or SSL_CERT_FILE for the system store."""

import json
import os
import subprocess
import sys

import pytest
from helpers import boto3_lambda
from lambda_executor import ConfigurationError, InsecureRequestWarning, InvocationError, LambdaExecutor, LocalLambda
from lambda_executor.cli import main


def test_invokes_over_tls_on_one_kept_alive_connection(chain, https_lambda):
    url, connections = https_lambda
    with LambdaExecutor(max_workers=1, endpoint_url=url, verify=str(chain / "ca.pem")) as executor:
        events = [{"i": i, "text": "é" * i} for i in range(20)]
        assert list(executor.map("echo", events)) == events
    # Kept alive: not a connection per call (the pool may open a second while the first returns).
    assert len(connections) <= 2


def test_aws_ca_bundle_is_trusted_as_boto3_trusts_it(chain, https_lambda, monkeypatch):
    monkeypatch.setenv("AWS_CA_BUNDLE", str(chain / "ca.pem"))
    url, _ = https_lambda
    with LambdaExecutor(endpoint_url=url) as executor:
        assert executor.submit("echo", {"via": "AWS_CA_BUNDLE"}).result(timeout=30) == {"via": "AWS_CA_BUNDLE"}


def test_a_profiles_ca_bundle_is_trusted(chain, https_lambda, monkeypatch, tmp_path):
    config = tmp_path / "config"
    config.write_text(f"[profile tls]\nregion = us-east-1\nca_bundle = {chain / 'ca.pem'}\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[tls]\naws_access_key_id = testing\naws_secret_access_key = testing-secret\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    url, _ = https_lambda
    with LambdaExecutor(endpoint_url=url, profile="tls") as executor:
        assert executor.submit("echo", {"via": "profile"}).result(timeout=30) == {"via": "profile"}


def test_ssl_cert_file_names_the_system_trust_store(chain, https_lambda):
    # In a process of its own: the system store is read once per process.
    url, _ = https_lambda
    script = (
        "import sys; from lambda_executor import LambdaExecutor\n"
        "with LambdaExecutor(endpoint_url=sys.argv[1]) as executor:\n"
        "    print(executor.submit('echo', {'via': 'SSL_CERT_FILE'}).result(timeout=30))\n"
    )
    env = dict(os.environ, SSL_CERT_FILE=str(chain / "ca.pem"))
    env.pop("SSL_CERT_DIR", None)
    out = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "{'via': 'SSL_CERT_FILE'}"


def test_an_untrusted_certificate_is_refused_at_once_and_not_retried(chain, https_lambda):
    url, _ = https_lambda
    with LambdaExecutor(max_workers=1, endpoint_url=url, verify=str(chain / "other.pem")) as executor:
        future = executor.submit("echo", {"secret": "payload"})
        with pytest.raises(InvocationError) as raised:
            future.result(timeout=60)
    message = str(raised.value)
    assert raised.value.error_code == "UntrustedCertificate"
    assert "certificate" in message.lower(), message
    assert "payload" not in message and json.dumps({"secret": "payload"}) not in message
    assert future.invocation.attempts == 1


def test_verify_false_accepts_any_certificate_and_warns_so(chain, https_lambda):
    url, _ = https_lambda
    # The server's certificate is signed by the test's own CA, which nothing here is told to trust.
    with pytest.warns(InsecureRequestWarning, match="verify=False: this client's https calls accept any"):
        executor = LambdaExecutor(max_workers=1, endpoint_url=url, verify=False)
    with executor:
        assert executor.submit("echo", {"checked": False}).result(timeout=30) == {"checked": False}
    # Trust is part of the client's identity: the next executor to this endpoint checks again.
    with LambdaExecutor(max_workers=1, endpoint_url=url) as executor:
        with pytest.raises(InvocationError) as raised:
            executor.submit("echo", {}).result(timeout=60)
    assert raised.value.error_code == "UntrustedCertificate"


@pytest.mark.parametrize("verify", [3, ["ca.pem"]])
def test_bad_verify_values_are_refused(verify):
    with pytest.raises(TypeError, match="verify must be True, False, or the path of a CA bundle"):
        LambdaExecutor(verify=verify)


def test_a_ca_bundle_that_cannot_be_read_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read the CA bundle"):
        LambdaExecutor(endpoint_url="https://localhost:1", verify=str(tmp_path / "missing.pem"))


@pytest.fixture
def local_tls(chain):
    with LocalLambda(tls=(chain / "server.pem", chain / "server.key")) as local:
        local.add_synthetic("echo")
        yield local


def test_local_lambda_over_tls_serves_the_executor_and_boto3(chain, local_tls, monkeypatch):
    assert local_tls.endpoint_url.startswith("https://127.0.0.1:")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(chain / "ca.pem"))
    with LambdaExecutor(endpoint_url=local_tls.endpoint_url) as executor:
        assert list(executor.map("echo", range(50))) == list(range(50))
    client = boto3_lambda(local_tls.endpoint_url)
    assert client.invoke(FunctionName="echo", Payload=b'{"via": "boto3"}')["Payload"].read() == b'{"via": "boto3"}'
    assert local_tls.stats("echo")["invocations"] == 51


def test_local_lambda_refuses_a_certificate_and_key_that_do_not_make_an_identity(chain):
    with pytest.raises(ValueError, match=r"do not make a TLS identity|cannot read the key"):
        LocalLambda(tls=(chain / "server.pem", chain / "ca.pem"))


def test_the_local_command_serves_https(chain):
    command = [
        sys.executable,
        "-m",
        "lambda_executor",
        "local",
        "--synthetic",
        "echo",
        "--tls-cert",
        str(chain / "server.pem"),
        "--tls-key",
        str(chain / "server.key"),
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        endpoint = server.stdout.readline().rsplit(" ", 1)[1].strip()
        assert endpoint.startswith("https://")
        with LambdaExecutor(endpoint_url=endpoint, verify=str(chain / "ca.pem")) as executor:
            assert executor.submit("echo", {"over": "https"}).result(timeout=30) == {"over": "https"}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_ca_bundle_with_a_certificate_that_cannot_be_a_root_is_refused_naming_it(chain, tmp_path):
    bundle = tmp_path / "bundle.pem"
    junk = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n"
    bundle.write_text((chain / "ca.pem").read_text() + junk)
    with pytest.raises(ConfigurationError, match="certificate 2 of the CA bundle cannot be a trusted root"):
        LambdaExecutor(endpoint_url="https://localhost:1", verify=str(bundle))


def test_the_cli_takes_a_ca_bundle_or_no_verify_ssl_as_the_aws_cli_does(chain, https_lambda, capsys):
    url, _ = https_lambda
    assert main(["invoke", "echo", '{"via": "ca"}', "--endpoint-url", url, "--ca-bundle", str(chain / "ca.pem")]) == 0
    assert json.loads(capsys.readouterr().out) == {"via": "ca"}
    with pytest.warns(InsecureRequestWarning, match="verify=False"):
        assert main(["invoke", "echo", '{"via": "anything"}', "--endpoint-url", url, "--no-verify-ssl"]) == 0
    assert json.loads(capsys.readouterr().out) == {"via": "anything"}
