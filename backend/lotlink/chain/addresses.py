"""Ethereum addresses in their EIP-55 (checksummed) form, cheaply."""

from __future__ import annotations

import functools

from eth_utils import to_checksum_address


@functools.lru_cache(maxsize=4096)
def checksum_address(address: str) -> str:
    """The EIP-55 form of `address`, cached: a batch or a capture names a handful of signers a
    thousand times, and eth_utils spends ~25 µs on each call (a keccak behind layers of
    validation)."""
    return to_checksum_address(address)
