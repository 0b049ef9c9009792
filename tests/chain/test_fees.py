"""Transaction fees from the node: its tip where it has eth_maxPriorityFeePerGas, and web3.py's
fee-history estimate where it refuses that method (it is not in the JSON-RPC specification)."""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from web3 import Web3

from fixtures.anvil import AnvilChain
from lotlink.chain.fees import FEE_CALLS, fees_from
from lotlink.chain.rpc import RpcClient

GWEI = 10**9
REFUSED = "eth_maxPriorityFeePerGas"


class NodeWithoutTipMethod:
    """A JSON-RPC endpoint in front of anvil that answers every call through it except
    eth_maxPriorityFeePerGas, which it refuses as an unknown method, as some nodes do."""

    def __init__(self, upstream: str) -> None:
        self.asked: list[str] = []
        front = self

        def answer(call: dict[str, Any]) -> dict[str, Any]:
            front.asked.append(call["method"])
            if call["method"] == REFUSED:
                error = {"code": -32601, "message": f"the method {REFUSED} does not exist"}
                return {"jsonrpc": "2.0", "id": call["id"], "error": error}
            reply: dict[str, Any] = requests.post(upstream, json=call, timeout=10).json()
            return reply

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                replies = (
                    [answer(call) for call in request]
                    if isinstance(request, list)
                    else answer(request)
                )
                body = json.dumps(replies).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tipped(chain: AnvilChain) -> AnvilChain:
    """The chain after ten transfers, each in its own block, tipping 1.25 gwei: the blocks the
    fee history reads (the last ten) hold only these."""
    sender, receiver = chain.accounts[5], chain.accounts[6]
    nonce = chain.w3.eth.get_transaction_count(sender.address)
    for offset in range(10):
        signed = sender.sign_transaction(
            {
                "to": receiver.address, "value": 1, "gas": 21_000, "nonce": nonce + offset,
                "chainId": chain.chain_id, "maxFeePerGas": 100 * GWEI,
                "maxPriorityFeePerGas": 1_250_000_000,
            }
        )  # fmt: skip
        chain.w3.eth.wait_for_transaction_receipt(
            chain.w3.eth.send_raw_transaction(signed.raw_transaction)
        )
    return chain


@pytest.fixture
def node_without_tip_method(tipped: AnvilChain) -> Iterator[NodeWithoutTipMethod]:
    front = NodeWithoutTipMethod(tipped.url)
    try:
        yield front
    finally:
        front.close()


def _fees(url: str) -> tuple[int, int]:
    rpc = RpcClient(url, timeout=10)
    try:
        return fees_from(rpc, *rpc.batch(list(FEE_CALLS), settled=True))
    finally:
        rpc.close()


def test_the_tip_is_the_nodes_own_where_it_has_the_method(tipped: AnvilChain) -> None:
    base = tipped.w3.eth.get_block("latest")["baseFeePerGas"]
    tip = tipped.w3.eth.max_priority_fee
    assert _fees(tipped.url) == (2 * base + tip, tip)


def test_a_node_refusing_the_tip_method_is_priced_from_its_fee_history(
    tipped: AnvilChain, node_without_tip_method: NodeWithoutTipMethod
) -> None:
    max_fee, tip = _fees(node_without_tip_method.url)
    assert node_without_tip_method.asked.count("eth_feeHistory") == 1
    assert tip == 1_250_000_000  # the recent blocks' tips, not the node's default
    assert max_fee == 2 * tipped.w3.eth.get_block("latest")["baseFeePerGas"] + tip
    # What web3.py itself falls back to on the same node.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # web3 warns that it fell back
        assert Web3(Web3.HTTPProvider(node_without_tip_method.url)).eth.max_priority_fee == tip
