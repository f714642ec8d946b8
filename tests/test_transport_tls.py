"""The client over TLS, as it reaches AWS: against an HTTPS peer served by Python's ssl (OpenSSL),
with a certificate chain made for the test and trusted through SSL_CERT_FILE."""

import datetime
import http.server
import ipaddress
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lambda_executor import LambdaError, LambdaExecutor


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


def test_invokes_over_tls_on_one_kept_alive_connection(chain, https_lambda, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(chain / "ca.pem"))
    url, connections = https_lambda
    with LambdaExecutor(max_workers=1, endpoint_url=url) as executor:
        events = [{"i": i, "text": "é" * i} for i in range(20)]
        assert list(executor.map("echo", events)) == events
    assert len(connections) == 1


def test_an_untrusted_certificate_is_refused(chain, https_lambda, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(chain / "other.pem"))
    url, _ = https_lambda
    with LambdaExecutor(max_workers=1, endpoint_url=url) as executor:
        with pytest.raises(LambdaError) as raised:
            executor.submit("echo", {"secret": "payload"}).result(timeout=60)
    message = str(raised.value)
    assert "certificate" in message.lower(), message
    assert "payload" not in message and json.dumps({"secret": "payload"}) not in message
