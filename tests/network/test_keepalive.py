"""Every connection the client makes has TCP keep-alive, probing after 45 s of silence, so that a
synchronous call whose function runs for minutes keeps its place in a NAT gateway (which forgets
a connection silent for 350 s) and a peer that vanished is noticed. Read off the sockets' own
options (the executor's connections are this process's): to LocalLambda over http, and over TLS.
(A connection to a proxy: test_proxy.py.) And connections end with the last executor that uses
their client."""

import gc

from helpers import assert_kept_alive, keepalive_of_connections_to, wait_for
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


def test_a_client_no_executor_uses_is_let_go_with_its_connections(local):
    local.add_synthetic("echo")
    port = int(local.endpoint_url.rsplit(":", 1)[1])
    # Executors of 30 configurations, each with a client of its own, one after the other.
    for seconds in range(100, 130):
        with LambdaExecutor(max_workers=2, endpoint_url=local.endpoint_url, read_timeout=seconds) as executor:
            assert executor.submit("echo", {"n": seconds}).result(timeout=30) == {"n": seconds}
            assert keepalive_of_connections_to(port), "the call's connection is pooled while in use"
    del executor
    gc.collect()
    # None of them is used now: their connections are closed, not left to the idle timeout.
    wait_for(lambda: not keepalive_of_connections_to(port), seconds=10)
