"""The lean JSON-RPC client: a deployment behind an HTTP proxy reaches its endpoint through it,
with the environment read once, when the client is made."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from lotlink.chain.rpc import RpcClient
from lotlink.errors import ChainRpcError, ChainUnavailableError


class ForwardingProxy:
    """A plain HTTP forward proxy: relays each POST to the absolute URL it names, and notes it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                proxy.seen.append(self.path)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = requests.post(
                    self.path,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=10,
                    proxies={"http": "", "https": ""},
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ForwardingProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardingProxy]:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with ForwardingProxy() as running:
        monkeypatch.setenv("HTTP_PROXY", running.url)
        monkeypatch.setenv("http_proxy", running.url)
        yield running


def test_calls_go_through_the_environments_proxy(anvil, proxy: ForwardingProxy) -> None:
    client = RpcClient(anvil.url, timeout=10)
    try:
        assert int(client.call("eth_chainId", []), 16) == anvil.chain_id
        head, chain_id = client.batch([("eth_blockNumber", []), ("eth_chainId", [])])
    finally:
        client.close()
    assert int(chain_id, 16) == anvil.chain_id
    assert int(head, 16) >= 0
    assert proxy.seen == [anvil.url + "/"] * 2


def test_no_proxy_names_the_endpoint(anvil, proxy: ForwardingProxy, monkeypatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    client = RpcClient(anvil.url, timeout=10)
    try:
        assert int(client.call("eth_chainId", []), 16) == anvil.chain_id
    finally:
        client.close()
    assert proxy.seen == []


def test_the_environment_is_read_when_the_client_is_made(anvil, proxy, monkeypatch) -> None:
    client = RpcClient(anvil.url, timeout=10)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # too late for this client
    try:
        client.call("eth_chainId", [])
    finally:
        client.close()
    assert proxy.seen == [anvil.url + "/"]


def test_an_unreachable_proxy_is_a_chain_unavailable_error(anvil, monkeypatch) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    dead = ForwardingProxy()  # closed at once: its port refuses connections
    dead.server.server_close()
    monkeypatch.setenv("HTTP_PROXY", dead.url)
    monkeypatch.setenv("http_proxy", dead.url)
    client = RpcClient(anvil.url, timeout=5)
    with pytest.raises(ChainUnavailableError, match="does not answer"):
        client.call("eth_chainId", [])
    client.close()


def test_a_settled_batch_keeps_the_answers_beside_an_error(anvil) -> None:
    client = RpcClient(anvil.url, timeout=10)
    try:
        chain_id, refused = client.batch(
            [("eth_chainId", []), ("eth_getBalance", ["not an address", "latest"])], settled=True
        )
        with pytest.raises(ChainRpcError, match="eth_getBalance failed"):
            client.batch([("eth_chainId", []), ("eth_getBalance", ["not an address", "latest"])])
    finally:
        client.close()
    assert int(chain_id, 16) == anvil.chain_id
    assert isinstance(refused, ChainRpcError)
    assert refused.method == "eth_getBalance"
    assert not refused.retryable  # invalid params
