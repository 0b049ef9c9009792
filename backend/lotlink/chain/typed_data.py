"""EIP-712 typed data for every Lotlink write, and the `Authorization` that carries a signature.

The struct definitions here mirror the `*_TYPEHASH` strings in contracts/src one for one; a test
rebuilds each type string from this table and compares it with the Solidity source, so the two
cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import coincurve
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from eth_utils import keccak, to_checksum_address

from lotlink.chain.keccak import keccak256

DOMAIN_NAME = "Lotlink"
DOMAIN_VERSION = "1"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

_NONCE_AND_DEADLINE = [("nonce", "uint256"), ("deadline", "uint256")]

# Every on-chain write ends with (nonce, deadline); `Checkpoint` is signed off-chain for batches,
# where the anchored Merkle root, not a nonce, is what makes the record unique.
TYPES: dict[str, list[tuple[str, str]]] = {
    "RegisterActor": [
        ("account", "address"),
        ("role", "bytes32"),
        ("gln", "uint64"),
        ("profileHash", "bytes32"),
        *_NONCE_AND_DEADLINE,
    ],
    "UpdateActorProfile": [
        ("account", "address"),
        ("gln", "uint64"),
        ("profileHash", "bytes32"),
        *_NONCE_AND_DEADLINE,
    ],
    "RegisterLot": [
        ("gtin", "string"),
        ("lotCode", "string"),
        ("parents", "bytes32[]"),
        ("parentQuantities", "uint256[]"),
        ("quantity", "uint256"),
        ("uom", "string"),
        ("detailsHash", "bytes32"),
        *_NONCE_AND_DEADLINE,
    ],
    "RecordCheckpoint": [
        ("eventHash", "bytes32"),
        ("lotKey", "bytes32"),
        ("kind", "uint8"),
        *_NONCE_AND_DEADLINE,
    ],
    "AnchorBatch": [
        ("root", "bytes32"),
        ("manifestHash", "bytes32"),
        ("count", "uint32"),
        ("manifestUri", "string"),
        *_NONCE_AND_DEADLINE,
    ],
    "IssueCertificate": [
        ("subjectKind", "uint8"),
        ("subject", "bytes32"),
        ("kind", "uint8"),
        ("documentHash", "bytes32"),
        ("validFrom", "uint64"),
        ("validUntil", "uint64"),
        *_NONCE_AND_DEADLINE,
    ],
    "RevokeCertificate": [
        ("certificateId", "bytes32"),
        ("reasonHash", "bytes32"),
        *_NONCE_AND_DEADLINE,
    ],
    "IssueRecall": [
        ("lotKeys", "bytes32[]"),
        ("recallClass", "uint8"),
        ("reasonHash", "bytes32"),
        *_NONCE_AND_DEADLINE,
    ],
    "UpdateRecall": [
        ("recallId", "uint256"),
        ("recallClass", "uint8"),
        ("reasonHash", "bytes32"),
        *_NONCE_AND_DEADLINE,
    ],
    "CloseRecall": [("recallId", "uint256"), ("reasonHash", "bytes32"), *_NONCE_AND_DEADLINE],
    "Checkpoint": [("eventHash", "bytes32"), ("lotKey", "bytes32"), ("kind", "uint8")],
}


def type_string(primary_type: str) -> str:
    """The EIP-712 encodeType string of `primary_type`, e.g. ``CloseRecall(uint256 recallId,…)``."""
    fields = ",".join(f"{kind} {name}" for name, kind in TYPES[primary_type])
    return f"{primary_type}({fields})"


@dataclass(frozen=True, slots=True)
class Domain:
    """The EIP-712 domain of one Lotlink deployment."""

    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


def typed_message(primary_type: str, message: Mapping[str, Any], domain: Domain) -> dict[str, Any]:
    """The full EIP-712 message (types, domain, primaryType, message) as wallets expect it."""
    if primary_type not in TYPES:
        raise KeyError(f"unknown Lotlink typed-data struct {primary_type!r}")
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            primary_type: [{"name": n, "type": t} for n, t in TYPES[primary_type]],
        },
        "primaryType": primary_type,
        "domain": domain.as_dict(),
        "message": dict(message),
    }


def _bytes32(value: Any) -> bytes:
    if isinstance(value, str):
        value = bytes.fromhex(value.removeprefix("0x"))
    if len(value) != 32:
        raise ValueError(f"a bytes32 value has 32 bytes, not {len(value)}")
    return bytes(value)


def _uint(bits: int) -> Callable[[Any], bytes]:
    def word(value: Any) -> bytes:
        if not 0 <= int(value) < 1 << bits:
            raise ValueError(f"{value!r} is not a uint{bits}")
        return int(value).to_bytes(32, "big")

    return word


def _address(value: Any) -> bytes:
    return bytes(12) + bytes.fromhex(to_checksum_address(value)[2:])


def _word(kind: str) -> Callable[[Any], bytes] | None:
    """The encodeData word maker of a static type; None for dynamic ones (string, arrays)."""
    if kind == "bytes32":
        return _bytes32
    if re.fullmatch(r"uint\d*", kind):
        return _uint(int(kind.removeprefix("uint") or 256))
    if kind == "address":
        return _address
    return None


@cache
def _static_encoder(primary_type: str) -> Callable[[Mapping[str, Any]], bytes] | None:
    """hashStruct for a struct of static fields only, computed directly; None otherwise.

    eth_account's general encoder walks the whole JSON type description on every call (about a
    millisecond); events are signed and checked one by one, so the fixed-width ``Checkpoint``
    and ``RecordCheckpoint`` structs take this path. A test holds it equal to eth_account's.
    """
    words = [(name, _word(kind)) for name, kind in TYPES[primary_type]]
    if any(word is None for _, word in words):
        return None
    typehash = keccak(text=type_string(primary_type))

    def hash_struct(message: Mapping[str, Any]) -> bytes:
        data = b"".join(word(message[name]) for name, word in words)  # type: ignore[misc]
        return keccak256(typehash + data)

    return hash_struct


_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


@cache
def _domain_separator(domain: Domain) -> bytes:
    return keccak(
        keccak(text=_DOMAIN_TYPE)
        + keccak(text=DOMAIN_NAME)
        + keccak(text=DOMAIN_VERSION)
        + domain.chain_id.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(domain.verifying_contract[2:])
    )


def typed_digest(primary_type: str, message: Mapping[str, Any], domain: Domain) -> bytes:
    """The EIP-712 digest ``keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))``."""
    encoder = _static_encoder(primary_type)
    if encoder is None:
        signable = encode_typed_data(full_message=typed_message(primary_type, message, domain))
        return bytes(_hash_eip191_message(signable))
    return keccak256(b"\x19\x01" + _domain_separator(domain) + encoder(message))


def sign_typed(
    account: LocalAccount, primary_type: str, message: Mapping[str, Any], domain: Domain
) -> bytes:
    """`account`'s 65-byte signature (r ‖ s ‖ v) over the typed message."""
    digest = typed_digest(primary_type, message, domain)
    return bytes(account.unsafe_sign_hash(Hash32(digest)).signature)


def recover_typed(
    primary_type: str, message: Mapping[str, Any], domain: Domain, signature: bytes
) -> str:
    """The checksummed address that made `signature` over the typed message."""
    digest = typed_digest(primary_type, message, domain)
    return str(Account._recover_hash(digest, signature=signature))


def recover_typed_address(
    primary_type: str, message: Mapping[str, Any], domain: Domain, signature: bytes
) -> str:
    """The lowercase address that made `signature` (r ‖ s ‖ v, v 27/28 or 0/1) over the typed
    message; ValueError if none can. Recovers with libsecp256k1 (coincurve) directly and skips
    the checksum: half the cost of `recover_typed`, for checking thousands of events."""
    digest = typed_digest(primary_type, message, domain)
    if len(signature) != 65 or signature[64] not in (0, 1, 27, 28):
        raise ValueError("a signature is 65 bytes ending in v = 27 or 28")
    recoverable = signature[:64] + bytes([signature[64] % 27])
    try:
        public = coincurve.PublicKey.from_signature_and_message(recoverable, digest, hasher=None)
    except Exception as error:  # coincurve raises its own errors for unrecoverable values
        raise ValueError(f"the signature recovers no key ({error})") from None
    return "0x" + keccak256(public.format(compressed=False)[1:])[12:].hex()


@dataclass(frozen=True, slots=True)
class Authorization:
    """The contracts' `Authorization` tuple: who signed a relayed write, or nobody."""

    signer: str = ZERO_ADDRESS
    nonce: int = 0
    deadline: int = 0
    signature: bytes = b""

    @classmethod
    def direct(cls) -> Authorization:
        """The write is made by the transaction's sender itself."""
        return cls()

    @classmethod
    def signed(
        cls,
        account: LocalAccount,
        primary_type: str,
        message: Mapping[str, Any],
        domain: Domain,
        *,
        nonce: int,
        deadline: int,
    ) -> Authorization:
        """`account`'s signature over `message` completed with `nonce` and `deadline`."""
        full = {**message, "nonce": nonce, "deadline": deadline}
        signature = sign_typed(account, primary_type, full, domain)
        return cls(signer=account.address, nonce=nonce, deadline=deadline, signature=signature)

    def as_tuple(self) -> tuple[str, int, int, bytes]:
        return (to_checksum_address(self.signer), self.nonce, self.deadline, self.signature)
