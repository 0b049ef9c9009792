"""Keccak-256, Ethereum's hash, at C speed.

`safe-pysha3` (Safe's maintained build of pysha3, the XKCP code) hashes 64 bytes in about 1 µs;
`eth_utils.keccak` through pycryptodome takes about 9. Signature recovery, EIP-712 digests, lot
keys and Merkle trees hash on every event of the write path, so this is the one they call.
"""

from __future__ import annotations

from sha3 import keccak_256


def keccak256(data: bytes) -> bytes:
    """The 32-byte Keccak-256 (Ethereum's, not NIST SHA3-256) of `data`."""
    return keccak_256(data).digest()
