"""Every connection the client makes has TCP keep-alive, probing after 45 s of silence, so that a
synchronous call whose function runs for minutes keeps its place in a NAT gateway (which forgets
a connection silent for 350 s) and a peer that vanished is noticed. Read off the sockets' own
options (the executor's connections are this process's): to LocalLambda over http, and over TLS.
(A connection to a proxy: test_proxy.py.)"""

from helpers import assert_kept_alive
from lambda_executor import LambdaExecutor


def test_a_connection_to_an_http_endpoint_has_tcp_keep_alive(local):
    local.add_synthetic("echo")
    with LambdaExecutor(max_workers=4, endpoint_url=local.endpoint_url) as executor:
        assert list(executor.map("echo", range(8))) == list(range(8))
        # The pooled connections, idle now, are the client's.
        assert_kept_alive(int(local.endpoint_url.rsplit(":", 1)[1]))


def test_a_tls_connection_has_tcp_keep_alive(chain, https_lambda):
    url, _ = https_lambda
    with LambdaExecutor(max_workers=1, endpoint_url=url, verify=str(chain / "ca.pem")) as executor:
        assert executor.submit("echo", {"over": "tls"}).result(timeout=30) == {"over": "tls"}
        assert_kept_alive(int(url.rsplit(":", 1)[1]))
