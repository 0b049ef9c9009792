"""The Python EIP-712 definitions are the contracts' own, and eth_account signs them as the standard says."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import keccak, to_checksum_address

from lotlink.chain.typed_data import (
    TYPES,
    Domain,
    recover_typed,
    sign_typed,
    type_string,
    typed_digest,
    typed_message,
)

SOURCES = Path(__file__).resolve().parents[2] / "contracts" / "src"


def _solidity_type_strings() -> set[str]:
    text = "".join(p.read_text() for p in SOURCES.rglob("*.sol"))
    joined = re.sub(r'"\s*\n\s*"', "", text)
    return set(re.findall(r'keccak256\(\s*"([A-Za-z]+\([^"]*\))"\s*\)', joined))


def test_every_on_chain_struct_matches_its_solidity_typehash() -> None:
    in_solidity = _solidity_type_strings()
    on_chain = {type_string(name) for name in TYPES if name != "Checkpoint"}
    assert on_chain == in_solidity


def test_eip712_ether_mail_vector() -> None:
    """The EIP-712 specification's example, as reproduced in shared/reference/standards.md."""
    message = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
            "Mail": [
                {"name": "from", "type": "Person"},
                {"name": "to", "type": "Person"},
                {"name": "contents", "type": "string"},
            ],
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail",
            "version": "1",
            "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
        },
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!",
        },
    }
    signable = encode_typed_data(full_message=message)
    assert (
        "0x" + signable.header.hex()
        == "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
    )
    signed = Account.sign_message(signable, keccak(b"cow"))
    assert signed.v == 28
    assert signed.r == 0x4355C47D63924E8A72E509B65029052EB6C299D53A04E167C5775FD466751C9D
    assert signed.s == 0x07299936D304C153F6443DFA05F40FF007D72911B6F72307F996231605B91562


def _example(kind: str, rng: random.Random) -> object:
    if kind == "bytes32":
        return rng.randbytes(32)
    if kind == "address":
        return to_checksum_address(rng.randbytes(20))
    if kind == "string":
        return rng.choice(["", "KGM", "ipfs://bafy…/manifest.json", "Ünïcode ✓"])
    if kind.endswith("[]"):
        return [_example(kind[:-2], rng) for _ in range(rng.randrange(4))]
    bits = int(kind.removeprefix("uint") or 256)
    return rng.choice([0, 1, (1 << bits) - 1, rng.randrange(1 << bits)])


@pytest.mark.parametrize("primary_type", sorted(TYPES))
def test_digest_equals_eth_account(primary_type: str) -> None:
    """The direct encoder of fixed-width structs hashes exactly as eth_account's general one."""
    rng = random.Random(primary_type)
    domain = Domain(
        chain_id=rng.choice([1, 31337, 2**64]), verifying_contract=Account.create().address
    )
    for _ in range(25):
        message = {name: _example(kind, rng) for name, kind in TYPES[primary_type]}
        signable = encode_typed_data(full_message=typed_message(primary_type, message, domain))
        assert typed_digest(primary_type, message, domain) == _hash_eip191_message(signable)


def test_sign_and_recover_round_trip() -> None:
    account = Account.create()
    domain = Domain(chain_id=31337, verifying_contract=Account.create().address)
    message = {"eventHash": bytes(range(32)), "lotKey": "0x" + "ab" * 32, "kind": 3}
    signature = sign_typed(account, "Checkpoint", message, domain)
    assert recover_typed("Checkpoint", message, domain, signature) == account.address
    assert recover_typed("Checkpoint", {**message, "kind": 4}, domain, signature) != account.address


@pytest.mark.parametrize(
    "message",
    [
        {"eventHash": b"\x01" * 31, "lotKey": b"\x02" * 32, "kind": 0},
        {"eventHash": b"\x01" * 32, "lotKey": b"\x02" * 32, "kind": 256},
        {"eventHash": b"\x01" * 32, "lotKey": b"\x02" * 32, "kind": -1},
    ],
)
def test_out_of_range_values_are_refused(message: dict[str, object]) -> None:
    domain = Domain(chain_id=1, verifying_contract=Account.create().address)
    with pytest.raises(ValueError):
        typed_digest("Checkpoint", message, domain)
