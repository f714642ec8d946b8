"""Proxies as boto3 and requests users set them, through a real proxy server (tinyproxy, from
Debian's packages; .ci/run installs it) on loopback: its own access log proves what went through it."""

import os
import select
import socket
import struct
import subprocess
import sys
import threading

import pytest
from helpers import assert_kept_alive, free_port, wait_for
from lambda_executor import ConfigurationError, DeployError, InvocationError, LambdaExecutor, RetryPolicy
from lambda_executor._core import ControlPlane
from lambda_executor.cli import main


class Tinyproxy:
    """tinyproxy in the foreground on a free loopback port, logging every request it carries."""

    def __init__(self, folder, *, basic_auth=None, connect_ports=(), address="127.0.0.1", allow=("127.0.0.1",)):
        self.address = address
        self.port = free_port()
        self.log = folder / f"tinyproxy-{self.port}.log"
        lines = [
            f"Port {self.port}",
            f"Listen {address}",
            "Timeout 60",
            f'LogFile "{self.log}"',
            "LogLevel Connect",
            "MaxClients 100",
            *(f"Allow {client}" for client in allow),
        ]
        if basic_auth:
            lines.append("BasicAuth {} {}".format(*basic_auth))
        lines += [f"ConnectPort {port}" for port in connect_ports]
        config = folder / f"tinyproxy-{self.port}.conf"
        config.write_text("\n".join(lines) + "\n")
        self.process = subprocess.Popen(
            ["tinyproxy", "-d", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(self._accepts)

    def _accepts(self):
        try:
            socket.create_connection((self.address, self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    @property
    def url(self):
        return f"http://{self.address}:{self.port}"

    def requests(self):
        """What the proxy carried: the request lines of its log."""
        text = self.log.read_text() if self.log.exists() else ""
        return [line.split("): ", 1)[1] for line in text.splitlines() if "Request (file descriptor" in line]

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def proxy(tmp_path):
    server = Tinyproxy(tmp_path)
    yield server
    server.close()


def test_https_proxy_tunnels_tls_to_the_origin(proxy, chain, https_lambda, monkeypatch):
    url, _ = https_lambda
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    with LambdaExecutor(endpoint_url=url, verify=str(chain / "ca.pem")) as executor:
        assert executor.submit("echo", {"via": "tunnel"}).result(timeout=30) == {"via": "tunnel"}
        # The tunnel's connection to the proxy has TCP keep-alive, as every connection has (test_keepalive.py).
        assert_kept_alive(proxy.port)
    port = url.rsplit(":", 1)[1]
    assert any(line.startswith(f"CONNECT localhost:{port}") for line in proxy.requests()), proxy.requests()


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_an_http_endpoint_goes_through_the_proxy_from_the_environment(proxy, local, monkeypatch, variable):
    local.add_synthetic("echo")
    monkeypatch.setenv(variable, proxy.url)
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        assert executor.submit("echo", [variable]).result(timeout=30) == [variable]
    assert any(f"POST {local.endpoint_url}/2015-03-31/functions/echo/invocations" in line for line in proxy.requests())


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "127.0.0.0/8", "*", "localhost,127.0.0.1"])
def test_no_proxy_hosts_bypass_the_proxy(proxy, local, monkeypatch, no_proxy):
    local.add_synthetic("echo")
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        assert executor.submit("echo", 1).result(timeout=30) == 1
    assert proxy.requests() == []


def test_the_proxies_option_means_what_botocore_config_proxies_means(proxy, local):
    local.add_synthetic("echo")
    with LambdaExecutor(endpoint_url=local.endpoint_url, proxies={"http": proxy.url}) as executor:
        assert executor.submit("echo", "explicit").result(timeout=30) == "explicit"
    assert len(proxy.requests()) == 1
    with LambdaExecutor(endpoint_url=local.endpoint_url, proxies={"https": proxy.url}) as executor:
        assert executor.submit("echo", "not for http").result(timeout=30) == "not for http"
    assert len(proxy.requests()) == 1, "an https proxy does not carry http requests"


def test_an_endpoint_from_aws_endpoint_url_lambda_takes_the_proxy_for_its_scheme(proxy, local, monkeypatch):
    """The endpoint the SDK reads from the environment, not endpoint_url=, decides the proxy."""
    local.add_synthetic("echo")
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", local.endpoint_url)
    nowhere = f"http://127.0.0.1:{free_port()}"
    with LambdaExecutor(proxies={"http": proxy.url, "https": nowhere}) as executor:
        assert executor.submit("echo", "from the environment").result(timeout=30) == "from the environment"
    assert len(proxy.requests()) == 1


@pytest.mark.parametrize(
    ("setting", "url", "says"),
    [
        ("HTTPS_PROXY", "http://127.0.0.1:99999", "HTTPS_PROXY has port 99999, which is not 1 to 65535"),
        ("https_proxy", "http://user:secret@127.0.0.1:70000", "https_proxy has port 70000"),
        ("HTTP_PROXY", "http://[bad", "HTTP_PROXY is not an http:// or https:// URL with a host"),
        ("ALL_PROXY", "127.0.0.1:0", "ALL_PROXY has port 0"),
    ],
)
def test_a_proxy_url_that_cannot_be_used_is_an_error_naming_its_setting(local, monkeypatch, setting, url, says):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(setting, url)
    # Not a silent port 80, nor calls sent direct past the proxy the user set.
    with pytest.raises(ConfigurationError, match=f"the environment's {says}") as raised:
        LambdaExecutor(endpoint_url=local.endpoint_url)
    assert "secret" not in str(raised.value)
    monkeypatch.delenv(setting)
    explicit = url if "://" in url else f"http://{url}"
    with pytest.raises(ConfigurationError, match=r"proxies\['https'\] (has port|is not an http)"):
        LambdaExecutor(endpoint_url=local.endpoint_url, proxies={"https": explicit})


def test_a_pooled_connection_the_proxy_closed_is_retried_as_never_read_not_lost(proxy, local):
    # tinyproxy answers HTTP/1.1 without "Connection: close" and then closes the connection: the
    # next call on it is reset unread, and is sent again on a new connection instead of failing
    # as one that may have run (before: 3 maps in 4 lost a call).
    local.add_synthetic("echo")
    for _ in range(10):
        with LambdaExecutor(max_workers=4, endpoint_url=local.endpoint_url, proxies={"http": proxy.url}) as executor:
            assert list(executor.map("echo", range(20))) == list(range(20))
    assert local.stats("echo")["invocations"] == 200, "none ran twice"


def test_basic_auth_from_the_proxy_url_and_a_refusal_that_names_the_proxy_not_the_secret(tmp_path, local):
    local.add_synthetic("echo")
    guarded = Tinyproxy(tmp_path, basic_auth=("user", "s3cret"))
    try:
        good = f"http://user:s3cret@127.0.0.1:{guarded.port}"
        with LambdaExecutor(endpoint_url=local.endpoint_url, proxies={"http": good}) as executor:
            assert executor.submit("echo", "authorized").result(timeout=30) == "authorized"
        bad = f"http://user:wrong-password@127.0.0.1:{guarded.port}"
        with LambdaExecutor(
            endpoint_url=local.endpoint_url, proxies={"http": bad}, retry=RetryPolicy(max_retries=0)
        ) as executor:
            error = executor.submit("echo", "refused").exception(timeout=30)
            assert "wrong-password" not in repr(executor)
        assert isinstance(error, InvocationError)
        assert f"the proxy 127.0.0.1:{guarded.port} refused the call (HTTP 401)" in str(error)
        assert "wrong-password" not in str(error) and "user:" not in str(error)
    finally:
        guarded.close()
    assert local.stats("echo")["invocations"] == 1, "the refused call never reached Lambda"


def test_a_proxy_that_refuses_the_tunnel_is_a_clear_error_and_not_sent(tmp_path, chain, https_lambda):
    url, _ = https_lambda
    strict = Tinyproxy(tmp_path, connect_ports=(443,))
    try:
        retry = RetryPolicy(max_retries=1, base_delay=0.01, max_delay=0.02)
        with LambdaExecutor(
            endpoint_url=url, verify=str(chain / "ca.pem"), proxies={"https": strict.url}, retry=retry
        ) as executor:
            future = executor.submit("echo", {"charge": 1})
            error = future.exception(timeout=30)
        assert isinstance(error, InvocationError)
        assert f"127.0.0.1:{strict.port}" in str(error)
        assert future.invocation.attempts == 2, "refused before anything was sent, so retried"
    finally:
        strict.close()


def test_deploy_create_role_calls_iam_through_the_proxy_lambda_goes_through(
    proxy, local, moto_server, tmp_path, monkeypatch
):
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return event\n")
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    argv = ["deploy", "fn", str(tmp_path / "app.py"), "--handler", "app.handler", "--create-role"]
    assert main([*argv, "--endpoint-url", local.endpoint_url, "--iam-endpoint-url", moto_server]) == 0
    carried = proxy.requests()
    assert sum(line.startswith(f"POST {moto_server}/") for line in carried) == 3, carried  # Get, Create, Attach
    assert any(f"POST {local.endpoint_url}/2015-03-31/functions" in line for line in carried), carried


def test_iam_takes_the_explicit_proxy_for_its_own_endpoints_scheme(proxy, moto_server):
    """IAM's endpoint, not Lambda's, decides which of the explicit proxies carries its calls."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    lambda_over_https = "https://localhost:1"  # never called: only its scheme counts here
    control = ControlPlane(
        client={"endpoint_url": lambda_over_https, "proxies": {"http": proxy.url, "https": nowhere}},
        iam_endpoint_url=moto_server,
    )
    assert control.get_role("nobody") is None
    assert [line for line in proxy.requests() if line.startswith(f"POST {moto_server}/")] != []


def test_credential_providers_go_through_the_proxy_too(proxy, local, moto_server, tmp_path, monkeypatch):
    """A profile that assumes a role: the STS call aws-config's provider makes for the credentials
    goes through the proxy Lambda's calls go through (on a proxied host nothing reaches STS directly)."""
    local.add_synthetic("echo")
    config = tmp_path / "config"
    config.write_text(
        "[profile base]\nregion = us-east-1\n\n"
        "[profile assumed]\nregion = us-east-1\nsource_profile = base\n"
        "role_arn = arn:aws:iam::123456789012:role/fan-out\n"
    )
    credentials = tmp_path / "credentials"
    credentials.write_text("[base]\naws_access_key_id = testing\naws_secret_access_key = testing-secret\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_server)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with LambdaExecutor(endpoint_url=local.endpoint_url, profile="assumed") as executor:
        assert executor.submit("echo", "assumed").result(timeout=30) == "assumed"
    carried = proxy.requests()
    assert any(line.startswith(f"POST {moto_server}/") for line in carried), carried  # AssumeRole
    assert any(f"POST {local.endpoint_url}/2015-03-31/functions/echo" in line for line in carried), carried


# A network namespace of the test's own and a veth pair into it: this host is HOST_SIDE there, and
# nothing else is reachable (its loopback is its own, with nothing listening).
HOST_SIDE, INSIDE = "10.213.7.1", "10.213.7.2"

CALL_FROM_INSIDE = """
import sys
from lambda_executor import ConfigurationError, InvocationError, LambdaExecutor, RetryPolicy
retry = RetryPolicy(max_retries=1, base_delay=0.01, max_delay=0.02)
with LambdaExecutor(endpoint_url=sys.argv[1], retry=retry) as executor:
    future = executor.submit("echo", {"via": "the proxy"})
    try:
        print(future.result(timeout=30))
    except InvocationError as error:
        print("failed after", future.invocation.attempts, "attempts:", error)
"""


@pytest.fixture
def no_direct_route():
    """The namespace's name; torn down after the test. Making one takes Linux and root (as here and
    in CI); elsewhere (macOS, an unprivileged container) the test says it could not, and skips."""
    name, host_link, inside_link = f"le-test-{os.getpid()}", f"leh{os.getpid()}", f"len{os.getpid()}"
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"cannot make a network namespace here: {getattr(error, 'stderr', None) or error}")
    steps = [
        ["ip", "link", "add", host_link, "type", "veth", "peer", "name", inside_link],
        ["ip", "link", "set", inside_link, "netns", name],
        ["ip", "addr", "add", f"{HOST_SIDE}/30", "dev", host_link],
        ["ip", "link", "set", host_link, "up"],
        ["ip", "netns", "exec", name, "ip", "addr", "add", f"{INSIDE}/30", "dev", inside_link],
        ["ip", "netns", "exec", name, "ip", "link", "set", inside_link, "up"],
        ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
    ]
    try:
        for step in steps:
            subprocess.run(step, check=True, capture_output=True, timeout=10)
        yield name
    finally:
        subprocess.run(["ip", "link", "del", host_link], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


def test_with_no_direct_route_calls_go_through_the_proxy_alone(no_direct_route, local, tmp_path):
    """Where only the proxy is reachable, as on a locked-down host: the call made through it runs;
    the same call without it cannot connect, is retried as never sent, and never reaches Lambda."""
    local.add_synthetic("echo")
    proxy = Tinyproxy(tmp_path, address=HOST_SIDE, allow=(INSIDE,))
    try:
        inside = ["ip", "netns", "exec", no_direct_route, sys.executable, "-c", CALL_FROM_INSIDE, local.endpoint_url]
        proxied = subprocess.run(
            inside, capture_output=True, text=True, timeout=120, env=dict(os.environ, HTTP_PROXY=proxy.url)
        )
        assert proxied.stdout.strip() == "{'via': 'the proxy'}", proxied.stderr
        assert any(f"POST {local.endpoint_url}/2015-03-31/functions/echo" in line for line in proxy.requests())
        direct = subprocess.run(inside, capture_output=True, text=True, timeout=120)
        assert direct.stdout.startswith("failed after 2 attempts:"), (direct.stdout, direct.stderr)
    finally:
        proxy.close()
    assert local.stats("echo")["invocations"] == 1, "only the call through the proxy reached Lambda"


class RefusingPeer:
    """A TCP peer that counts its connections and refuses each: as a proxy that answers CONNECT
    with 503 (the request never left), or by resetting the connection once it has read the
    request (which may then have been acted on)."""

    def __init__(self, read_then_reset):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.read_then_reset = read_then_reset
        self.connections = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with connection:
                select.select([connection], [], [], 5)
                connection.recv(1 << 20)
                if self.read_then_reset:
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    connection.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")

    def close(self):
        self.server.close()


def test_a_deploy_call_that_never_left_is_sent_again_and_one_that_may_have_been_read_is_not():
    """Deploy's calls are resent (3 attempts in all) when they never left, here a proxy refusing
    the tunnel; one whose connection was reset after the request was read is not resent."""
    refusing = RefusingPeer(read_then_reset=False)
    try:
        control = ControlPlane(client={"endpoint_url": "https://127.0.0.1:1", "proxies": {"https": refusing.url}})
        with pytest.raises(DeployError, match="ListFunctions"):
            control.list_functions()
        assert refusing.connections == 3
    finally:
        refusing.close()
    resetting = RefusingPeer(read_then_reset=True)
    try:
        control = ControlPlane(client={"endpoint_url": resetting.url, "proxies": {}})
        with pytest.raises(DeployError, match="ListFunctions"):
            control.list_functions()
        assert resetting.connections == 1, "a call that may have been read was not sent again"
    finally:
        resetting.close()
