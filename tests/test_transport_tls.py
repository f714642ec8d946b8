"""The client over TLS, as it reaches AWS: against an HTTPS peer served by Python's ssl (OpenSSL),
with a certificate chain made for the test and trusted as boto3 users trust one: `verify=`,
AWS_CA_BUNDLE, a profile's ca_bundle, or SSL_CERT_FILE for the system store."""

import datetime
import http.server
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lambda_executor import ConfigurationError, InvocationError, LambdaExecutor


def _certificate(subject, issuer_name, key, issuer_key, *, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """A CA file and a server certificate for localhost signed by it; plus an unrelated CA."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key, server_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate("test CA", "test CA", ca_key, ca_key, ca=True)
    server = _certificate("localhost", "test CA", server_key, ca_key, ca=False)
    other = _certificate("other CA", "other CA", other_key, other_key, ca=True)
    (folder / "ca.pem").write_bytes(_pem(ca))
    (folder / "other.pem").write_bytes(_pem(other))
    (folder / "server.pem").write_bytes(_pem(server))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return folder


@pytest.fixture
def https_lambda(chain):
    """An HTTPS peer answering Invoke with the event it was sent, on kept-alive connections."""
    connections = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            connections.append(self.client_address)
            super().setup()

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Amz-Executed-Version", "$LATEST")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain / "server.pem", chain / "server.key")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"https://localhost:{server.server_address[1]}", connections
    server.shutdown()
    server.server_close()


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


@pytest.mark.parametrize(
    ("verify", "error", "words"),
    [
        (False, ValueError, "verify=False is not supported"),
        (3, TypeError, "verify must be True, or the path"),
    ],
)
def test_bad_verify_values_are_refused(verify, error, words):
    with pytest.raises(error, match=words):
        LambdaExecutor(verify=verify)


def test_a_ca_bundle_that_cannot_be_read_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read the CA bundle"):
        LambdaExecutor(endpoint_url="https://localhost:1", verify=str(tmp_path / "missing.pem"))
