"""The Python EIP-712 definitions are the contracts' own, and eth_account signs them as the standard says."""

from __future__ import annotations

import re
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from lotlink.chain.typed_data import TYPES, type_string

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
