"""The contract client's own calldata encoding and its reading of refusals the lean JSON-RPC
client reports: both as web3.py's, without its per-call machinery."""

from __future__ import annotations

import pytest

from fixtures.world import World, gtin
from lotlink.chain.typed_data import Authorization
from lotlink.errors import ChainRpcError

ROOT = bytes.fromhex("11" * 32)


def _web3_encoding(world: World, function: str, *args: object) -> bytes:
    return bytes.fromhex(world.lotlink.contract.encode_abi(function, args=list(args))[2:])


@pytest.mark.parametrize(
    ("function", "args"),
    [
        (
            "anchorBatch",
            (ROOT, bytes(32), 1024, "https://x.test/m/1", ("0x" + "00" * 20, 0, 0, b"")),
        ),
        ("anchoredAt", (ROOT,)),
        ("registerLot", ((gtin("0952123400041"), "L-1", [], [], 1000, "KGM", bytes(32)),)),
    ],
)
def test_calldata_is_web3s(world: World, function: str, args: tuple[object, ...]) -> None:
    full = (*args, Authorization.direct().as_tuple()) if function == "registerLot" else args
    assert world.lotlink.encode(function, *full) == _web3_encoding(world, function, *full)


def test_an_overloaded_function_is_encoded_by_web3(world: World) -> None:
    signer = world.stranger.address
    assert world.lotlink.encode("nonces", signer, 7) == _web3_encoding(world, "nonces", signer, 7)


def test_a_refused_estimate_reads_as_the_contracts_custom_error(world: World) -> None:
    data = world.lotlink.encode(
        "anchorBatch", ROOT, bytes(32), 1, "", Authorization.direct().as_tuple()
    )
    call = {"from": world.stranger.address, "to": world.lotlink.address, "data": "0x" + data.hex()}
    with pytest.raises(ChainRpcError) as raised:
        world.lotlink.rpc.call("eth_estimateGas", [call])
    refused = world.lotlink.revert_in("anchorBatch", raised.value)
    assert refused is not None
    assert refused.error_name == "AccessControlUnauthorizedAccount"
    assert refused.error_args["account"] == world.stranger.address.lower()


def test_an_error_that_is_no_refusal_stays_an_rpc_error(world: World) -> None:
    with pytest.raises(ChainRpcError) as raised:
        world.lotlink.rpc.call("eth_getBalance", ["not an address", "latest"])
    assert world.lotlink.revert_in("anchorBatch", raised.value) is None
